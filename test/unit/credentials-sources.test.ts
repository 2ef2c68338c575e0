/**
 * Credential sources one by one: config.json entries (auth, username/password, identity tokens), the config
 * file's location, DOCKER_AUTH_CONFIG, and credential helpers that fail in each way a helper can.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore, normalizeAuthKey } from '../../src/adapters/registry/credentials.js';
import { RegistryError } from '../../src/adapters/registry/errors.js';
import { redact } from '../../src/util/redact.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function configDir(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'bi-credsrc-'));
  writeFileSync(join(dir, 'config.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const store = (content: unknown, env: NodeJS.ProcessEnv = {}) => new CredentialStore({ env: { DOCKER_CONFIG: configDir(content), ...env } });

let bin: string;
/** A docker-credential-<name> that records its stdin in <bin>/<name>.in and runs `script`. */
function helper(name: string, script: string): void {
  const file = join(bin, `docker-credential-${name}`);
  writeFileSync(file, `#!/bin/sh\nread server\necho "$1 $server" > "${bin}/${name}.in"\n${script}\n`);
  chmodSync(file, 0o755);
}

beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), 'bi-credhelpers-'));
  helper('userpass', `echo '{"ServerURL":"x","Username":"hu","Secret":"helper-pass-77"}'`);
  helper('token', `echo '{"Username":"<token>","Secret":"helper-identity-78"}'`);
  helper('nosecret', `echo '{"Username":"hu","Secret":""}'`);
  helper('garbage', 'echo not json');
  helper('envprobe', `echo "{\\"Username\\":\\"[$BI_CREDENTIAL_PROBE]\\",\\"Secret\\":\\"probe-secret-1\\"}"`);
  helper('crash', 'echo boom >&2; exit 4');
  helper('notfound-stdout', 'echo "credentials not found in native keychain"; exit 1');
  helper('notfound-stderr', 'echo "Credentials Not Found" >&2; exit 1');
});
const withHelpers = () => ({ PATH: `${bin}:/usr/bin:/bin` });

describe('config.json entries', () => {
  it('splits auth at the first colon and prefers it over username and password', async () => {
    const s = store({ auths: { 'r.example': { auth: b64('user:pa:ss'), username: 'other', password: 'other-pw' } } });
    expect(await s.get('r.example')).toEqual({ username: 'user', password: 'pa:ss' });
  });

  it('reads plain username and password, either alone', async () => {
    const s = store({ auths: { 'a.example': { username: 'ua', password: 'pw-a-123' }, 'b.example': { username: 'only' }, 'c.example': { password: 'only-pw-9' }, 'd.example': {} } });
    expect(await s.get('a.example')).toEqual({ username: 'ua', password: 'pw-a-123' });
    expect(await s.get('b.example')).toEqual({ username: 'only', password: undefined });
    expect(await s.get('c.example')).toEqual({ username: undefined, password: 'only-pw-9' });
    expect(await s.get('d.example')).toBeUndefined();
    expect(redact('x pw-a-123 only-pw-9')).toBe('x *** ***');
  });

  it('treats an empty auth as absent and an auth of ":" as no credentials', async () => {
    const s = store({ auths: { 'e.example': { auth: '', username: 'eu', password: 'epw-1234' }, 'f.example': { auth: b64(':') } } });
    expect(await s.get('e.example')).toEqual({ username: 'eu', password: 'epw-1234' });
    expect(await s.get('f.example')).toBeUndefined();
  });

  it('returns an identity token with the username, without a password', async () => {
    const s = store({ auths: { 'i.example': { auth: b64('iu:ignored-pw'), identitytoken: 'identity-from-file-1' } } });
    expect(await s.get('i.example')).toEqual({ username: 'iu', identityToken: 'identity-from-file-1' });
    expect(redact('identity-from-file-1 ignored-pw')).toBe('*** ***');
  });

  it('refuses an auth that is not user:secret, naming the registry', async () => {
    await expect(store({ auths: { 'g.example': { auth: b64('no-colon') } } }).get('g.example')).rejects.toThrow(
      /^the "auth" entry for g\.example in the Docker config is not base64 of user:secret$/,
    );
  });

  it('matches keys by host, Docker Hub by any of its names', () => {
    expect(normalizeAuthKey('HTTPS://Reg.Example:5000/v2/')).toBe('reg.example:5000');
    expect(normalizeAuthKey('registry-1.docker.io')).toBe('docker.io');
    expect(normalizeAuthKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeAuthKey('docker.io')).toBe('docker.io');
    expect(normalizeAuthKey('reg.example/path')).toBe('reg.example');
    expect(normalizeAuthKey('x.example/https://y')).toBe('x.example');
    expect(normalizeAuthKey('reg.example://x')).toBe('reg.example:');
  });

  it('asks each registry once, and keeps an explicit credential over every file', async () => {
    const dir = configDir({ auths: { 'r.example': { auth: b64('a:first-pass-1') } } });
    const s = new CredentialStore({ env: { DOCKER_CONFIG: dir } });
    const first = await s.get('r.example');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'r.example': { auth: b64('b:second-pass-2') } } }));
    expect(await s.get('r.example')).toBe(first);
    expect(await new CredentialStore({ env: { DOCKER_CONFIG: dir }, explicit: { 'other.example': { username: 'x', password: 'y' } } }).get('r.example')).toEqual({
      username: 'b',
      password: 'second-pass-2',
    });
  });

  it('registers explicit secrets at once', () => {
    new CredentialStore({ env: {}, explicit: { 'r.example': { username: 'u', password: 'explicit-pw-5', identityToken: 'explicit-idt-6' } } });
    expect(redact('explicit-pw-5 explicit-idt-6')).toBe('*** ***');
  });
});

describe('where the configs are', () => {
  it('reads $HOME/.docker/config.json without DOCKER_CONFIG', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bi-home-'));
    mkdirSync(join(home, '.docker'));
    writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'h.example': { auth: b64('hu:home-pw-1') } } }));
    expect(await new CredentialStore({ env: { HOME: home } }).get('h.example')).toEqual({ username: 'hu', password: 'home-pw-1' });
  });

  it('puts DOCKER_AUTH_CONFIG first and falls back to the file for other registries', async () => {
    const env = { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'a.example': { auth: b64('inline:inline-pw') } } }) };
    const s = store({ auths: { 'a.example': { auth: b64('file:file-pw') }, 'b.example': { auth: b64('file:file-pw-b') } } }, env);
    expect(await s.get('a.example')).toEqual({ username: 'inline', password: 'inline-pw' });
    expect(await s.get('b.example')).toEqual({ username: 'file', password: 'file-pw-b' });
    expect(await s.get('c.example')).toBeUndefined();
  });

  it('refuses a DOCKER_AUTH_CONFIG or a config.json that is not JSON', async () => {
    await expect(store({}, { DOCKER_AUTH_CONFIG: '{nope' }).get('x')).rejects.toThrow(/^DOCKER_AUTH_CONFIG is not valid JSON \(expected \{"auths": \{\.\.\.\}\}\)$/);
    await expect(store('{nope').get('x')).rejects.toThrow(/config\.json is not valid JSON: fix or remove it$/);
  });

  it('is anonymous without any config, and explains a config it cannot read', async () => {
    expect(await new CredentialStore({ env: { DOCKER_CONFIG: join(tmpdir(), 'bi-does-not-exist') } }).get('x')).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'bi-cfgdir-'));
    mkdirSync(join(dir, 'config.json'));
    const failed = new CredentialStore({ env: { DOCKER_CONFIG: dir } }).get('x');
    await expect(failed).rejects.toBeInstanceOf(RegistryError);
    await expect(failed).rejects.toThrow(new RegExp(`^cannot read ${join(dir, 'config\\.json')}: EISDIR$`));
  });
});

describe('credential helpers', () => {
  it('runs `docker-credential-<name> get` with the server on stdin, Docker Hub by its v1 URL', async () => {
    const { readFileSync } = await import('node:fs');
    const s = store({ credHelpers: { 'r.example:5000': 'userpass', 'https://index.docker.io/v1/': 'token' } }, withHelpers());
    expect(await s.get('r.example:5000')).toEqual({ username: 'hu', password: 'helper-pass-77' });
    expect(readFileSync(join(bin, 'userpass.in'), 'utf8')).toBe('get r.example:5000\n');
    expect(await s.get('docker.io')).toEqual({ identityToken: 'helper-identity-78' });
    expect(readFileSync(join(bin, 'token.in'), 'utf8')).toBe('get https://index.docker.io/v1/\n');
    expect(redact('helper-pass-77 helper-identity-78')).toBe('*** ***');
  });

  it('runs a helper with the store environment only, not the process one', async () => {
    process.env.BI_CREDENTIAL_PROBE = 'from-process';
    try {
      expect(await store({ credHelpers: { 'r.example': 'envprobe' } }, withHelpers()).get('r.example')).toEqual({ username: '[]', password: 'probe-secret-1' });
      expect(await store({ credHelpers: { 'r.example': 'envprobe' } }, { ...withHelpers(), BI_CREDENTIAL_PROBE: 'given' }).get('r.example')).toEqual({ username: '[given]', password: 'probe-secret-1' });
    } finally {
      delete process.env.BI_CREDENTIAL_PROBE;
    }
  });

  it('treats a helper without a secret, or one saying "not found" on stdout or stderr, as no credentials', async () => {
    for (const name of ['nosecret', 'notfound-stdout', 'notfound-stderr']) {
      expect(await store({ credHelpers: { 'r.example': name } }, withHelpers()).get('r.example')).toBeUndefined();
    }
  });

  it('falls back from credsStore to auths when the store has nothing', async () => {
    const s = store({ credsStore: 'notfound-stdout', auths: { 'r.example': { auth: b64('au:auths-pw-3') } } }, withHelpers());
    expect(await s.get('r.example')).toEqual({ username: 'au', password: 'auths-pw-3' });
    const helped = store({ credsStore: 'userpass', auths: { 'r.example': { auth: b64('au:auths-pw-3') } } }, withHelpers());
    expect(await helped.get('r.example')).toEqual({ username: 'hu', password: 'helper-pass-77' });
  });

  it('a credHelpers entry for the registry wins, and its "not found" does not fall back', async () => {
    const s = store({ credHelpers: { 'r.example': 'notfound-stdout' }, credsStore: 'userpass', auths: { 'r.example': { auth: b64('au:auths-pw-4') } } }, withHelpers());
    expect(await s.get('r.example')).toBeUndefined();
    const other = store({ credHelpers: { 'other.example': 'crash' }, auths: { 'r.example': { auth: b64('au:auths-pw-4') } } }, withHelpers());
    expect(await other.get('r.example')).toEqual({ username: 'au', password: 'auths-pw-4' });
  });

  it('names a helper that fails, with its exit code, or prints something that is not JSON', async () => {
    await expect(store({ credHelpers: { 'r.example': 'crash' } }, withHelpers()).get('r.example')).rejects.toThrow(/^credential helper docker-credential-crash failed for r\.example \(exit 4\)$/);
    await expect(store({ credHelpers: { 'r.example': 'garbage' } }, withHelpers()).get('r.example')).rejects.toThrow(
      /^credential helper docker-credential-garbage printed something that is not JSON for r\.example$/,
    );
    await expect(store({ credsStore: 'absent-helper' }, withHelpers()).get('r.example')).rejects.toThrow(
      /^credential helper docker-credential-absent-helper is configured for r\.example but is not installed \(put it on PATH or change the Docker config\)$/,
    );
  });
});
