import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { isLoopbackRegistry, parseReference } from '../../core/reference.js';
import { onInterrupt } from '../../util/cleanup.js';
import { buildahGlobalArgs, type EngineName } from './detect.js';
import { engineProcess } from './process.js';

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
    // Named before it exists, so an interruption can remove it whenever it comes.
    const container = `builder-images-exec-${randomBytes(6).toString('hex')}`;
    const removal = onInterrupt(() => execa('buildah', [...buildahGlobalArgs(env), 'rm', '--', container], { env, reject: false }));
    try {
      const pull = options.pull === 'never' ? '--pull=never' : '--pull';
      await engineProcess('buildah', [...buildahGlobalArgs(env), 'from', '--quiet', pull, '--name', container, ...tlsFlag(image, insecure), '--platform', platform, '--', image], { env });
      const r = await engineProcess('buildah', [...buildahGlobalArgs(env), 'run', '--isolation', 'chroot', ...volumeArgs(options.mounts), container, '--', ...argv], { env, reject: false, timeout });
      return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
    } finally {
      await removal.runNow();
    }
  }
  const pull = options.pull === 'never' ? ['--pull=never'] : [];
  const r = await engineProcess(engine, ['run', '--rm', '--platform', platform, ...pull, ...(engine === 'podman' ? tlsFlag(image, insecure) : []), ...volumeArgs(options.mounts), '--entrypoint', argv[0]!, '--', image, ...argv.slice(1)], { env, reject: false, timeout });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
