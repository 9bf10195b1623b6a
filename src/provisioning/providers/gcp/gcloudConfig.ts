/**
 * The gcloud CLI's own files, read as gcloud reads them, without running gcloud: the config folder
 * (`CLOUDSDK_CONFIG`, else `%APPDATA%\gcloud` on Windows, else `~/.config/gcloud`), the active configuration
 * (`CLOUDSDK_ACTIVE_CONFIG_NAME`, else the `active_config` file, else "default") and its properties
 * (`configurations/config_<name>`, an INI file: `[core] project, account`, `[compute] region, zone`), each
 * overridden by its `CLOUDSDK_<SECTION>_<PROPERTY>` variable as in gcloud.
 */

import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface GcloudEnvironment {
  env: NodeJS.ProcessEnv;
  homedir: string;
  platform: NodeJS.Platform;
}

export function defaultGcloudEnvironment(): GcloudEnvironment {
  return { env: process.env, homedir: os.homedir(), platform: process.platform };
}

/** The gcloud config folder, where the ADC file and the configurations live. */
export function gcloudConfigDir({ env, homedir, platform }: GcloudEnvironment): string {
  if (env.CLOUDSDK_CONFIG) return env.CLOUDSDK_CONFIG;
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(homedir, 'AppData', 'Roaming'), 'gcloud');
  return path.join(homedir, '.config', 'gcloud');
}

/** Where `gcloud auth application-default login` writes the user's Application Default Credentials. */
export function gcloudAdcFile(environment: GcloudEnvironment): string {
  return path.join(gcloudConfigDir(environment), 'application_default_credentials.json');
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A minimal INI reader for gcloud's properties files: `[section]` lines and `key = value` lines; `#`/`;` comments. */
export function parseProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  let section = '';
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1].trim().toLowerCase();
      continue;
    }
    const eq = line.search(/[=:]/);
    if (eq <= 0 || !section) continue;
    properties.set(`${section}/${line.slice(0, eq).trim().toLowerCase()}`, line.slice(eq + 1).trim());
  }
  return properties;
}

export interface GcloudConfiguration {
  /** The active configuration's name, and where that came from. */
  name: string;
  nameFrom: 'CLOUDSDK_ACTIVE_CONFIG_NAME' | 'active_config' | 'default';
  /** The configuration file read (it may not exist: a fresh gcloud has none). */
  file: string;
  /** `core/project`, `core/account`, `compute/region`, `compute/zone`, … with the environment's overrides applied. */
  get(property: string): { value: string; from: string } | undefined;
}

/** The active gcloud configuration. Never fails: missing files mean no properties. */
export function activeGcloudConfiguration(environment: GcloudEnvironment = defaultGcloudEnvironment()): GcloudConfiguration {
  const dir = gcloudConfigDir(environment);
  const fromEnv = environment.env.CLOUDSDK_ACTIVE_CONFIG_NAME?.trim();
  const fromFile = readText(path.join(dir, 'active_config'))?.trim();
  const name = fromEnv || fromFile || 'default';
  const nameFrom = fromEnv ? 'CLOUDSDK_ACTIVE_CONFIG_NAME' : fromFile ? 'active_config' : 'default';
  const file = path.join(dir, 'configurations', `config_${name}`);
  const properties = parseProperties(readText(file) ?? '');
  return {
    name,
    nameFrom,
    file,
    get(property) {
      const variable = `CLOUDSDK_${property.replace('/', '_').toUpperCase()}`;
      const override = environment.env[variable]?.trim();
      if (override) return { value: override, from: variable };
      const value = properties.get(property.toLowerCase());
      return value ? { value, from: `gcloud configuration "${name}" (${property})` } : undefined;
    },
  };
}
