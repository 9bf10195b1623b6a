// A run of the GCP state backend in its own process, for gcpState.test.ts: it takes the lock, writes a first state,
// says its generation, then writes a large second state (which the test's proxy holds in flight until it is killed).
import os from 'node:os';
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { emptyState } from '../../src/model/state';
import { gcpStateBackend } from '../../src/provisioning/providers/gcp/stateBackend';

export interface GcpStateChildConfig {
  apiEndpoint: string;
  projectId: string;
  region: string;
  environment: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.GCP_STATE_CHILD ?? '{}') as GcpStateChildConfig;
  const storage = new Storage({ projectId: config.projectId, apiEndpoint: config.apiEndpoint, authClient: new PassThroughClient() });
  const backend = await gcpStateBackend({ storage, projectId: config.projectId, region: config.region, environment: config.environment });
  await backend.acquireLock({ user: 'crashing', host: os.hostname(), pid: process.pid, startedAt: new Date().toISOString(), operation: 'apply' });
  const base = emptyState(config.environment, 'gcp');
  const v1 = await backend.commit({ ...base, serial: 1, updatedAt: new Date().toISOString() }, [], null);
  console.log(`first write: ${v1}`);
  // Large enough that the upload is a real body in flight, not one packet.
  const resources = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`gcp:r${i}`, { padding: 'x'.repeat(400) }]));
  await backend.commit({ ...base, serial: 2, updatedAt: new Date().toISOString(), resources } as unknown as typeof base, [], v1);
  console.log('second write done (the test should have killed this process before)');
}

if (process.env.GCP_STATE_CHILD) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
