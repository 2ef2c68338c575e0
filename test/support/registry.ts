/**
 * A real CNCF distribution registry for tests: the Debian `docker-registry` binary on a random 127.0.0.1 port
 * with temporary storage.
 *
 *   const reg = await startRegistry({ auth: 'none' | 'htpasswd' | 'token' });
 *   reg.host      // '127.0.0.1:PORT', use as the registry part of references
 *   reg.username, reg.password   // for htpasswd and token variants
 *   await reg.stop();
 *
 * Token auth: a small issuer on another loopback port signs RS256 JWTs (x5c header with a test certificate),
 * which the real registry verifies against its `auth.token.rootcertbundle`; the issuer checks Basic
 * credentials and grants exactly the scopes asked for (or none for a wrong password: the registry then denies).
 * REGISTRY_URL=host:port points the anonymous variant at an already-running registry instead.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type RegistryAuth = 'none' | 'htpasswd' | 'token';

export interface TestRegistry {
  host: string;
  url: string;
  auth: RegistryAuth;
  username: string;
  password: string;
  /** Token variant: scopes the issuer was asked for, in order. */
  tokenRequests: string[][];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startRegistry(options: { auth?: RegistryAuth } = {}): Promise<TestRegistry> {
  const auth = options.auth ?? 'none';
  if (process.env.REGISTRY_URL && auth === 'none') {
    const host = process.env.REGISTRY_URL.replace(/^https?:\/\//, '').replace(/\/$/, '');
    return { host, url: `http://${host}`, auth, username: '', password: '', tokenRequests: [], stop: async () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bi-registry-'));
  const port = await freePort();
  const username = 'tester';
  const password = `pw-${randomBytes(9).toString('hex')}`;
  const tokenRequests: string[][] = [];
  let issuer: Server | undefined;
  let authConfig = '';

  if (auth === 'htpasswd') {
    const line = execFileSync('htpasswd', ['-Bbn', username, password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), line);
    authConfig = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (auth === 'token') {
    const { server, port: issuerPort } = await startTokenIssuer(dir, username, password, tokenRequests);
    issuer = server;
    authConfig = [
      'auth:',
      '  token:',
      `    realm: http://127.0.0.1:${issuerPort}/token`,
      '    service: test-registry',
      '    issuer: test-issuer',
      `    rootcertbundle: ${join(dir, 'cert.pem')}`,
      '',
    ].join('\n');
  }

  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    authConfig,
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), config);

  // Its log goes to a file, not a pipe: the registry logs every 404 at error level, and a caller that blocks its
  // event loop (a bench timing the CLI with execFileSync) would leave a pipe undrained and stall the registry.
  const logFile = join(dir, 'registry.log');
  const logFd = openSync(logFile, 'w');
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', logFd] });
  closeSync(logFd);
  const host = `127.0.0.1:${port}`;
  await waitForRegistry(host, child, () => readFileSync(logFile, 'utf8').slice(-4000));

  return {
    host,
    url: `http://${host}`,
    auth,
    username,
    password,
    tokenRequests,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      await new Promise((r) => (issuer ? issuer.close(r) : r(undefined)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForRegistry(host: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${stderr()}`);
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`docker-registry did not start on ${host}: ${stderr()}`);
}

/** A JWT issuer the real registry trusts: RS256 with an x5c chain of one self-signed certificate. */
async function startTokenIssuer(dir: string, username: string, password: string, requests: string[][]): Promise<{ server: Server; port: number }> {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '2', '-subj', '/CN=test-issuer',
  ], { stdio: 'ignore' });
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const certDer = new X509Certificate(readFileSync(join(dir, 'cert.pem'))).raw.toString('base64');
  const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const scopes = url.searchParams.getAll('scope');
    requests.push(scopes);
    const header = req.headers.authorization ?? '';
    const [user, pass] = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString().split(':') : [];
    if (header && (user !== username || pass !== password)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"wrong credentials"}');
      return;
    }
    // Anonymous callers get a token with no access: the registry then denies, as a real one does.
    const access = header
      ? scopes.map((s) => {
          const [type, ...rest] = s.split(':');
          const actions = rest.pop()!.split(',');
          return { type, name: rest.join(':'), actions };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const jwtHeader = { alg: 'RS256', typ: 'JWT', x5c: [certDer] };
    const claims = { iss: 'test-issuer', sub: user ?? '', aud: 'test-registry', exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signingInput = `${b64url(JSON.stringify(jwtHeader))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(key).toString('base64url');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${signingInput}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}
