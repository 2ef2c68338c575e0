/**
 * A loopback HTTP proxy in front of a test registry that injects faults:
 *
 *   const proxy = await startFaultProxy(reg.host);
 *   proxy.inject({ match: /\/manifests\//, kind: 'status', status: 500, times: 2 });
 *   proxy.inject({ match: /\/blobs\/sha256/, method: 'GET', kind: 'rate-limit', retryAfter: 1 });
 *   proxy.inject({ match: /\/blobs\/sha256/, method: 'GET', kind: 'cut' });    // close mid-body
 *   proxy.inject({ match: /\/blobs\/sha256/, method: 'GET', kind: 'flip' });   // one byte changed
 *   proxy.inject({ match: /\/blobs\/uploads\//, kind: 'stall', times: 100 });    // never answered (until stop)
 *   proxy.host   // use instead of reg.host
 *   proxy.log    // every request seen: { method, path, status }
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Fault {
  match: RegExp;
  method?: string;
  kind: 'status' | 'rate-limit' | 'cut' | 'flip' | 'stall';
  status?: number;
  retryAfter?: number;
  /** How many matching requests get the fault (default 1). */
  times?: number;
}

export interface FaultProxy {
  host: string;
  log: { method: string; path: string; status: number | 'cut' | 'stalled' }[];
  inject(fault: Fault): void;
  clear(): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const faults: (Fault & { left: number })[] = [];
  const log: FaultProxy['log'] = [];
  const [upHost, upPort] = upstream.split(':');

  const take = (req: IncomingMessage) => {
    const f = faults.find((x) => x.left > 0 && x.match.test(req.url ?? '') && (!x.method || x.method === req.method));
    if (f) f.left--;
    return f;
  };

  const server: Server = createServer((req, res) => {
    const fault = take(req);
    const path = req.url ?? '/';
    if (fault?.kind === 'stall') {
      // Read the request, answer nothing: the client waits until it gives up or the proxy stops.
      log.push({ method: req.method!, path, status: 'stalled' });
      req.resume();
      return;
    }
    if (fault?.kind === 'status' || fault?.kind === 'rate-limit') {
      const status = fault.kind === 'rate-limit' ? 429 : (fault.status ?? 500);
      log.push({ method: req.method!, path, status });
      req.resume();
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      res.writeHead(status, headers).end(JSON.stringify({ errors: [{ code: status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN', message: 'injected' }] }));
      return;
    }
    const upstreamReq = httpRequest({ host: upHost, port: Number(upPort), method: req.method, path, headers: req.headers }, (up) => {
      log.push({ method: req.method!, path, status: fault?.kind === 'cut' ? 'cut' : up.statusCode! });
      res.writeHead(up.statusCode!, up.headers);
      if (fault?.kind === 'cut') {
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent === 0) {
            res.write(chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2))));
            sent++;
            setTimeout(() => res.socket?.destroy(), 20);
          }
        });
        return;
      }
      if (fault?.kind === 'flip') {
        let flipped = false;
        up.on('data', (chunk: Buffer) => {
          if (!flipped && chunk.length > 0) {
            chunk = Buffer.from(chunk);
            chunk[0] = chunk[0]! ^ 0xff;
            flipped = true;
          }
          res.write(chunk);
        });
        up.on('end', () => res.end());
        return;
      }
      up.pipe(res);
    });
    upstreamReq.on('error', () => res.socket?.destroy());
    req.pipe(upstreamReq);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    log,
    inject: (fault) => faults.push({ ...fault, left: fault.times ?? 1 }),
    clear: () => faults.splice(0),
    stop: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
