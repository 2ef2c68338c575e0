/**
 * Build one image for one platform and export it as an OCI image layout directory, so check and push read
 * the exact bytes that get published, whatever the engine; or, for buildah and podman, into the engine's storage
 * only (push checks the image's root there and lets the engine push it). Argument arrays only.
 *
 *   buildah: bud --isolation chroot (storage driver from BUILDAH_STORAGE_DRIVER, vfs by default), push oci:DIR
 *   docker:  buildx build --output type=oci,dest=DIR,tar=false (BuildKit; --builder for a remote builder);
 *            without buildx: the classic builder (TARGET* args passed by hand), docker save, converted to a layout
 *   podman:  build, push oci:DIR
 */
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import pLimit from 'p-limit';
import { platformBuildArgs } from '../../core/dockerfile/evaluate.js';
import { onInterrupt, perRun, tempDir } from '../../util/cleanup.js';
import { dockerArchiveToLayout } from './docker-save-layout.js';
import { buildahGlobalArgs, type EngineName } from './detect.js';
import type { StorageEngine } from './local-image.js';
import { engineProcess } from './process.js';

export interface BuildRequest {
  dockerfile: string;
  context: string;
  platform: string;
  /** Local image name in the engine. */
  localName: string;
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  /** docker: a remote BuildKit builder (docker buildx --builder NAME). */
  builder?: string;
  /** Directory to export the OCI layout to (must not exist yet); unset when the image stays in the engine. */
  layoutDir?: string;
  /** The images the build pulls (FROM, COPY --from…), resolved with its build args. */
  pulls?: string[];
  /** Registries the build pulls from over plain HTTP (loopback mirrors of the base images). */
  insecureRegistries?: string[];
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

class BuildError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

function flags(req: BuildRequest): string[] {
  return [
    ...Object.entries(req.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    ...Object.entries(req.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
  ];
}

async function run(bin: string, args: string[], req: BuildRequest): Promise<string> {
  const child = engineProcess(bin, args, { env: req.env ?? process.env, reject: false, all: true });
  let log = '';
  child.all?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    log += text;
    if (log.length > 200_000) log = log.slice(-100_000);
    for (const line of text.split('\n')) if (line.trim()) req.onLine?.(line);
  });
  const r = await child;
  if (r.exitCode !== 0) {
    const tail = log.trim().split('\n').slice(-5).join('\n');
    const notFound = (r as { code?: string }).code === 'ENOENT';
    throw new BuildError(notFound ? `${bin} is not installed` : `${bin} ${args[0] === '--storage-driver' ? args[2] : args[0]} failed for ${req.dockerfile} (${req.platform}), exit ${r.exitCode}:\n${tail}`, log);
  }
  return log;
}

/**
 * A registries.conf that marks only the given registries insecure (buildah and podman read it from
 * CONTAINERS_REGISTRIES_CONF), instead of turning TLS verification off for every pull.
 */
async function insecureRegistriesEnv(req: BuildRequest, dir: string): Promise<NodeJS.ProcessEnv> {
  const env = { ...(req.env ?? process.env) };
  if (!req.insecureRegistries?.length) return env;
  const file = join(dir, 'registries.conf');
  const entries = req.insecureRegistries.map((r) => `[[registry]]\nlocation = "${r}"\ninsecure = true\n`).join('\n');
  await writeFile(file, `unqualified-search-registries = ["docker.io"]\n\n${entries}`);
  return { ...env, CONTAINERS_REGISTRIES_CONF: file };
}

/** Run `fn` with the request's environment plus a registries.conf for its plain-HTTP registries. */
async function withRegistriesConf<R extends BuildRequest>(req: R, fn: (req: R) => Promise<void>): Promise<void> {
  const confDir = await tempDir('bi-regconf-');
  try {
    await fn({ ...req, env: await insecureRegistriesEnv(req, confDir.path) });
  } finally {
    await confDir.remove();
  }
}

export function buildToLayout(engine: EngineName, req: BuildRequest & { layoutDir: string }): Promise<void> {
  return withRegistriesConf(req, (r) => buildWith(engine, r));
}

/** Build into a daemonless engine's storage only (as `localName`): no export; see local-image.ts for what follows. */
export function buildInStorage(engine: StorageEngine, req: BuildRequest): Promise<void> {
  return withRegistriesConf(req, (r) => buildLocal(engine, r));
}

async function buildLocal(engine: StorageEngine, req: BuildRequest): Promise<void> {
  const leftovers = await workingContainerCleanup(engine, req.env);
  try {
    if (engine === 'buildah') {
      await run('buildah', [...buildahGlobalArgs(req.env), 'bud', '--isolation', 'chroot', '--platform', req.platform, '-f', req.dockerfile, '-t', req.localName, ...flags(req), '--', req.context], req);
    } else {
      await run('podman', ['build', '--platform', req.platform, '-f', req.dockerfile, '-t', req.localName, ...flags(req), '--', req.context], req);
    }
  } finally {
    leftovers.dismiss();
  }
}

/**
 * buildah and podman keep a build's working containers when they are killed (they have no name or label to find
 * them by), so an interruption removes the builder containers that appeared since the build started.
 */
async function workingContainerCleanup(engine: StorageEngine, env: NodeJS.ProcessEnv = process.env) {
  const before = new Set(await builderContainers(engine, env));
  return onInterrupt(async () => {
    const created = (await builderContainers(engine, env)).filter((id) => !before.has(id));
    if (created.length === 0) return;
    const rmArgs = engine === 'buildah' ? [...buildahGlobalArgs(env), 'rm', ...created] : ['rm', '--force', ...created];
    await execa(engine, rmArgs, { env, reject: false });
  });
}

async function builderContainers(engine: StorageEngine, env: NodeJS.ProcessEnv): Promise<string[]> {
  const args = engine === 'buildah' ? [...buildahGlobalArgs(env), 'containers', '--quiet', '--notruncate'] : ['ps', '--all', '--external', '--quiet', '--no-trunc'];
  const r = await execa(engine, args, { env, reject: false });
  return r.exitCode === 0 ? String(r.stdout).split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

async function buildWith(engine: EngineName, req: BuildRequest & { layoutDir: string }): Promise<void> {
  if (engine === 'buildah') {
    await buildLocal(engine, req);
    await run('buildah', [...buildahGlobalArgs(req.env), 'push', '--quiet', req.localName, `oci:${req.layoutDir}`], req);
    return;
  }
  if (engine === 'docker') {
    if (await hasBuildx(req.env)) {
      const builder = req.builder ? ['--builder', req.builder] : [];
      await run('docker', ['buildx', 'build', ...builder, '--platform', req.platform, '-f', req.dockerfile, '-t', req.localName, ...flags(req), '--output', `type=oci,dest=${req.layoutDir},tar=false`, req.context], req);
      return;
    }
    if (req.builder) throw new BuildError(`--builder ${req.builder} needs docker buildx, which is not installed here`, '');
    await classicDockerBuild(req);
    return;
  }
  await buildLocal(engine, req);
  await run('podman', ['push', req.localName, `oci:${req.layoutDir}`], req);
}

/** Whether `docker buildx` is there (asked once per run and daemon). */
function hasBuildx(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return perRun(`docker buildx ${env.DOCKER_HOST ?? ''}`, () => execa('docker', ['buildx', 'version'], { reject: false, env, timeout: 20_000 }).then((r) => r.exitCode === 0));
}

/** The build args BuildKit sets by itself and the classic builder does not (TARGETARCH-aware Dockerfiles need them). */
function targetArgs(platform: string): string[] {
  return Object.entries(platformBuildArgs(platform)).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
}

// The classic builder shares one reference store per daemon: builds of two platforms at once race on it, so a
// run builds one at a time per daemon.
function classicDockerBuild(req: BuildRequest & { layoutDir: string }): Promise<void> {
  const env = req.env ?? process.env;
  return perRun(`docker classic builds ${env.DOCKER_HOST ?? ''}`, () => pLimit(1))(() => classicDockerBuildNow(req));
}

async function classicDockerBuildNow(req: BuildRequest & { layoutDir: string }): Promise<void> {
  const env = { ...(req.env ?? process.env), DOCKER_BUILDKIT: '0' };
  const archive = join(dirname(req.layoutDir), 'docker-save.tar');
  const archiveRemoval = onInterrupt(() => rm(archive, { force: true }));
  await dropOtherPlatformBases(req, env);
  await run('docker', ['build', '--platform', req.platform, '-f', req.dockerfile, '-t', req.localName, ...targetArgs(req.platform), ...flags(req), req.context], { ...req, env }).catch((err: unknown) => {
    // A known limit of the classic builder: steps after FROM scratch commit images of the host's platform.
    if (err instanceof BuildError && /does not match the specified platform/.test(err.message)) {
      throw new BuildError(`${err.message}\nthe classic docker builder (no buildx here) cannot build FROM scratch for a foreign platform: install docker buildx, or use --engine buildah`, err.log);
    }
    throw err;
  });
  try {
    await run('docker', ['save', '-o', archive, req.localName], { ...req, env });
    await dockerArchiveToLayout(archive, req.layoutDir);
  } finally {
    await archiveRemoval.runNow();
  }
}

/**
 * The classic builder takes a FROM image that is already local whatever its platform (so the arm64 build after an
 * amd64 one of the same `base@sha256:index` would get amd64 layers). Untag such a base when its platform is not
 * the one wanted, so the build pulls the right one; images of the wanted platform are left alone.
 */
async function dropOtherPlatformBases(req: BuildRequest, env: NodeJS.ProcessEnv): Promise<void> {
  for (const base of req.pulls ?? []) {
    const r = await engineProcess('docker', ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', '--', base], { reject: false, env });
    if (r.exitCode === 0 && r.stdout.trim() !== req.platform.split('/').slice(0, 2).join('/')) {
      req.onLine?.(`${base} is local as ${r.stdout.trim()}; untagging it so the build pulls ${req.platform}`);
      await engineProcess('docker', ['image', 'rm', '--no-prune', '--', base], { reject: false, env });
    }
  }
}

/** Remove the local image the build left in the engine (best effort). */
export async function removeLocalImage(engine: EngineName, localName: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const args = engine === 'buildah' ? [...buildahGlobalArgs(env), 'rmi', '-f', localName] : ['rmi', '-f', localName];
  if (engine === 'docker' && (await hasBuildx(env))) return; // buildx with an OCI output leaves nothing in the daemon
  await execa(engine, args, { reject: false, env: env ?? process.env });
}
