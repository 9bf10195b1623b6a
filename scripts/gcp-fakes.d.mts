// Types for gcp-fakes.mjs, which stays plain JavaScript so `node scripts/gcp-fakes.mjs build` runs it without a build.

/** The cloud.google.com/go/pubsub/v2 release whose pstest is built (test/gcp/pstest/go.mod). */
export const PSTEST_VERSION: string;
/** The fake-gcs-server release built (test/gcp/fake-gcs-server/go.mod). */
export const FAKE_GCS_VERSION: string;
export const cacheDir: string;
export const pstestBin: string;
export const fakeGcsBin: string;

export function gcpFakesReady(): boolean;
export function buildGcpFakes(options?: { force?: boolean }): Promise<{ pstestBin: string; fakeGcsBin: string }>;
export function freePort(): Promise<number>;

export interface PubsubFake {
  /** 127.0.0.1:PORT, the value for PUBSUB_EMULATOR_HOST. */
  emulatorHost: string;
  host: '127.0.0.1';
  port: number;
  pid: number | undefined;
  /** Milliseconds from spawning to the "listening" line. */
  readyMs: number;
  version: string;
  /** What the process printed (the last 20 kB), for a failing test's message. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s. Safe to call twice. */
  stop(): Promise<void>;
}

export interface GcsFake {
  /** http://127.0.0.1:PORT, for `new Storage({ apiEndpoint })`. */
  apiEndpoint: string;
  port: number;
  pid: number | undefined;
  readyMs: number;
  version: string;
  output(): string;
  stop(): Promise<void>;
}

export function startPubsubFake(options?: { readyTimeoutMs?: number }): Promise<PubsubFake>;
export function startGcsFake(options?: { readyTimeoutMs?: number }): Promise<GcsFake>;
