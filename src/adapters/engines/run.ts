import { execa } from 'execa';
import { isLoopbackRegistry, parseReference } from '../../core/reference.js';
import { buildahGlobalArgs, type EngineName } from './detect.js';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function tlsFlag(image: string, insecure: string[]): string[] {
  try {
    const ref = parseReference(image);
    return isLoopbackRegistry(ref.registry) || insecure.includes(ref.registry) ? ['--tls-verify=false'] : [];
  } catch {
    return [];
  }
}

/** A host directory bound into the container. */
export interface BindMount {
  source: string;
  target: string;
  readonly: boolean;
}

export interface RunOptions {
  insecureRegistries?: string[];
  env?: NodeJS.ProcessEnv;
  mounts?: BindMount[];
  /** Kill the run after this long (ms). */
  timeout?: number;
  /** `never`: the image is already in the engine's storage (a fresh build), do not look for a newer one. */
  pull?: 'never';
}

function volumeArgs(mounts: BindMount[] = []): string[] {
  return mounts.flatMap((m) => ['--volume', `${m.source}:${m.target}:${m.readonly ? 'ro' : 'rw'}`]);
}

/** Run a command inside an image (pulled by the engine), for `check --exec` and `verify`. */
export async function runInImage(engine: EngineName, image: string, platform: string, argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const env = options.env ?? process.env;
  const insecure = options.insecureRegistries ?? [];
  const timeout = options.timeout;
  if (engine === 'buildah') {
    const from = await execa('buildah', [...buildahGlobalArgs(env), 'from', '--quiet', options.pull === 'never' ? '--pull=never' : '--pull', ...tlsFlag(image, insecure), '--platform', platform, image], { env });
    const container = from.stdout.trim().split('\n').pop()!;
    try {
      const r = await execa('buildah', [...buildahGlobalArgs(env), 'run', '--isolation', 'chroot', ...volumeArgs(options.mounts), container, '--', ...argv], { env, reject: false, timeout });
      return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
    } finally {
      await execa('buildah', [...buildahGlobalArgs(env), 'rm', container], { env, reject: false });
    }
  }
  const r = await execa(engine, ['run', '--rm', '--platform', platform, ...(options.pull === 'never' ? ['--pull=never'] : []), ...(engine === 'podman' ? tlsFlag(image, insecure) : []), ...volumeArgs(options.mounts), '--entrypoint', argv[0]!, image, ...argv.slice(1)], { env, reject: false, timeout });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
