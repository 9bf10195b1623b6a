// The PEM bundle of an RDS instance's CA (src/provisioning/providers/aws/rdsCa.ts), for Encore's tls_config.ca.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { rdsCaBundle } from '../../src/provisioning/providers/aws/rdsCa';

const subjects = (pem: string | null) => (pem ?? '').split(/(?<=-----END CERTIFICATE-----)\n/).filter((p) => p.trim()).map((p) => /^CN=(.*)$/m.exec(new X509Certificate(p).subject)?.[1]);

test('each CA identifier gives its own root for the instance\'s region', async () => {
  assert.deepEqual(subjects(await rdsCaBundle('eu-west-1', 'rds-ca-rsa2048-g1')), ['Amazon RDS eu-west-1 Root CA RSA2048 G1']);
  assert.deepEqual(subjects(await rdsCaBundle('us-east-1', 'rds-ca-rsa4096-g1')), ['Amazon RDS us-east-1 Root CA RSA4096 G1']);
  assert.deepEqual(subjects(await rdsCaBundle('eu-west-1', 'rds-ca-ecc384-g1')), ['Amazon RDS eu-west-1 Root CA ECC384 G1']);
  assert.deepEqual(subjects(await rdsCaBundle('eu-west-1', 'rds-ca-2019')), ['Amazon RDS eu-west-1 2019 CA', 'Amazon RDS Root 2019 CA']);
});

test('an unknown CA gets the region\'s whole bundle, without beta or preview CAs; an unknown region gets none', async () => {
  const bundle = subjects(await rdsCaBundle('eu-west-1', 'rds-ca-future-g9'));
  assert.ok(bundle.length >= 3, bundle.join(', '));
  assert.ok(bundle.every((cn) => cn?.startsWith('Amazon RDS eu-west-1 ')), bundle.join(', '));
  assert.equal(await rdsCaBundle('xx-nowhere-9', 'rds-ca-rsa2048-g1'), null);
  assert.equal(await rdsCaBundle('eu-west-1.*', undefined), null, 'the region is not a pattern');
});
