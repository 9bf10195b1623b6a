// Test equipment: Debian's podman (4.3.1 on bookworm), to prove a pushed image really runs. Configured as
// ../shared/notes/cloud-test-equipment.md says works on this kind of machine: runc (crun fails on its hybrid
// cgroups), the cgroupfs manager, explicit ulimits and the file events logger, in a containers.conf passed as
// CONTAINERS_CONF; and its own storage and run folders per test file, so nothing touches the machine's podman
// state or another test's. Containers use --network=host with the app bound to 127.0.0.1: traffic stays on loopback.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CONTAINERS_CONF = [
  '[containers]',
  'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
  '',
  '[engine]',
  'runtime = "runc"',
  'cgroup_manager = "cgroupfs"',
  'events_logger = "file"',
  '',
].join('\n');

export interface Podman {
  /** Runs `podman ARGS` with this instance's storage and configuration; rejects with its output when it fails. */
  run(args: string[], options?: { timeoutMs?: number }): Promise<string>;
  /** A container's output, stdout and stderr (`podman logs` writes each to its own). */
  logs(container: string): Promise<string>;
  version: string;
  dir: string;
  /** Removes every container and image of this instance and its folder. */
  stop(): Promise<void>;
}

/** Checks that podman and runc are installed, or throws with the apt line that installs them. */
export function podmanVersion(): string {
  const which = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  const runc = spawnSync('runc', ['--version'], { encoding: 'utf8' });
  if (which.error || which.status !== 0 || runc.error || runc.status !== 0) {
    throw new Error(
      'podman and runc are needed to run the pushed image (test equipment): install them with ' +
        '`apt-get install -y podman runc` (.ci/run does); ' +
        `podman: ${which.error?.message ?? which.stdout.trim()}, runc: ${runc.error?.message ?? runc.stdout.split('\n')[0]}`,
    );
  }
  return which.stdout.trim();
}

export function startPodman(): Podman {
  const version = podmanVersion();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'encore-podman-'));
  const conf = path.join(dir, 'containers.conf');
  writeFileSync(conf, CONTAINERS_CONF);
  for (const sub of ['root', 'run']) mkdirSync(path.join(dir, sub));
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const global = ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'run')];
  const exec = (args: string[], options: { timeoutMs?: number } = {}) =>
    new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile('podman', [...global, ...args], { env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`podman ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err }));
        else resolve({ stdout: stdout.trim(), stderr: stderr.trim() });
      });
    });
  const run = async (args: string[], options: { timeoutMs?: number } = {}) => (await exec(args, options)).stdout;
  return {
    run,
    async logs(container) {
      const { stdout, stderr } = await exec(['logs', container]);
      return [stdout, stderr].filter(Boolean).join('\n');
    },
    version,
    dir,
    async stop() {
      try {
        await run(['rm', '--all', '--force', '--time', '0']);
        // Unmounts the overlay layers, so the folder can be removed.
        await run(['system', 'reset', '--force']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
