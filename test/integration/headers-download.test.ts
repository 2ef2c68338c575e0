import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download } from '../../src/adapters/headers/download.js';
import { bodyDeadlineMs } from '../../src/adapters/http/guard.js';

const BODY = Buffer.alloc(300_000, 7);
const SHA = createHash('sha256').update(BODY).digest('hex');
let server: Server;
let base: string;
let dir: string;
let hits = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bi-download-'));
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/pkg.deb') return res.end(BODY);
    if (req.url === '/redirect') return res.writeHead(302, { location: '/pkg.deb' }).end();
    if (req.url === '/downgrade') return res.writeHead(302, { location: 'http://example.com/pkg.deb' }).end();
    if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': String(BODY.length) });
      res.write(BODY.subarray(0, 1000)); // then nothing
      return;
    }
    // A body that keeps coming: `bytes` every 50 ms, for as long as the client reads.
    const trickle = /^\/trickle\/(\d+)$/.exec(req.url ?? '');
    if (trickle) {
      res.writeHead(200);
      const timer = setInterval(() => res.write(Buffer.alloc(Number(trickle[1]), 1)), 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('headers download', () => {
  it('downloads, checks the sha256, caches, and serves the cache without a request', async () => {
    const cacheDir = join(dir, 'ok');
    const path = await download(`${base}/redirect`, { cacheDir, sha256: SHA });
    expect(await readFile(path)).toEqual(BODY);
    const before = hits;
    expect(await download(`${base}/redirect`, { cacheDir, sha256: SHA })).toBe(path);
    expect(hits).toBe(before);
  });

  it('rejects a wrong sha256 and leaves nothing in the cache', async () => {
    const cacheDir = join(dir, 'bad');
    await expect(download(`${base}/pkg.deb`, { cacheDir, sha256: 'f'.repeat(64) })).rejects.toThrow(/not the expected/);
    const [sub] = await readdir(cacheDir);
    expect(await readdir(join(cacheDir, sub!))).toEqual([]);
  });

  it('bounds size and idle time, refuses plain http off loopback and redirects that leave https', async () => {
    await expect(download(`${base}/pkg.deb`, { cacheDir: join(dir, 'big'), maxBytes: 1000 })).rejects.toThrow(/limit/);
    await expect(download(`${base}/stall`, { cacheDir: join(dir, 'stall'), idleTimeoutMs: 300 })).rejects.toThrow(/\/stall: stalled \(the body stalled: 1000 bytes in 0\.3 s\): aborted/);
    await expect(download('http://example.com/pkg.deb', { cacheDir: join(dir, 'x') })).rejects.toThrow(/only https/);
    await expect(download('https://user:pw@example.com/pkg.deb', { cacheDir: join(dir, 'x') })).rejects.toThrow(/credentials/);
    await expect(download(`${base}/downgrade`, { cacheDir: join(dir, 'x') })).rejects.toThrow(/only https/);
    await expect(download(`${base}/missing`, { cacheDir: join(dir, 'x') })).rejects.toThrow(/HTTP 404/);
  });

  it('takes a trickle below the minimum bytes per window for a stall', async () => {
    // 10 bytes every 50 ms: never 300 ms without data, but far below 64 KiB a window.
    await expect(download(`${base}/trickle/10`, { cacheDir: join(dir, 'slow'), idleTimeoutMs: 300 })).rejects.toThrow(/trickle\/10: stalled \(the body stalled: \d+ bytes in 0\.3 s\): aborted/);
  });

  it('ends a trickle above the floor at the overall deadline, and leaves no partial file', async () => {
    // 40 KiB every 50 ms passes every 200 ms window; the 1 s deadline ends it.
    const cacheDir = join(dir, 'deadline');
    await expect(download(`${base}/trickle/40960`, { cacheDir, idleTimeoutMs: 200, deadlineMs: 1000 })).rejects.toThrow(/trickle\/40960: the download took longer than its 1s deadline: aborted/);
    const [sub] = await readdir(cacheDir);
    expect(await readdir(join(cacheDir, sub!))).toEqual([]);
  });

  it('gives a download of unknown length the deadline of its size cap', async () => {
    expect(bodyDeadlineMs(1024 ** 3)).toBe(15 * 60_000 + 2048 * 1000);
    expect(bodyDeadlineMs(1)).toBe(15 * 60_000 + 1000);
    expect(bodyDeadlineMs(0)).toBe(15 * 60_000);
  });
});
