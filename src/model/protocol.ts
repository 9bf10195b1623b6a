/**
 * The language server's custom LSP messages, declared once and imported by both the client (src/extension/) and the
 * server (src/server/), as vscode-eslint and rust-analyzer do. The protocol package is imported from its
 * platform-neutral entry, so neither `vscode` nor a node transport comes along with it.
 */
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { AppModel } from './appModel';

/** One Encore app of the workspace, as the server sees it. */
export type AppModelEntry =
  /** A TypeScript app, analysed. */
  | { root: string; lang: 'typescript'; model: AppModel }
  /** A Go app (or an encore.app without `lang`, which Encore treats as Go): reported, never analysed wrongly. */
  | { root: string; lang: 'go'; notAnalysed: string }
  /** An encore.app that cannot be read, or a TypeScript app whose analysis failed; `error` says which. */
  | { root: string; error: string };

export interface AppModelParams {
  /** An app root, or a path inside an app (its innermost app is returned). All apps when absent. */
  root?: string;
}

export interface AppModelResult {
  apps: AppModelEntry[];
}

/** Client → server: the model of one app or of every app, with pending edits applied first. */
export const AppModelRequest = new RequestType<AppModelParams, AppModelResult, void>('encore/appModel');

export interface AppModelChangedParams {
  root: string;
}

/** Server → client: the model of the app at `root` changed (after an edit, a file change, or a (re)discovery). */
export const AppModelChangedNotification = new NotificationType<AppModelChangedParams>('encore/appModelChanged');

export type ServerState = 'starting' | 'ready' | 'analysing' | 'error';

export interface ServerStatusParams {
  state: ServerState;
  /** What the state is about, e.g. the analysis error. */
  message?: string;
}

/** Server → client: what the server is doing, for the status item. */
export const ServerStatusNotification = new NotificationType<ServerStatusParams>('encore/serverStatus');

export { REVEAL_RESOURCE_COMMAND, type RevealResourceArgs } from './revealResource';

/** Settings the server reads; the client sends them in `initializationOptions` and on every change. */
export interface ServerSettings {
  /** Quiet time after the last edit before the app is re-analysed, in milliseconds. */
  debounceMs: number;
}

export const DEFAULT_SERVER_SETTINGS: ServerSettings = { debounceMs: 150 };

/** Reads the settings from an untrusted value (initializationOptions or a configuration change), with defaults. */
export function readServerSettings(value: unknown): ServerSettings {
  const debounceMs = (value as { debounceMs?: unknown } | null | undefined)?.debounceMs;
  return {
    debounceMs:
      typeof debounceMs === 'number' && Number.isFinite(debounceMs) && debounceMs >= 0
        ? Math.min(debounceMs, 10_000)
        : DEFAULT_SERVER_SETTINGS.debounceMs,
  };
}
