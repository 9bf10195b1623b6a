// Types for registry.mjs, which stays plain JavaScript so `node scripts/registry.mjs build` runs without a build.
import type { GoTool } from './go-tool.mjs';

/** crane v0.22.1 (go-containerregistry): `crane registry serve`, `crane append`, `crane mutate`, … */
export const crane: GoTool;
/** distribution v3.1.2's registry, and the htpasswd writer beside it (`binaries.registry`, `binaries.htpasswd`). */
export const distribution: GoTool;
export function ensureCrane(): Promise<string>;
export function ensureDistribution(): Promise<string>;
export function ensureRegistryTools(): Promise<{ crane: string; registry: string; htpasswd: string }>;

export interface RegistryAuth {
  username: string;
  password: string;
  /** `basic` (default): distribution with htpasswd. `token`: distribution with bearer tokens from a token server. */
  scheme?: 'basic' | 'token';
  /** Token scheme only: grant pull, never push. */
  pullOnly?: boolean;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry part of an image reference. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  dir: string;
  log: string;
  kind: string;
  /** Token scheme only: how many token requests the token server answered, and how many it refused. */
  tokenStats?: { tokenRequests: number; refused: number };
  stop(): Promise<void>;
}

export function startRegistry(options?: { auth?: RegistryAuth; dir?: string; readyTimeoutMs?: number }): Promise<TestRegistry>;
