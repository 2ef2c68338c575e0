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
    const from = await execa('buildah', [...buildahGlobalArgs(env), 'from', '--quiet', '--pull', ...tlsFlag(image, insecure), '--platform', platform, image], { env });
    const container = from.stdout.trim().split('\n').pop()!;
    try {
      const r = await execa('buildah', [...buildahGlobalArgs(env), 'run', '--isolation', 'chroot', container, '--', ...argv], { env, reject: false });
      return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
    } finally {
      await execa('buildah', [...buildahGlobalArgs(env), 'rm', container], { env, reject: false });
    }
  }
  const r = await execa(engine, ['run', '--rm', '--platform', platform, ...(engine === 'podman' ? tlsFlag(image, insecure) : []), '--entrypoint', argv[0]!, image, ...argv.slice(1)], { env, reject: false });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
