/**
 * Guards of the registry client against a hostile or broken registry, each seen from outside: a stand-in registry
 * on 127.0.0.1 (Basic auth) and a second server on another 127.0.0.1 port playing a blob CDN.
 *   - credentials never follow a redirect to another host;
 *   - a HEAD whose digest differs from the one asked for is refused;
 *   - Retry-After is honoured only up to a cap;
 *   - a registered secret (the registry password) never reaches any output of the bundled CLI, even when the
 *     registry echoes it back in an error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DigestMismatchError, RegistryClient } from '../../src/adapters/registry/index.js';
import { MediaType } from '../../src/core/oci.js';
import { makeRepo } from '../support/cli.js';

const USER = 'guard';
const PASSWORD = `Pw-${randomBytes(12).toString('hex')}`;
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const BLOB = randomBytes(4096);
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: BLOB_DIGEST, size: BLOB.length }, layers: [] }));
const MANIFEST_DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
const OTHER_DIGEST = `sha256:${'e'.repeat(64)}`;

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('registry client guards against a hostile registry', () => {
  let registry: { server: Server; host: string };
  let cdn: { server: Server; host: string };
  /** Authorization headers the CDN host received (undefined: none). */
  const cdnAuthorizations: (string | undefined)[] = [];
  let rateLimited = 0;

  beforeAll(async () => {
    cdn = await listen((req, res) => {
      cdnAuthorizations.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BLOB.length) }).end(BLOB);
    });
    registry = await listen((req, res) => {
      if (req.headers.authorization !== BASIC) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="guard"', 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const url = req.url ?? '/';
      const manifestHeaders = { 'content-type': MediaType.OciManifest, 'content-length': String(MANIFEST.length) };
      if (url === '/v2/') res.writeHead(200).end('{}');
      else if (url.startsWith('/v2/r/blobs/')) res.writeHead(307, { location: `http://${cdn.host}/cdn/${BLOB_DIGEST}` }).end();
      else if (url === `/v2/r/manifests/${MANIFEST_DIGEST}`) res.writeHead(200, { ...manifestHeaders, 'docker-content-digest': OTHER_DIGEST }).end(req.method === 'HEAD' ? undefined : MANIFEST);
      else if (url === '/v2/r/manifests/slow' && rateLimited++ === 0) res.writeHead(429, { 'retry-after': '3600' }).end();
      else if (url === '/v2/r/manifests/slow') res.writeHead(200, { ...manifestHeaders, 'docker-content-digest': MANIFEST_DIGEST }).end(req.method === 'HEAD' ? undefined : MANIFEST);
      // A registry that echoes the caller's password in its error (a careless proxy does such things).
      else res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: `no such manifest for ${USER} with password ${PASSWORD}` }] }));
    });
  });
  afterAll(async () => {
    for (const s of [registry?.server, cdn?.server]) {
      s?.closeAllConnections();
      await new Promise((r) => s?.close(r));
    }
  });

  const client = (options: ConstructorParameters<typeof RegistryClient>[0] = {}) =>
    new RegistryClient({ credentials: { explicit: { [registry.host]: { username: USER, password: PASSWORD } } }, backoffMs: 10, ...options });

  it('follows a blob redirect to another host without the Authorization header', async () => {
    const got = Buffer.from(await client().getBlob({ registry: registry.host, repository: 'r' }, BLOB_DIGEST));
    expect(got.equals(BLOB)).toBe(true);
    expect(cdnAuthorizations.length).toBeGreaterThan(0);
    expect(cdnAuthorizations).toEqual(cdnAuthorizations.map(() => undefined));
  });

  it('refuses a HEAD that reports another digest than the one asked for', async () => {
    await expect(client().headManifest({ registry: registry.host, repository: 'r', digest: MANIFEST_DIGEST })).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('waits no longer than its cap when Retry-After asks for an hour', { timeout: 20_000 }, async () => {
    const head = await client({ maxRetryAfterMs: 100 }).headManifest({ registry: registry.host, repository: 'r', tag: 'slow' });
    expect(head.digest).toBe(MANIFEST_DIGEST);
    expect(rateLimited).toBe(2);
  });

  it('the bundled CLI never prints a registered secret, even when the registry echoes it', async () => {
    const { root, cleanup } = makeRepo({ 'builder-images.yaml': `repositories: [${registry.host}/r]\n` });
    try {
      const dockerConfig = mkdtempSync(join(tmpdir(), 'bi-guard-docker-'));
      writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { username: USER, password: PASSWORD } } }));
      const cli = join(import.meta.dirname, '../../bin/builder-images.js');
      const run = (...args: string[]) => execa('node', [cli, '--debug', '--cwd', root, ...args], { env: { DOCKER_CONFIG: dockerConfig }, reject: false });
      const outputs = [
        await run('check', '--gcc', '12.0.0', `${registry.host}/r:echo`),
        await run('check', '--format', 'json', '--gcc', '12.0.0', `${registry.host}/r:echo`),
      ];
      const [text, json] = outputs;
      expect(text!.exitCode).toBe(1);
      // The echoed error reached the output, with the password blanked out.
      expect(text!.stdout).toContain(`no such manifest for ${USER} with password ***`);
      expect(JSON.parse(json!.stdout)[0].error).toContain('password ***');
      for (const o of outputs) expect(`${o.stdout}\n${o.stderr}`).not.toContain(PASSWORD);
    } finally {
      cleanup();
    }
  });
});
