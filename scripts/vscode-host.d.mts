// Types for vscode-host.mjs, which stays plain JavaScript so `npm start` runs it without a build.
import type { ChildProcess } from 'node:child_process';

export const CODE_SERVER_VERSION: string;
export const cacheDir: string;
export const nodeBin: string;
export const quietSettings: Record<string, unknown>;

export interface Profile {
  dir: string;
  userDataDir: string;
  extensionsDir: string;
}

export interface RunningCodeServer {
  base: string;
  url(folder?: string): string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function ensureCodeServer(): { nodeBin: string; codeServerEntry: string };
export function prepareProfile(dir: string, settings?: Record<string, unknown>): Profile;
export function installExtension(profile: Profile, vsix: string): void;
export function freePort(): Promise<number>;
export function startCodeServer(options: {
  profile: Profile;
  folder: string;
  port: number;
  logFile: string;
  extraArgs?: string[];
  trust?: boolean;
  env?: Record<string, string>;
}): Promise<RunningCodeServer>;
export function packageExtension(repoRoot: string, outFile: string): string;
