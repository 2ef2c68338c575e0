/**
 * An image a build left in a daemonless engine's storage (buildah, podman; containers/storage): what it is, its
 * root file system without an export, and a push by the engine itself, which compresses and uploads in one
 * pipelined pass and mounts blobs it knows from its pulls.
 *
 * Root file system: `podman image mount` (no copy, whatever the storage driver) when podman is installed,
 * else `buildah from` + `buildah mount` (free on overlay; the vfs driver copies the image once).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Platform } from '../../core/oci.js';
import { parseReference } from '../../core/reference.js';
import { CliError } from '../../errors.js';
import { onInterrupt, tempDir } from '../../util/cleanup.js';
import { dockerAuthConfig, type Credential } from '../authn/index.js';
import { buildahGlobalArgs } from './detect.js';
import { engineProcess } from './process.js';

export type StorageEngine = 'buildah' | 'podman';

export const isStorageEngine = (engine: string): engine is StorageEngine => engine === 'buildah' || engine === 'podman';

/**
 * Run `bin` on the storage `builtBy` wrote: buildah's storage driver is set by flag (vfs by default here), so
 * podman reading a buildah-built image takes the same flag; podman's own builds use its configured driver.
 */
async function engineOutput(bin: StorageEngine, builtBy: StorageEngine, args: string[], env: NodeJS.ProcessEnv, what: string, fd3?: number): Promise<string> {
  const storage = builtBy === 'buildah' ? buildahGlobalArgs(env) : [];
  // Node's spawn hands any open descriptor to the child as fd 3; execa's types name only the literals 3-9.
  const stdio = fd3 === undefined ? undefined : (['pipe', 'pipe', 'pipe', fd3 as 3] as const);
  const r = await engineProcess(bin, [...storage, ...args], { env, reject: false, ...(stdio ? { stdio } : {}) });
  if ((r as { code?: string }).code === 'ENOENT') throw new CliError(`${bin} is not installed: cannot ${what}; install it (apt-get install ${bin}) or use --engine docker`);
  if (r.exitCode !== 0) throw new Error(`${bin} could not ${what}: ${String(r.stderr).trim().split('\n').pop() ?? `exit ${r.exitCode}`}`);
  return String(r.stdout).trim();
}

export interface LocalImageInfo {
  /** The config blob's digest (containers/storage names an image by it). */
  configDigest: string;
  platform: Platform;
  /** The config's Env and Labels (the check reads PATH and the declared flows from them). */
  env: string[];
  labels: Record<string, string>;
}

export async function inspectLocalImage(engine: StorageEngine, name: string, env: NodeJS.ProcessEnv = process.env): Promise<LocalImageInfo> {
  const format = engine === 'buildah' ? '{{.FromImageID}} {{.OCIv1.OS}} {{.OCIv1.Architecture}} {{.OCIv1.Variant}}' : '{{.Id}} {{.Os}} {{.Architecture}}';
  const args = engine === 'buildah' ? ['inspect', '--type', 'image', '--format', format, '--', name] : ['image', 'inspect', '--format', format, '--', name];
  const [id, os, architecture, variant] = (await engineOutput(engine, engine, args, env, `inspect ${name}`)).split(/\s+/);
  if (!id || !/^[a-f0-9]{64}$/.test(id.replace(/^sha256:/, ''))) throw new Error(`${engine} inspect ${name} gave no image id`);
  const platform: Platform = { os: os || 'linux', architecture: architecture || 'unknown' };
  if (variant) platform.variant = variant;
  return { configDigest: `sha256:${id.replace(/^sha256:/, '')}`, platform, ...(await inspectRunConfig(engine, name, env)) };
}

/** Env and Labels of a stored image, from the engine's JSON inspect (Go templates cannot quote them in buildah). */
async function inspectRunConfig(engine: StorageEngine, name: string, env: NodeJS.ProcessEnv): Promise<{ env: string[]; labels: Record<string, string> }> {
  const args = engine === 'buildah' ? ['inspect', '--type', 'image', '--', name] : ['image', 'inspect', '--', name];
  const text = await engineOutput(engine, engine, args, env, `inspect ${name}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${engine} inspect ${name} did not print JSON`);
  }
  const doc = (Array.isArray(parsed) ? parsed[0] : parsed) as { OCIv1?: { config?: RunConfig }; Config?: RunConfig } | undefined;
  const config = engine === 'buildah' ? doc?.OCIv1?.config : doc?.Config;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : []);
  const labels = Object.fromEntries(Object.entries(config?.Labels ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { env: strings(config?.Env), labels };
}

interface RunConfig {
  Env?: unknown;
  Labels?: Record<string, unknown> | null;
}

export interface MountedRoot {
  dir: string;
  /** How it was mounted, for progress lines. */
  how: string;
  release(): Promise<void>;
}

/**
 * The image's merged root file system, read-only by intent; `release` unmounts it (and drops a working container).
 * `via` forces a way (tests use it to cover the buildah one where podman is installed).
 */
export async function mountLocalImage(engine: StorageEngine, name: string, env: NodeJS.ProcessEnv = process.env, via?: 'podman' | 'buildah'): Promise<MountedRoot> {
  if (engine === 'podman' || via !== 'buildah') {
    // Without podman, or rootless (podman can only mount inside `podman unshare`), a buildah build falls back to
    // buildah mount.
    const unmount = () => engineOutput('podman', engine, ['image', 'unmount', '--', name], env, `unmount ${name}`).then(() => undefined);
    const mounted = await releasedOnInterrupt(unmount, () => engineOutput('podman', engine, ['image', 'mount', '--', name], env, `mount ${name}`)).catch((err: unknown) => {
      if (engine === 'podman' || via === 'podman') throw err;
      return undefined;
    });
    if (mounted) return { dir: mounted.value, how: 'podman image mount', release: mounted.release };
  }
  // Named by us before it exists, so an interruption can remove it whenever it comes.
  const container = `builder-images-check-${randomBytes(6).toString('hex')}`;
  const remove = () => engineOutput('buildah', engine, ['rm', '--', container], env, `remove the working container ${container}`).then(() => undefined);
  const opened = await releasedOnInterrupt(remove, async () => {
    await engineOutput('buildah', engine, ['from', '--pull=never', '--quiet', '--name', container, '--', name], env, `open ${name}`);
    return engineOutput('buildah', engine, ['mount', '--', container], env, `mount ${name}`);
  });
  return { dir: opened.value, how: 'buildah mount', release: opened.release };
}

/**
 * Run `make` with `undo` registered for an interruption first; `release` undoes it the normal way. When `make`
 * fails, what it may have made is undone at once.
 */
async function releasedOnInterrupt<T>(undo: () => Promise<void>, make: () => Promise<T>): Promise<{ value: T; release: () => Promise<void> }> {
  const handle = onInterrupt(undo);
  const release = () => {
    handle.dismiss();
    return undo();
  };
  try {
    return { value: await make(), release };
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
}

export interface EnginePushOptions {
  credential?: Credential;
  plainHttp: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Push a local image to `destination` (registry/repository:tag) with the engine; returns the manifest digest.
 * The credentials go in a private auth file (never on the command line) that no path names while the engine
 * runs: it is unlinked the moment it is opened, and the engine reads the open file as /dev/fd/3. A SIGKILL at any
 * point after that leaves no credential on disk; the kernel frees the file with the last descriptor.
 */
export async function pushLocalImage(engine: StorageEngine, name: string, destination: string, options: EnginePushOptions): Promise<string> {
  const env = options.env ?? process.env;
  const dir = await tempDir('bi-push-');
  try {
    const digestFile = join(dir.path, 'digest');
    const { registry } = parseReference(destination);
    const auth = await openUnlinked(join(dir.path, 'auth.json'), dockerAuthConfig(registry, options.credential));
    try {
      const args = ['push', '--quiet', '--authfile', '/dev/fd/3', '--digestfile', digestFile, `--tls-verify=${!options.plainHttp}`, '--', name, `docker://${destination}`];
      await engineOutput(engine, engine, args, env, `push ${name} to ${destination}`, auth.fd);
    } finally {
      await auth.close();
    }
    const digest = (await readFile(digestFile, 'utf8')).trim();
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new Error(`${engine} push to ${destination} reported no manifest digest`);
    return digest;
  } finally {
    await dir.remove();
  }
}

/** Write `text` to a new 0600 file, open it, and unlink it: only the returned descriptor reaches it. */
async function openUnlinked(path: string, text: string): Promise<FileHandle> {
  await writeFile(path, text, { mode: 0o600, flag: 'wx' });
  try {
    return await open(path, 'r');
  } finally {
    await unlink(path);
  }
}
