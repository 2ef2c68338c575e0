import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { isLoopbackRegistry, parseReference } from '../../core/reference.js';
import { onInterrupt } from '../../util/cleanup.js';
import { buildahGlobalArgs, type EngineName } from './detect.js';
import { engineProcess } from './process.js';
import { ociRuntime, ownHardLimits, pidNamespaceOf, reapNamespaces, watchNamespaces, type Sandbox } from './sandbox.js';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The wall-clock limit stopped it. */
  timedOut?: boolean;
  /** Processes of the sandboxed build still alive after it ended, killed then (a daemon it left). */
  reaped?: number;
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
  /** Run a foreign build: own namespaces, no capabilities, no network but the one given (see sandbox.ts). */
  sandbox?: Sandbox;
  /** Environment variables set inside the container (values as data, never in a shell string). */
  containerEnv?: Record<string, string>;
}

function volumeArgs(mounts: BindMount[] = []): string[] {
  return mounts.flatMap((m) => ['--volume', `${m.source}:${m.target}:${m.readonly ? 'ro' : 'rw'}`]);
}

function envArgs(env: Record<string, string> = {}): string[] {
  return Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
}

/** The namespace and capability flags buildah and podman share (docker spells the network its own way). */
function isolationArgs(engine: EngineName, sandbox: Sandbox): string[] {
  const network = sandbox.network.kind === 'none' ? 'none' : engine === 'docker' ? undefined : `ns:${sandbox.network.path}`;
  if (!network) throw new Error('verify: docker cannot join a network namespace by path; run the driver builder flow with podman or buildah');
  const caps = (sandbox.capabilities ?? []).flatMap((c) => ['--cap-add', c]);
  const pid = engine === 'docker' ? [] : ['--pid', 'private'];
  const uts = engine === 'docker' ? [] : ['--uts', 'private'];
  return [...pid, '--ipc', 'private', ...uts, '--network', network, '--cap-drop', 'ALL', ...caps];
}

/** Run a command inside an image (pulled by the engine), for `check --exec` and `verify`. */
export async function runInImage(engine: EngineName, image: string, platform: string, argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const env = options.env ?? process.env;
  const insecure = options.insecureRegistries ?? [];
  if (engine === 'buildah') return runWithBuildah(image, platform, argv, options, env, insecure);
  const pull = options.pull === 'never' ? ['--pull=never'] : [];
  const tls = engine === 'podman' ? tlsFlag(image, insecure) : [];
  if (!options.sandbox) {
    const r = await engineProcess(engine, ['run', '--rm', '--platform', platform, ...pull, ...tls, ...volumeArgs(options.mounts), ...envArgs(options.containerEnv), '--entrypoint', argv[0]!, '--', image, ...argv.slice(1)], { env, reject: false, timeout: options.timeout });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }
  // Named, so that a run the wall clock stopped is removed with whatever it still runs.
  const name = `builder-images-verify-${randomBytes(6).toString('hex')}`;
  const removal = onInterrupt(() => execa(engine, ['rm', '--force', '--', name], { env, reject: false }));
  const runtime = engine === 'podman' ? await ociRuntime(env) : undefined;
  const limits = engine === 'podman' ? await ownHardLimits() : {};
  const ulimits = [limits.nofile && `nofile=${limits.nofile}:${limits.nofile}`, limits.nproc && `nproc=${limits.nproc}:${limits.nproc}`].filter(Boolean).flatMap((u) => ['--ulimit', u as string]);
  const docker = engine === 'docker' ? ['--security-opt', 'no-new-privileges'] : [];
  try {
    const child = engineProcess(
      engine,
      [...(runtime ? ['--runtime', runtime] : []), 'run', '--rm', '--name', name, '--platform', platform, ...pull, ...tls, ...isolationArgs(engine, options.sandbox), ...docker, ...ulimits, ...volumeArgs(options.mounts), ...envArgs(options.containerEnv), '--entrypoint', argv[0]!, '--', image, ...argv.slice(1)],
      { env, reject: false },
    );
    // podman's and docker's containers are not our descendants (conmon, containerd-shim): ask the engine for its pid.
    const namespaces = new Set<string>();
    const asking = learnNamespace(engine, name, env, child).then((ns) => ns && namespaces.add(ns));
    const clock = wallClock(options.timeout, async () => {
      await execa(engine, ['rm', '--force', '--', name], { env, reject: false });
      await reapNamespaces(namespaces);
    }, child.pid);
    const r = await child;
    clock.stop();
    await asking;
    await execa(engine, ['rm', '--force', '--', name], { env, reject: false });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr), timedOut: clock.expired(), reaped: await reapNamespaces(namespaces) };
  } finally {
    await removal.runNow();
  }
}

/**
 * The wall-clock limit of a sandboxed run: when it expires, the container's processes go first (they hold the
 * engine's output pipes open: killing the engine alone would leave the run waiting on them), then the engine's
 * process group.
 */
function wallClock(ms: number | undefined, killContainer: () => Promise<void>, enginePid: number | undefined): { stop(): void; expired(): boolean } {
  let expired = false;
  const timer = ms
    ? setTimeout(() => {
        expired = true;
        void killContainer()
          .catch(() => undefined)
          .finally(() => {
            try {
              if (enginePid) process.kill(-enginePid, 'SIGKILL');
            } catch {
              // gone already
            }
          });
      }, ms)
    : undefined;
  return { stop: () => clearTimeout(timer), expired: () => expired };
}

/** The PID namespace of a named container while it runs (polled from the engine's inspect, read from /proc). */
async function learnNamespace(engine: EngineName, name: string, env: NodeJS.ProcessEnv, child: Promise<unknown>): Promise<string | undefined> {
  let done = false;
  void child.finally(() => (done = true));
  while (!done) {
    const r = await execa(engine, ['inspect', '--format', '{{.State.Pid}}', '--', name], { env, reject: false });
    const pid = Number(String(r.stdout).trim());
    if (r.exitCode === 0 && pid > 0) {
      const ns = await pidNamespaceOf(pid);
      if (ns && ns !== (await pidNamespaceOf('self'))) return ns;
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  return undefined;
}

async function runWithBuildah(image: string, platform: string, argv: string[], options: RunOptions, env: NodeJS.ProcessEnv, insecure: string[]): Promise<RunResult> {
  // Named before it exists, so an interruption can remove it whenever it comes.
  const container = `builder-images-exec-${randomBytes(6).toString('hex')}`;
  const removal = onInterrupt(() => execa('buildah', [...buildahGlobalArgs(env), 'rm', '--', container], { env, reject: false }));
  try {
    const pull = options.pull === 'never' ? '--pull=never' : '--pull';
    await engineProcess('buildah', [...buildahGlobalArgs(env), 'from', '--quiet', pull, '--name', container, ...tlsFlag(image, insecure), '--platform', platform, '--', image], { env });
    // chroot isolation shares the host's PID, network and IPC namespaces: a foreign build gets an OCI runtime.
    const runtime = options.sandbox ? await ociRuntime(env) : undefined;
    const isolation = options.sandbox ? ['--isolation', 'oci', ...(runtime ? ['--runtime', runtime] : []), ...isolationArgs('buildah', options.sandbox)] : ['--isolation', 'chroot'];
    const child = engineProcess('buildah', [...buildahGlobalArgs(env), 'run', ...isolation, ...volumeArgs(options.mounts), ...envArgs(options.containerEnv), container, '--', ...argv], { env, reject: false, timeout: options.sandbox ? undefined : options.timeout });
    const watch = options.sandbox ? watchNamespaces(child.pid) : undefined;
    const clock = watch ? wallClock(options.timeout, async () => void (await reapNamespaces(watch.seen)), child.pid) : undefined;
    const r = await child;
    clock?.stop();
    const reaped = watch ? await reapNamespaces(await watch.stop()) : undefined;
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr), timedOut: r.timedOut || clock?.expired(), reaped };
  } finally {
    await removal.runNow();
  }
}

