import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { runCli } from '../support/cli.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushRandomImage } from '../support/synthetic-images.js';

/** Command lines of the processes whose environment holds `entry`. */
function processesWith(entry: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry) ? [readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ')] : [];
      } catch {
        return [];
      }
    });
}

describe('credentials against a real token-auth registry', () => {
  let reg: TestRegistry;
  let helperDir: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' });
    helperDir = mkdtempSync(join(tmpdir(), 'bi-helper-'));
    const helper = join(helperDir, 'docker-credential-testhelper');
    writeFileSync(helper, `#!/bin/sh\nread server\n[ "$server" = "${reg.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"${reg.host}","Username":"${reg.username}","Secret":"${reg.password}"}'\n`);
    chmodSync(helper, 0o755);
  });
  afterAll(() => reg?.stop());

  it('a credential helper on PATH feeds the Bearer flow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bi-cfg-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'testhelper' } }));
    const client = new RegistryClient({ credentials: { env: { DOCKER_CONFIG: dir, PATH: `${helperDir}:${process.env.PATH}` } } });
    const ref = parseReference(`${reg.host}/cred/app:1`);
    const pushed = await pushRandomImage(client, ref);
    expect((await client.headManifest(ref)).digest).toBe(pushed.digest);
  });

  it('--debug output and errors never show the password, the token or Authorization values', async () => {
    const debug: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'bi-cfg-'));
    const auth = Buffer.from(`${reg.username}:${reg.password}`).toString('base64');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth } } }));
    const client = new RegistryClient({ credentials: { env: { DOCKER_CONFIG: dir } }, debug: (l) => debug.push(l) });
    const ref = parseReference(`${reg.host}/cred/app:1`);
    await client.headManifest(ref);
    await client.headManifest(parseReference(`${reg.host}/cred/app:missing`)).catch((e: Error) => debug.push(e.message));
    const all = debug.join('\n');
    expect(all).toContain(`HEAD http://${reg.host}/v2/cred/app/manifests/1`);
    expect(all).not.toContain(reg.password);
    expect(all).not.toContain(auth);
    expect(all).not.toMatch(/eyJ[\w-]+\./); // no JWT
  });

  /** The bundled CLI with a Docker config naming `helper` for the registry, and a marker to find what it started. */
  async function cliWithHelper(name: string, script: string, args: string[]) {
    const dir = mkdtempSync(join(tmpdir(), 'bi-cfg-'));
    writeFileSync(join(dir, `docker-credential-${name}`), `#!/bin/sh\nread server\n${script}\n`);
    chmodSync(join(dir, `docker-credential-${name}`), 0o755);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: name } }));
    const marker = `bi-helper-${name}-${process.pid}`;
    const env = { ...process.env, DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH}`, BI_TEST_MARKER: marker };
    // Not spawnSync: the token issuer answers from this process.
    const child = spawn(process.execPath, [resolve('bin/builder-images.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const hung = setTimeout(() => child.kill('SIGKILL'), 50_000);
    const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    clearTimeout(hung);
    return { status, stdout, stderr, survivors: processesWith(`BI_TEST_MARKER=${marker}`) };
  }

  it('a helper that answers but leaves a child holding its stdout does not hold the CLI', { timeout: 60_000 }, async () => {
    await pushRandomImage(new RegistryClient({ credentials: { explicit: { [reg.host]: { username: reg.username, password: reg.password } } } }), parseReference(`${reg.host}/cred/held:1`));
    const run = await cliWithHelper('holder', `echo '{"Username":"${reg.username}","Secret":"${reg.password}"}'\nsleep 600 &`, ['--timeout', '5', 'check', '--gcc', '12.0.0', `${reg.host}/cred/held:1`]);
    // The image was read with the helper's credential, down to its layer (random bytes, no tar).
    expect(run.stdout + run.stderr).not.toMatch(/credential helper|authentication|denied/);
    expect(run.stdout).toContain('layer 1 of');
    expect(run.survivors).toEqual([]);
  });

  it('a helper that never answers is stopped with what it started at --timeout, with a clear error', { timeout: 60_000 }, async () => {
    const run = await cliWithHelper('hangs', 'sleep 600 &\nsleep 600', ['--timeout', '2', 'check', '--gcc', '12.0.0', `${reg.host}/cred/app:1`]);
    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toContain(`credential helper docker-credential-hangs did not answer for ${reg.host} within 2 s`);
    expect(run.survivors).toEqual([]);
  });
});

describe('CLI errors are redacted', () => {
  it('an error carrying a registered secret prints ***', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bi-cli-'));
    writeFileSync(join(dir, 'builder-images.yaml'), 'repositories: [ghcr.io/a/b]\nfoo: bar\n');
    const out = await runCli(['--debug', 'lint'], dir);
    expect(out.code).toBe(2);
    expect(out.stderr).not.toMatch(/Authorization/i);
  });
});
