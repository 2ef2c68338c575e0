import { describe, expect, it } from 'vitest';
import { realmPolicy } from '../../src/adapters/registry/auth.js';
import { AttemptClock, guardBody, IdleTimeoutError, MIN_BYTES_PER_WINDOW } from '../../src/adapters/http/guard.js';
import { parseTimeout } from '../../src/commands/context.js';
import { assertDigest, isDigest, matchesDigest } from '../../src/core/digest.js';
import { MediaType, parseImageConfig, parseManifestBytes } from '../../src/core/oci.js';
import { UsageError } from '../../src/errors.js';

describe('digest grammar', () => {
  it.each([
    [`sha256:${'a'.repeat(64)}`, true],
    [`sha512:${'0'.repeat(128)}`, true],
    [`sha256:${'A'.repeat(64)}`, false],
    [`sha256:${'a'.repeat(63)}`, false],
    [`sha256:${'a'.repeat(65)}`, false],
    [`sha512:${'a'.repeat(64)}`, false],
    [`sha384:${'a'.repeat(96)}`, false],
    ['sha256:../../../../dev/zero', false],
    [`sha256:${'a'.repeat(64)}/../x`, false],
    [`sha256:${'a'.repeat(64)}\n`, false],
    ['', false],
    [42, false],
  ])('%s -> %s', (value, ok) => {
    expect(isDigest(value)).toBe(ok);
  });

  it('names where a bad digest came from', () => {
    expect(() => assertDigest('sha256:../x', 'index.json manifests[0]')).toThrow(/^index\.json manifests\[0\]: "sha256:\.\.\/x" is not a valid digest/);
  });

  it('verifies sha512 content as well as sha256', () => {
    const bytes = Buffer.from('hello');
    expect(matchesDigest(bytes, 'sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043')).toBe(true);
    expect(matchesDigest(bytes, `sha256:${'0'.repeat(64)}`)).toBe(false);
  });
});

describe('Bearer realm policy', () => {
  const https = { registry: 'reg.example', origin: 'https://reg.example', idleTimeoutMs: 1000 };
  const http = { registry: '127.0.0.1:5000', origin: 'http://127.0.0.1:5000', idleTimeoutMs: 1000 };
  it('gives credentials to an https realm on another host', () => {
    expect(realmPolicy('https://auth.example/token', https).sendCredentials).toBe(true);
  });
  it('refuses a plain-http realm for an https registry, even on its own host', () => {
    expect(() => realmPolicy('http://reg.example/token', https)).toThrow(/plain-http Bearer realm .*refused/);
  });
  it('gives a plain-http realm credentials only on the plain-http registry host itself', () => {
    expect(realmPolicy('http://127.0.0.1:5001/token', http).sendCredentials).toBe(true);
    expect(realmPolicy('http://evil.example/token', http).sendCredentials).toBe(false);
  });
  it('refuses realms that are not http(s) URLs', () => {
    expect(() => realmPolicy('file:///etc/passwd', https)).toThrow(/scheme file:/);
    expect(() => realmPolicy('not a url', https)).toThrow(/not a URL/);
  });
});

describe('--timeout', () => {
  it.each([
    [undefined, 30_000],
    ['30', 30_000],
    ['0.25', 250],
    ['86400', 86_400_000],
  ])('%s -> %i ms', (value, ms) => {
    expect(parseTimeout(value)).toBe(ms);
  });
  it.each(['0', '-1', 'abc', '1e3', '86401', ''])('%s is a usage error', (value) => {
    expect(() => parseTimeout(value)).toThrow(UsageError);
  });
});

describe('the stall guard on a response body', () => {
  /** A body with `chunks` ready at once, then (unless `end`) silence. */
  const response = (chunks: Uint8Array[], end: boolean) =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const c of chunks) controller.enqueue(c);
          if (end) controller.close();
        },
      }),
    );
  const drain = async (res: Response, pauseMs = 0) => {
    let n = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      n += chunk.length;
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    }
    return n;
  };

  it('does not blame the server for a slow consumer', async () => {
    const clock = new AttemptClock(50);
    const chunks = Array.from({ length: 4 }, () => new Uint8Array(10));
    expect(await drain(guardBody(response(chunks, true), clock), 120)).toBe(40);
  });

  it('fails a body that goes silent, with an IdleTimeoutError', async () => {
    const clock = new AttemptClock(50);
    await expect(drain(guardBody(response([new Uint8Array(10)], false), clock))).rejects.toBeInstanceOf(IdleTimeoutError);
  });

  it('fails a body that trickles less than the minimum per window', async () => {
    const clock = new AttemptClock(100);
    let timer: NodeJS.Timeout | undefined;
    const trickle = new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          timer = setInterval(() => controller.enqueue(new Uint8Array(1)), 10);
        },
        cancel: () => clearInterval(timer),
      }),
    );
    await expect(drain(guardBody(trickle, clock))).rejects.toThrow(/stalled: \d+ bytes in 0\.1 s/);
    clearInterval(timer);
    expect(MIN_BYTES_PER_WINDOW).toBeGreaterThan(100);
  });
});

describe('manifest and config validation', () => {
  it('refuses a manifest whose declared media type disagrees with the one sent', () => {
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }));
    expect(() => parseManifestBytes(bytes, MediaType.OciManifest, 'r/x:1')).toThrow(/^r\/x:1: the manifest says its media type is .*index.* but the registry sent/);
  });
  it('refuses media types it does not read', () => {
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 1, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' }));
    expect(() => parseManifestBytes(bytes, undefined, 'r/x:1')).toThrow(/unsupported manifest media type/);
  });
  it('names the field of a malformed config', () => {
    expect(() => parseImageConfig('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["x"]}}', 'cfg')).toThrow(/^cfg: malformed image config: rootfs\.diff_ids\[0\]: not a valid digest/);
    expect(() => parseImageConfig('{"os":"linux"}', 'cfg')).toThrow(/architecture/);
  });
});
