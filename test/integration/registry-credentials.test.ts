import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { runCli } from '../support/cli.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushRandomImage } from '../support/synthetic-images.js';

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
