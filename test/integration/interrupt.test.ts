/**
 * SIGINT / SIGTERM in the middle of a real `push` or `build` (the bundled CLI, real buildah and podman, a real
 * registry): the run exits 130 / 143 and leaves nothing behind: no temporary auth file, no working container, no
 * mount, no built image. Each run gets its own TMPDIR and containers storage, so what is left is exactly its own.
 *
 * Each phase is held open so the signal lands in it for sure: the build on an `ADD` whose URL never answers (the
 * working container exists then), the engine push on blob uploads a proxy never answers, and the check on a
 * `podman image mount` that does mount, then stays busy (a wrapper in front of the real podman, standing in for
 * a slow mount of a big image).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBuilderRepo } from '../support/builder-repo.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const BIN = resolve('bin/builder-images.js');
const STORAGE = ['--storage-driver', 'vfs'];

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** A private TMPDIR, containers storage and PATH for one CLI run. */
function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'bi-interrupt-'));
  const tmp = join(dir, 'tmp');
  const bin = join(dir, 'bin');
  mkdirSync(tmp);
  mkdirSync(bin);
  const storageConf = join(dir, 'storage.conf');
  writeFileSync(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/storage/graph"\nrunroot = "${dir}/storage/run"\n`);
  const env = { ...process.env, TMPDIR: tmp, CONTAINERS_STORAGE_CONF: storageConf, PATH: `${bin}:${process.env.PATH}` };
  const engine = (bin: 'buildah' | 'podman', ...args: string[]) => execFileSync(bin, [...STORAGE, ...args], { env, encoding: 'utf8' }).trim();
  return {
    dir,
    tmp,
    bin,
    env,
    containers: () => engine('buildah', 'containers', '--quiet'),
    images: () => engine('buildah', 'images', '--quiet'),
    mounts: () => engine('podman', 'image', 'mount'),
    /** Every entry builder-images made in TMPDIR, and every auth file anywhere below it. */
    ours: () => readdirSync(tmp, { recursive: true, encoding: 'utf8' }).filter((p) => p.startsWith('bi-') || p.endsWith('auth.json')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function startCli(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, exit };
}

/** The processes whose environment holds `marker` (a sandbox's own TMPDIR): everything that run started. */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`TMPDIR=${marker}\0`)) found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ')}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Wait (bounded) until nothing the run started is left; the survivors' command lines when some are. */
async function survivors(marker: string): Promise<string[]> {
  for (let i = 0; i < 200 && processesWith(marker).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return processesWith(marker);
}

async function until(what: string, run: Run, test: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (test()) return;
    if (run.child.exitCode !== null) throw new Error(`the CLI ended (${run.child.exitCode}) before ${what}:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}:\n${run.stderr()}`);
}

describe('interrupted push and build leave nothing behind', () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let root: string;
  let cleanupRepo: () => void;
  const boxes: ReturnType<typeof sandbox>[] = [];
  const runs: Run[] = [];

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.host);
    proxy.inject({ match: /^\/never-answered$/, kind: 'stall', times: 1000 });
    ({ root, cleanup: cleanupRepo } = makeBuilderRepo(`${reg.host}/builders`, {
      // A build that stays in its ADD step, with its working container open, until the run is interrupted.
      'images/builder-slow-x86_64_gcc12.0.0.Dockerfile': `FROM scratch\nARG TARGETARCH\nCOPY bin/\${TARGETARCH}/ /usr/bin/\nADD http://${proxy.host}/never-answered /slow\n`,
    }));
  });
  afterEach(() => {
    for (const r of runs.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    for (const b of boxes.splice(0)) b.cleanup();
  });
  afterAll(async () => {
    cleanupRepo?.();
    await proxy?.stop();
    await reg?.stop();
  });

  const box = () => {
    const b = sandbox();
    boxes.push(b);
    return b;
  };
  const cli = (args: string[], env: NodeJS.ProcessEnv) => {
    const r = startCli(['--cwd', root, ...args], env);
    runs.push(r);
    return r;
  };

  it('push, SIGTERM during the build: the working container, the image and the registries.conf are removed; exit 143', async () => {
    const b = box();
    const seen = proxy.log.length;
    const run = cli(['push', '--engine', 'buildah', 'builder-slow-x86_64_gcc12.0.0.Dockerfile'], b.env);
    await until('the build reaches its ADD step', run, () => proxy.log.slice(seen).some((l) => l.path === '/never-answered') && b.containers() !== '');
    expect(b.ours().some((p) => p.startsWith('bi-regconf-'))).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(143);
    expect(run.stderr()).toContain('interrupted by SIGTERM');
    expect(b.containers()).toBe('');
    expect(b.images()).toBe('');
    expect(b.ours()).toEqual([]);
  });

  it('push, SIGINT while the built image is mounted for its check: unmounted and removed; exit 130', async () => {
    const b = box();
    const podman = execFileSync('which', ['podman'], { encoding: 'utf8' }).trim();
    const marker = join(b.dir, 'mounted');
    writeFileSync(
      join(b.bin, 'podman'),
      `#!/bin/sh\ncase " $* " in\n  *" image mount "*builder-images-build*) "${podman}" "$@" || exit $?; touch "${marker}"; exec sleep 600;;\nesac\nexec "${podman}" "$@"\n`,
    );
    chmodSync(join(b.bin, 'podman'), 0o755);
    const run = cli(['push', '--engine', 'buildah', '--repo', `${reg.host}/mounted`, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], b.env);
    await until('the built image is mounted', run, () => existsSync(marker));
    expect(b.mounts()).not.toBe('');
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(b.mounts()).toBe('');
    expect(b.containers()).toBe('');
    expect(b.images()).toBe('');
    expect(b.ours()).toEqual([]);
  });

  it('push, SIGTERM during the engine push: the auth file holding the credentials is gone; exit 143', async () => {
    const b = box();
    proxy.inject({ match: /^\/v2\/pushed\/blobs\/uploads\//, kind: 'stall', times: 1000 });
    const run = cli(['push', '--engine', 'buildah', '--repo', `${proxy.host}/pushed`, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], b.env);
    await until('the engine uploads a blob', run, () => proxy.log.some((l) => l.path.startsWith('/v2/pushed/blobs/uploads/') && l.status === 'stalled'));
    // The auth file is open in the engine but unlinked: its directory (with the digest file to come) is all there is.
    expect(b.ours().some((p) => p.startsWith('bi-push-'))).toBe(true);
    expect(b.ours().some((p) => p.endsWith('auth.json'))).toBe(false);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(143);
    expect(b.ours()).toEqual([]);
    expect(b.containers()).toBe('');
    expect(b.images()).toBe('');
    expect(b.mounts()).toBe('');
  });

  it('build, SIGINT during the build: no half-written layout, container or image; exit 130', async () => {
    const b = box();
    const output = join(b.dir, 'out');
    const seen = proxy.log.length;
    const run = cli(['build', '--engine', 'buildah', '--output', output, 'builder-slow-x86_64_gcc12.0.0.Dockerfile'], b.env);
    await until('the build reaches its ADD step', run, () => proxy.log.slice(seen).some((l) => l.path === '/never-answered') && b.containers() !== '');
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(b.containers()).toBe('');
    expect(b.images()).toBe('');
    expect(b.ours()).toEqual([]);
    expect(existsSync(output) ? readdirSync(output) : []).toEqual([]);
  });

  it('push, SIGKILL during the engine push: no file holds the credential, the engine stops, its directory goes', async () => {
    const b = box();
    const secret = 'kill-9-secret-7f3a';
    const env = { ...b.env, DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from(`pusher:${secret}`).toString('base64') } } }) };
    proxy.inject({ match: /^\/v2\/killed\/blobs\/uploads\//, kind: 'stall', times: 1000 });
    const run = cli(['push', '--engine', 'buildah', '--repo', `${proxy.host}/killed`, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], env);
    await until('the engine uploads a blob', run, () => proxy.log.some((l) => l.path.startsWith('/v2/killed/blobs/uploads/') && l.status === 'stalled'));
    const encoded = Buffer.from(`pusher:${secret}`).toString('base64');
    const files = () => readdirSync(b.tmp, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(b.tmp, p)).isFile());
    const holding = () => files().filter((p) => readFileSync(join(b.tmp, p), 'latin1').includes(encoded));
    expect(holding()).toEqual([]);
    run.child.kill('SIGKILL');
    await run.exit;
    expect(await survivors(b.tmp)).toEqual([]);
    expect(b.ours()).toEqual([]);
  });

  it('build, SIGKILL during the build: buildah bud and what it runs stop with the CLI', async () => {
    const b = box();
    const seen = proxy.log.length;
    const run = cli(['build', '--engine', 'buildah', '--output', join(b.dir, 'out'), 'builder-slow-x86_64_gcc12.0.0.Dockerfile'], b.env);
    await until('the build reaches its ADD step', run, () => proxy.log.slice(seen).some((l) => l.path === '/never-answered') && b.containers() !== '');
    expect(processesWith(b.tmp).some((p) => p.includes(' bud '))).toBe(true);
    run.child.kill('SIGKILL');
    await run.exit;
    expect(await survivors(b.tmp)).toEqual([]);
    expect(b.ours()).toEqual([]);
  });

  it('a run removes what killed runs left in TMPDIR, and nothing of a live run or anyone else', async () => {
    const b = box();
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    const leftover = join(b.tmp, `bi-push-${dead.pid}-0123456789abcdef`);
    const live = join(b.tmp, `bi-push-${process.pid}-0123456789abcdef`);
    const foreign = join(b.tmp, 'bi-pushed-by-someone');
    for (const d of [leftover, live, foreign]) mkdirSync(d);
    writeFileSync(join(leftover, 'auth.json'), '{"auths":{}}');
    const run = cli(['lint'], b.env);
    await run.exit;
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(foreign)).toBe(true);
  });
});
