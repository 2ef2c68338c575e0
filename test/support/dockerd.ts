/**
 * A private Docker daemon for tests: `dockerd --storage-driver vfs --iptables=false --bridge=none` on its own
 * unix socket, data root and exec root in a temp folder (so it never touches a system daemon), stopped after.
 *
 *   const d = await startDockerd();   // throws when dockerd is not installed or does not come up
 *   process.env.DOCKER_HOST = d.host;
 *   await d.stop();
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export interface TestDockerd {
  /** unix:///… for DOCKER_HOST */
  host: string;
  stop(): Promise<void>;
}

export async function startDockerd(): Promise<TestDockerd> {
  // Short paths: the exec root holds unix sockets (108-byte limit).
  const dir = mkdtempSync('/tmp/bi-dk-');
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const child = spawn(
    'dockerd',
    ['--storage-driver', 'vfs', '--iptables=false', '--ip6tables=false', '--bridge=none', '-H', host, '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 150; i++) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
    if (failed) throw new Error(`dockerd could not start: ${failed.message} (apt-get install docker.io)`);
    if (child.exitCode !== null) break;
    const r = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { reject: false, env: { ...process.env, DOCKER_HOST: host } });
    if (r.exitCode === 0) return { host, stop };
  }
  await stop();
  throw new Error(`dockerd did not come up on ${host}:\n${log.trim().split('\n').slice(-10).join('\n')}`);
}
