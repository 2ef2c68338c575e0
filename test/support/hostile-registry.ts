/**
 * A registry that attacks its client, one mode per attack (beside the fault proxy, which only breaks an honest
 * one). It serves one small image (config + one layer + manifest) at `<host>/x/app:1`, wants credentials
 * (Basic, or Bearer through a token realm), and has a second server "elsewhere" (another origin: another port,
 * and for TLS other host names) that plays storage, a foreign token realm and a foreign upload target.
 *
 *   const h = await startHostileRegistry({ tls: false });
 *   h.mode = 'link-elsewhere';
 *   const client = new RegistryClient({ credentials: { explicit: { [h.host]: h.credential } }, fetch: h.fetch });
 *   h.requests   // every request either server saw: { server, method, url, authorization }
 *
 * With `tls: true` both servers speak HTTPS with a self-signed certificate for registry.test, auth.test and
 * 127.0.0.1; `h.fetch` trusts it and resolves the .test names to 127.0.0.1 (there is no DNS here). The plain
 * HTTP sink (`h.sinkOrigin`) stands for "the same host in clear text".
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

export type HostileMode =
  | 'honest'
  /** Every registry GET answers 307 to the same path on plain http (the sink). */
  | 'redirect-to-http'
  /** Blob GETs answer 307 to storage on another origin (the common, legitimate case). */
  | 'redirect-blob-elsewhere'
  /** The first tag page links the next one on another origin, absolutely. */
  | 'link-elsewhere'
  /** The tag page links itself. */
  | 'link-loop'
  /** Every tag page links a new one, forever. */
  | 'link-endless'
  /** Uploads start with a Location on another origin. */
  | 'location-elsewhere'
  /** Uploads start with a Location on another origin, which then asks for authentication with its own realm. */
  | 'location-elsewhere-challenges'
  /** Bearer auth with the realm on the elsewhere server (another host). */
  | 'realm-elsewhere'
  /** Bearer auth with a plain-http realm (the sink), for an https registry. */
  | 'realm-http'
  /** Manifests declared 5 MiB long. */
  | 'huge-manifest'
  /** Manifest bodies that never end (chunked, no length). */
  | 'endless-manifest'
  /** The config blob goes on past its descriptor's size, forever. */
  | 'endless-config'
  /** Manifest requests get no headers, ever. */
  | 'silent-headers'
  /** Manifest bodies trickle one byte every 100 ms. */
  | 'trickle-body'
  /** The first GET of the layer sends half of it, then goes silent; later ones honour Range. */
  | 'stall-blob-once'
  /** Layer GETs trickle one byte every 100 ms from where their Range starts. */
  | 'trickle-blob'
  /** HEAD by digest answers with another digest. */
  | 'head-other-digest'
  /** HEAD answers with a digest header that is a path. */
  | 'head-malformed-digest'
  /** Manifest GETs answer 429 with a Retry-After of an hour, once. */
  | 'retry-after-hour'
  /** The manifest is replaced by `h.manifestOverride` (any JSON text). */
  | 'override-manifest';

export interface HostileRequest {
  server: 'registry' | 'elsewhere' | 'sink';
  method: string;
  url: string;
  authorization?: string;
}

export interface HostileRegistry {
  /** host:port to put in references (registry.test:PORT with TLS, 127.0.0.1:PORT without). */
  host: string;
  mode: HostileMode;
  manifestOverride?: string;
  manifestMediaType: string;
  credential: { username: string; password: string };
  requests: HostileRequest[];
  /** Bytes written to the body of the last endless or huge answer before the client went away. */
  lastBodyBytesSent: number;
  image: { manifest: Buffer; digest: string; config: Buffer; configDigest: string; layer: Buffer; layerDigest: string; tags: string[] };
  elsewhereOrigin: string;
  sinkOrigin: string;
  /** fetch that trusts the test certificate and resolves *.test to 127.0.0.1 (the global fetch without TLS). */
  fetch: typeof fetch;
  stop(): Promise<void>;
}

const REPO = 'x/app';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function startHostileRegistry(options: { tls?: boolean } = {}): Promise<HostileRegistry> {
  const tls = options.tls ?? false;
  const dir = mkdtempSync(join(tmpdir(), 'bi-hostile-'));
  const cert = tls ? makeCertificate(dir) : undefined;
  const username = 'hostile-user';
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const token = `tok-${randomBytes(8).toString('hex')}`;

  const layer = randomBytes(1024);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: {} }, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }),
  );
  const tags = Array.from({ length: 5 }, (_, i) => `t${i}`);

  const listen = (handler: (req: IncomingMessage, res: ServerResponse) => void, secure: boolean): Promise<Server> =>
    new Promise((resolve) => {
      const server = secure ? createHttpsServer({ key: cert!.key, cert: cert!.cert }, handler) : createHttpServer(handler);
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  const portOf = (s: Server) => (s.address() as AddressInfo).port;

  const state: HostileRegistry = {
    host: '',
    mode: 'honest',
    manifestMediaType: OCI_MANIFEST,
    credential: { username, password },
    requests: [],
    lastBodyBytesSent: 0,
    image: { manifest, digest: sha256(manifest), config, configDigest: sha256(config), layer, layerDigest: sha256(layer), tags },
    elsewhereOrigin: '',
    sinkOrigin: '',
    fetch: globalThis.fetch,
    stop: async () => undefined,
  };
  const record = (server: HostileRequest['server'], req: IncomingMessage) =>
    state.requests.push({ server, method: req.method ?? 'GET', url: req.url ?? '/', authorization: req.headers.authorization });

  /** Write `chunk` until the client goes away or `total` bytes are out. */
  const flood = (res: ServerResponse, chunk: Buffer, total = Infinity) => {
    state.lastBodyBytesSent = 0;
    const pump = () => {
      while (state.lastBodyBytesSent < total) {
        state.lastBodyBytesSent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  };

  const registry = await listen((req, res) => {
    record('registry', req);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const mode = state.mode;
    const auth = req.headers.authorization;
    if (auth !== basic && auth !== `Bearer ${token}`) {
      const realm =
        mode === 'realm-elsewhere' ? `${state.elsewhereOrigin}/token` : mode === 'realm-http' ? `${state.sinkOrigin}/token` : undefined;
      req.resume();
      res.writeHead(401, { 'www-authenticate': realm ? `Bearer realm="${realm}",service="hostile"` : 'Basic realm="hostile"', 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"credentials please"}]}');
      return;
    }
    if (mode === 'redirect-to-http' && req.method === 'GET' && path !== '/v2/') {
      res.writeHead(307, { location: `${state.sinkOrigin}${req.url}` }).end();
      return;
    }
    if (path === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');

    const manifestMatch = new RegExp(`^/v2/${REPO}/manifests/(.+)$`).exec(path);
    if (manifestMatch) return serveManifest(req, res, decodeURIComponent(manifestMatch[1]!));
    const blobMatch = new RegExp(`^/v2/${REPO}/blobs/(sha256:[a-f0-9]{64})$`).exec(path);
    if (blobMatch) return serveBlob(req, res, blobMatch[1]!);
    if (path === `/v2/${REPO}/tags/list`) return serveTags(res, url);
    if (path === `/v2/${REPO}/blobs/uploads/` && req.method === 'POST') {
      req.resume();
      const id = randomBytes(6).toString('hex');
      const location = mode === 'location-elsewhere' || mode === 'location-elsewhere-challenges' ? `${state.elsewhereOrigin}/upload/${id}` : `/v2/${REPO}/blobs/uploads/${id}`;
      return void res.writeHead(202, { location, 'docker-upload-uuid': id }).end();
    }
    if (path.startsWith(`/v2/${REPO}/blobs/uploads/`)) return finishUpload(req, res, path);
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND","message":"nothing here"}]}');
  }, tls);

  function serveManifest(req: IncomingMessage, res: ServerResponse, ref: string): void {
    const mode = state.mode;
    if (req.method === 'PUT') {
      req.resume();
      return void res.writeHead(201, {}).end();
    }
    if (ref !== '1' && ref !== state.image.digest && mode !== 'head-other-digest') {
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}');
    }
    if (mode === 'silent-headers') return; // never answer: the client's idle limit must end it
    if (mode === 'retry-after-hour' && !(state as { retried?: boolean }).retried) {
      (state as { retried?: boolean }).retried = true;
      return void res.writeHead(429, { 'retry-after': '3600', 'content-type': 'application/json' }).end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
    }
    const body = mode === 'override-manifest' ? Buffer.from(state.manifestOverride ?? '') : manifest;
    const headers: Record<string, string | number> = { 'content-type': state.manifestMediaType, 'docker-content-digest': sha256(body) };
    if (req.method === 'HEAD') {
      if (mode === 'head-other-digest') headers['docker-content-digest'] = sha256('another manifest');
      if (mode === 'head-malformed-digest') headers['docker-content-digest'] = 'sha256:../../../etc/passwd';
      return void res.writeHead(200, { ...headers, 'content-length': body.length }).end();
    }
    if (mode === 'huge-manifest') {
      res.writeHead(200, { ...headers, 'content-length': 5 * 1024 * 1024 });
      return flood(res, Buffer.alloc(64 * 1024, 0x20), 5 * 1024 * 1024);
    }
    if (mode === 'endless-manifest') {
      res.writeHead(200, { 'content-type': OCI_MANIFEST });
      res.write('{"schemaVersion":2,"annotations":{"a":"');
      return flood(res, Buffer.alloc(64 * 1024, 0x61));
    }
    if (mode === 'trickle-body') {
      res.writeHead(200, { ...headers, 'content-length': body.length });
      let i = 0;
      const timer = setInterval(() => {
        if (i >= body.length || res.destroyed) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(body.subarray(i, i + 1));
        i++;
      }, 100);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': body.length }).end(body);
  }

  function serveBlob(req: IncomingMessage, res: ServerResponse, digest: string): void {
    req.resume();
    const blob = digest === state.image.configDigest ? config : digest === state.image.layerDigest ? layer : undefined;
    if (!blob) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}');
    if (state.mode === 'redirect-blob-elsewhere' && req.method === 'GET') {
      return void res.writeHead(307, { location: `${state.elsewhereOrigin}/storage/${digest}?signature=abc` }).end();
    }
    if (state.mode === 'stall-blob-once' && blob === layer && req.method === 'GET') {
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range) {
        const from = Number(range[1]);
        res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-length': blob.length - from, 'content-range': `bytes ${from}-${blob.length - 1}/${blob.length}` });
        return void res.end(blob.subarray(from));
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length });
      return void res.write(blob.subarray(0, blob.length / 2)); // and nothing more, ever
    }
    if (state.mode === 'trickle-blob' && blob === layer && req.method === 'GET') {
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      res.writeHead(from ? 206 : 200, { 'content-type': 'application/octet-stream', 'content-length': blob.length - from, ...(from ? { 'content-range': `bytes ${from}-${blob.length - 1}/${blob.length}` } : {}) });
      let i = from;
      const timer = setInterval(() => (i < blob.length && !res.destroyed ? res.write(blob.subarray(i, ++i)) : clearInterval(timer)), 100);
      return void res.on('close', () => clearInterval(timer));
    }
    if (state.mode === 'endless-config' && blob === config && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(config);
      return flood(res, Buffer.alloc(64 * 1024, 0x20));
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length, 'docker-content-digest': digest });
    res.end(req.method === 'HEAD' ? undefined : blob);
  }

  function serveTags(res: ServerResponse, url: URL): void {
    const page = Number(url.searchParams.get('page') ?? 0);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (state.mode === 'link-elsewhere' && page === 0) headers.link = `<${state.elsewhereOrigin}/v2/${REPO}/tags/list?page=1>; rel="next"`;
    if (state.mode === 'link-loop') headers.link = `</v2/${REPO}/tags/list?page=${page}>; rel="next"`;
    if (state.mode === 'link-endless') headers.link = `</v2/${REPO}/tags/list?page=${page + 1}>; rel="next"`;
    const pageTags = state.mode === 'link-elsewhere' ? tags.slice(0, 3) : tags;
    res.writeHead(200, headers).end(JSON.stringify({ name: REPO, tags: pageTags }));
  }

  function finishUpload(req: IncomingMessage, res: ServerResponse, path: string): void {
    req.resume();
    req.on('end', () => {
      if (req.method === 'PATCH') return void res.writeHead(202, { location: path, range: '0-0' }).end();
      if (req.method === 'PUT') return void res.writeHead(201, { location: path }).end();
      if (req.method === 'DELETE') return void res.writeHead(204).end();
      res.writeHead(405).end();
    });
  }

  // Another origin: storage for redirected blobs, a foreign token realm, a foreign upload target, page 2 of tags.
  const elsewhere = await listen((req, res) => {
    record('elsewhere', req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      req.resume();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
    }
    if (url.pathname.startsWith('/storage/')) {
      req.resume();
      const digest = url.pathname.slice('/storage/'.length);
      const blob = digest === state.image.configDigest ? config : digest === state.image.layerDigest ? layer : undefined;
      if (!blob) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length }).end(blob);
    }
    if (url.pathname === `/v2/${REPO}/tags/list`) {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: REPO, tags: tags.slice(3) }));
    }
    if (url.pathname.startsWith('/upload/')) {
      if (state.mode === 'location-elsewhere-challenges') {
        req.resume();
        return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${state.elsewhereOrigin}/token",service="evil"` }).end();
      }
      return finishUpload(req, res, url.pathname);
    }
    req.resume();
    res.writeHead(404).end();
  }, tls);

  // Plain http on the registry's own host: where a downgrade would land.
  const sink = await listen((req, res) => {
    record('sink', req);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  }, false);

  const registryHost = tls ? 'registry.test' : '127.0.0.1';
  const elsewhereHost = tls ? 'auth.test' : 'localhost';
  state.host = `${registryHost}:${portOf(registry)}`;
  state.elsewhereOrigin = `${tls ? 'https' : 'http'}://${elsewhereHost}:${portOf(elsewhere)}`;
  state.sinkOrigin = `http://${registryHost}:${portOf(sink)}`;
  if (tls) state.fetch = tlsFetch(cert!.cert);
  state.stop = async () => {
    for (const server of [registry, elsewhere, sink]) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return state;
}

function makeCertificate(dir: string): { key: string; cert: string } {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2',
    '-subj', '/CN=registry.test', '-addext', 'subjectAltName=DNS:registry.test,DNS:auth.test,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
}

/**
 * A fetch on node:http(s) that trusts `ca` and sends every *.test name to 127.0.0.1, so the client's own code
 * (manual redirects, abort signals, streamed bodies) runs over real TLS without DNS. Never follows redirects.
 */
export function tlsFetch(ca: string): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => (headers[key] = value));
    let body = init.body;
    if (body instanceof URLSearchParams) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      body = body.toString();
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers,
          ca,
          servername: /^\d/.test(url.hostname) ? undefined : url.hostname,
          signal: init.signal ?? undefined,
          lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
            opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as import('node:net').LookupFunction,
        },
        (res) => {
          const out = new Headers();
          for (const [key, value] of Object.entries(res.headers)) if (value !== undefined) out.set(key, Array.isArray(value) ? value.join(', ') : value);
          const status = res.statusCode ?? 500;
          const empty = method === 'HEAD' || [204, 304].includes(status);
          if (empty) res.resume();
          resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: out }));
        },
      );
      req.on('error', (err) => reject(init.signal?.aborted ? init.signal.reason : new TypeError('fetch failed', { cause: err })));
      if (body === undefined || body === null) req.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else Readable.fromWeb(body as import('node:stream/web').ReadableStream).pipe(req);
    });
  }) as typeof fetch;
}
