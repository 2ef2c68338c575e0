/**
 * Build one image for one platform and export it as an OCI image layout directory, so check and push read
 * the exact bytes that get published, whatever the engine. Argument arrays only.
 *
 *   buildah: bud --isolation chroot (storage driver from BUILDAH_STORAGE_DRIVER, vfs by default), push oci:DIR
 *   docker:  buildx build --output type=oci,dest=DIR,tar=false (BuildKit; --builder for a remote builder)
 *   podman:  build, push oci:DIR
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildahGlobalArgs } from '../sources/engine.js';
import type { EngineName } from './detect.js';

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
  /** Directory to export the OCI layout to (must not exist yet). */
  layoutDir: string;
  /** Registries the build pulls from over plain HTTP (loopback mirrors of the base images). */
  insecureRegistries?: string[];
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export class BuildError extends Error {
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
  const child = execa(bin, args, { env: req.env ?? process.env, reject: false, all: true });
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

export async function buildToLayout(engine: EngineName, req: BuildRequest): Promise<void> {
  const confDir = await mkdtemp(join(tmpdir(), 'bi-regconf-'));
  try {
    const env = await insecureRegistriesEnv(req, confDir);
    await buildWith(engine, { ...req, env });
  } finally {
    await rm(confDir, { recursive: true, force: true });
  }
}

async function buildWith(engine: EngineName, req: BuildRequest): Promise<void> {
  if (engine === 'buildah') {
    const g = buildahGlobalArgs(req.env);
    await run('buildah', [...g, 'bud', '--isolation', 'chroot', '--platform', req.platform, '-f', req.dockerfile, '-t', req.localName, ...flags(req), req.context], req);
    await run('buildah', [...g, 'push', '--quiet', req.localName, `oci:${req.layoutDir}`], req);
    return;
  }
  if (engine === 'docker') {
    const builder = req.builder ? ['--builder', req.builder] : [];
    await run('docker', ['buildx', 'build', ...builder, '--platform', req.platform, '-f', req.dockerfile, '-t', req.localName, ...flags(req), '--output', `type=oci,dest=${req.layoutDir},tar=false`, req.context], req);
    return;
  }
  await run('podman', ['build', '--platform', req.platform, '-f', req.dockerfile, '-t', req.localName, ...flags(req), req.context], req);
  await run('podman', ['push', req.localName, `oci:${req.layoutDir}`], req);
}

/** Remove the local image the build left in the engine (best effort). */
export async function removeLocalImage(engine: EngineName, localName: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const args = engine === 'buildah' ? [...buildahGlobalArgs(env), 'rmi', '-f', localName] : ['rmi', '-f', localName];
  if (engine === 'docker') return; // buildx with an OCI output leaves nothing in the daemon
  await execa(engine, args, { reject: false, env: env ?? process.env });
}
