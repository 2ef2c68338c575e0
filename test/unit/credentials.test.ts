import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChallenges } from '../../src/adapters/registry/auth.js';
import { CredentialStore, normalizeAuthKey } from '../../src/adapters/registry/credentials.js';
import { redact } from '../../src/util/redact.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function dockerConfig(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'bi-dockercfg-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(content));
  return dir;
}

/** A fake docker-credential-<name> on PATH: answers for one server, "not found" for the rest. */
function fakeHelper(dir: string, name: string, server: string, answer: object): void {
  const file = join(dir, `docker-credential-${name}`);
  writeFileSync(
    file,
    `#!/bin/sh\n[ "$1" = get ] || exit 3\nread server\nif [ "$server" = "${server}" ]; then echo '${JSON.stringify(answer)}'; exit 0; fi\necho "credentials not found in native keychain"; exit 1\n`,
  );
  chmodSync(file, 0o755);
}

describe('credentials in Docker order', () => {
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'bi-helpers-'));
    fakeHelper(bin, 'fake', 'helper.example:5000', { ServerURL: 'helper.example:5000', Username: 'hu', Secret: 'helper-secret-1' });
    fakeHelper(bin, 'store', 'https://index.docker.io/v1/', { ServerURL: 'https://index.docker.io/v1/', Username: '<token>', Secret: 'identity-token-9' });
    process.env.PATH = `${bin}:${process.env.PATH}`;
  });
  afterAll(() => {
    process.env.PATH = process.env.PATH!.replace(`${bin}:`, '');
  });

  it('normalises auth keys by host', () => {
    expect(normalizeAuthKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeAuthKey('http://Reg.Example:5000/v2/')).toBe('reg.example:5000');
    expect(normalizeAuthKey('ghcr.io')).toBe('ghcr.io');
  });

  it('reads auths (base64, full-URL keys), credHelpers over credsStore over auths, identity tokens', async () => {
    const dir = dockerConfig({
      auths: {
        'https://old.example/v1/': { auth: b64('olduser:old:pass:word') },
        'helper.example:5000': { auth: b64('ignored:because-helper') },
        'https://index.docker.io/v1/': { auth: b64('hub:hubpass') },
      },
      credHelpers: { 'helper.example:5000': 'fake' },
      credsStore: 'store',
    });
    const store = new CredentialStore({ env: { DOCKER_CONFIG: dir, PATH: process.env.PATH } });
    expect(await store.get('old.example')).toEqual({ username: 'olduser', password: 'old:pass:word' });
    expect(await store.get('helper.example:5000')).toEqual({ username: 'hu', password: 'helper-secret-1' });
    expect(await store.get('docker.io')).toEqual({ identityToken: 'identity-token-9' }); // credsStore wins over auths
    expect(await store.get('nobody.example')).toBeUndefined(); // helper says "not found": not an error
  });

  it('DOCKER_AUTH_CONFIG and explicit flags come first', async () => {
    const dir = dockerConfig({ auths: { 'r.example': { auth: b64('file:filepass') } } });
    const env = { DOCKER_CONFIG: dir, DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'r.example': { auth: b64('env:envpass') } } }) };
    expect(await new CredentialStore({ env }).get('r.example')).toEqual({ username: 'env', password: 'envpass' });
    const explicit = new CredentialStore({ env, explicit: { 'r.example': { username: 'flag', password: 'flagpass' } } });
    expect(await explicit.get('r.example')).toEqual({ username: 'flag', password: 'flagpass' });
  });

  it('explains a broken config or a missing helper without showing secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bi-badcfg-'));
    writeFileSync(join(dir, 'config.json'), '{ not json');
    await expect(new CredentialStore({ env: { DOCKER_CONFIG: dir } }).get('x.example')).rejects.toThrow(/config.json is not valid JSON/);
    const missing = dockerConfig({ credHelpers: { 'x.example': 'nonexistent-helper' } });
    await expect(new CredentialStore({ env: { DOCKER_CONFIG: missing, PATH: '/usr/bin' } }).get('x.example')).rejects.toThrow(/docker-credential-nonexistent-helper .* not installed/);
  });

  it('registers every secret it reads for redaction', async () => {
    const dir = dockerConfig({ auths: { 's.example': { auth: b64('u:sup3r-secret-value') } } });
    await new CredentialStore({ env: { DOCKER_CONFIG: dir } }).get('s.example');
    expect(redact('oops sup3r-secret-value leaked')).toBe('oops *** leaked');
    expect(redact('Authorization: Bearer abc.def.ghi')).toBe('Authorization: Bearer ***');
    expect(redact('https://user:pa55@host/x')).toBe('https://user:***@host/x');
  });
});

describe('WWW-Authenticate', () => {
  it('parses Bearer with scopes that contain host:port, and several challenges', () => {
    expect(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:127.0.0.1:5000/x:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:127.0.0.1:5000/x:pull,push' } },
    ]);
    expect(parseChallenges('Basic realm="a b", Bearer realm="https://t/",service=svc')).toEqual([
      { scheme: 'basic', params: { realm: 'a b' } },
      { scheme: 'bearer', params: { realm: 'https://t/', service: 'svc' } },
    ]);
  });
});
