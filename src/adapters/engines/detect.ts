/**
 * Which build engines work here, and how a foreign architecture would run (qemu binfmt or not).
 * Child processes get argument arrays through execa.
 */
import { readFileSync } from 'node:fs';
import { arch as hostArch } from 'node:os';
import { execa } from 'execa';
import { CliError } from '../../errors.js';
import type { Arch } from '../../core/names.js';

export type EngineName = 'docker' | 'buildah' | 'podman';
const ENGINE_ORDER: EngineName[] = ['docker', 'podman', 'buildah'];

/** buildah's storage options, so it finds the images the build step made (vfs by default here). */
export function buildahGlobalArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return ['--storage-driver', env.BUILDAH_STORAGE_DRIVER ?? 'vfs'];
}

async function engineWorks(engine: EngineName, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const args = engine === 'docker' ? ['version', '--format', '{{.Server.Version}}'] : engine === 'podman' ? ['info', '--format', '{{.Host.Arch}}'] : [...buildahGlobalArgs(env), 'version'];
  const r = await execa(engine, args, { reject: false, timeout: 20_000, env });
  return r.exitCode === 0;
}

/** The first engine that works, in the order docker, podman, buildah (or the one asked for, checked). */
export async function pickEngine(wanted: EngineName | 'auto', env: NodeJS.ProcessEnv = process.env): Promise<EngineName> {
  const candidates = wanted === 'auto' ? ENGINE_ORDER : [wanted];
  for (const engine of candidates) if (await engineWorks(engine, env)) return engine;
  if (wanted !== 'auto') {
    throw new CliError(`${wanted} does not work here (not installed, or its daemon is not running): install it, start it, or use --engine auto`);
  }
  throw new CliError('no build engine works here: install buildah (daemonless, apt-get install buildah), docker or podman');
}

function hostArchName(): Arch | undefined {
  const a = hostArch();
  return a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : undefined;
}

/** How a RUN step for `arch` executes here: natively, through a registered qemu binfmt handler, or not at all. */
export function emulationFor(arch: Arch): { mode: 'native' | 'qemu' | 'none'; detail: string } {
  if (hostArchName() === arch) return { mode: 'native', detail: 'native' };
  const handler = arch === 'aarch64' ? 'qemu-aarch64' : 'qemu-x86_64';
  try {
    const status = readFileSync(`/proc/sys/fs/binfmt_misc/${handler}`, 'utf8');
    if (status.startsWith('enabled')) return { mode: 'qemu', detail: `qemu binfmt (${handler})` };
    return { mode: 'none', detail: `the ${handler} binfmt handler is registered but disabled` };
  } catch {
    return { mode: 'none', detail: `no ${handler} binfmt handler is registered (install qemu-user-static and run scripts/enable-binfmt.sh)` };
  }
}
