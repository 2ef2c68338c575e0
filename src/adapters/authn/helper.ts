/**
 * Docker credential helpers: `docker-credential-<name> get`, the server URL on stdin, JSON {ServerURL, Username,
 * Secret} on stdout. A helper is someone else's program: it runs as its own process group with a deadline for
 * the whole exchange. When the deadline passes, or the helper exits while something it started still holds its
 * stdout open (a background child), the group is killed and our ends of the pipes closed, so nothing it left
 * running can hold the CLI.
 */
import { execa } from 'execa';
import { onInterrupt } from '../../util/cleanup.js';
import { registerSecret } from '../../util/redact.js';
import { RegistryError } from '../registry/errors.js';
import type { Credential } from './credential.js';

export interface HelperRequest {
  registry: string;
  /** What the helper is asked for (Docker Hub's key is its v1 URL). */
  serverUrl: string;
  env: NodeJS.ProcessEnv;
  /** The deadline for the whole exchange, children included. */
  timeoutMs: number;
}

/** After the helper itself exits, how long its pipes may stay open (held by a child it left) before the group goes. */
const EXIT_GRACE_MS = 1_000;
/** A credential is a few hundred bytes; a helper printing more is not answering. */
const MAX_OUTPUT_BYTES = 64 * 1024;

interface HelperOutput {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  missing: boolean;
}

export async function runHelper(name: string, request: HelperRequest): Promise<Credential | undefined> {
  const bin = `docker-credential-${name}`;
  const { registry } = request;
  const result = await runBounded(bin, request);
  if (result.missing) {
    throw new RegistryError(`credential helper ${bin} is configured for ${registry} but is not installed (put it on PATH or change the Docker config)`);
  }
  if (result.timedOut) {
    throw new RegistryError(`credential helper ${bin} did not answer for ${registry} within ${request.timeoutMs / 1000} s (stopped it and what it started)`);
  }
  if (result.exitCode !== 0) {
    if (/credentials not found/i.test(`${result.stdout} ${result.stderr}`)) return undefined;
    throw new RegistryError(`credential helper ${bin} failed for ${registry} (exit ${result.exitCode ?? '?'})`);
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new RegistryError(`credential helper ${bin} printed something that is not JSON for ${registry}`);
  }
  registerSecret(parsed.Secret);
  if (!parsed.Secret) return undefined;
  // Username "<token>" marks the secret as an identity (refresh) token.
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
  return { username: parsed.Username, password: parsed.Secret };
}

async function runBounded(bin: string, request: HelperRequest): Promise<HelperOutput> {
  const child = execa(bin, ['get'], { input: request.serverUrl, env: request.env, extendEnv: false, detached: true, reject: false, buffer: false, stdout: 'pipe', stderr: 'pipe' });
  const collect = (stream: NodeJS.ReadableStream | null) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream?.on('data', (chunk: Buffer) => {
      if (size < MAX_OUTPUT_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    return () => Buffer.concat(chunks).subarray(0, MAX_OUTPUT_BYTES).toString('utf8');
  };
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  let timedOut = false;
  let exitCode: number | undefined;
  const stop = () => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is gone already.
      }
    }
    // A child that left the group (setsid) may still hold the pipes: close our ends.
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  const interrupted = onInterrupt(stop, { first: true });
  const deadline = setTimeout(() => {
    timedOut = true;
    stop();
  }, request.timeoutMs);
  let grace: NodeJS.Timeout | undefined;
  child.once('exit', (code) => {
    exitCode = code ?? undefined;
    grace = setTimeout(stop, EXIT_GRACE_MS);
  });
  try {
    const result = await child;
    const missing = (result as { code?: string }).code === 'ENOENT';
    return { exitCode: exitCode ?? result.exitCode, stdout: stdout(), stderr: stderr(), timedOut: timedOut && exitCode === undefined, missing };
  } finally {
    clearTimeout(deadline);
    clearTimeout(grace);
    interrupted.dismiss();
  }
}
