// A TLS identity for the gRPC fakes on 127.0.0.1, so GAPIC clients connect to them exactly as to Google (TLS with
// call credentials from ADC, no insecure channel): a self-signed certificate for 127.0.0.1 and localhost, made with
// openssl, trusted by grpc-js through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH. grpc-js reads that variable when it is
// first loaded, so a test file imports this module before any Google client.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function makeIdentity(): { certPem: Buffer; keyPem: Buffer; caFile: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-gcp-tls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
  const result = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE',
  ], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`openssl could not make the test certificate (${result.error?.message ?? result.stderr.trim()}): install it (apt-get install openssl)`);
  }
  return { certPem: readFileSync(cert), keyPem: readFileSync(key), caFile: cert };
}

export const testTls = makeIdentity();
process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = testTls.caFile;
