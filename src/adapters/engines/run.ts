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

/** Run a command inside an image (pulled by the engine), for `check --exec`. */
export async function runInImage(
  engine: EngineName,
  image: string,
  platform: string,
  argv: string[],
  options: { insecureRegistries?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const env = options.env ?? process.env;
  const insecure = options.insecureRegistries ?? [];
  if (engine === 'buildah') {
    // Named before it exists, so an interruption can remove it whenever it comes.
    const container = `builder-images-exec-${randomBytes(6).toString('hex')}`;
    const removal = onInterrupt(() => execa('buildah', [...buildahGlobalArgs(env), 'rm', '--', container], { env, reject: false }));
    try {
      await engineProcess('buildah', [...buildahGlobalArgs(env), 'from', '--quiet', '--pull', '--name', container, ...tlsFlag(image, insecure), '--platform', platform, '--', image], { env });
      const r = await engineProcess('buildah', [...buildahGlobalArgs(env), 'run', '--isolation', 'chroot', container, '--', ...argv], { env, reject: false });
      return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
    } finally {
      await removal.runNow();
    }
  }
  const r = await engineProcess(engine, ['run', '--rm', '--platform', platform, ...(engine === 'podman' ? tlsFlag(image, insecure) : []), '--entrypoint', argv[0]!, '--', image, ...argv.slice(1)], { env, reject: false });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
