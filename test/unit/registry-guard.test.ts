/**
 * guard.ts on its own: bounded reads, the origin rules of redirects, the attempt clock, progress bodies. The
 * fetch behind fetchFollowing is a stand-in that answers from a script and records what it was sent.
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AttemptClock,
  fetchFollowing,
  formatBytes,
  guardBody,
  IdleTimeoutError,
  progressBody,
  readBounded,
  readErrorText,
  sameOrigin,
  HttpError,
  TooLargeError,
} from '../../src/adapters/http/guard.js';

/** A body of `parts`, then the end (or an error, or silence). */
function stream(parts: Uint8Array[], end: 'close' | 'error' | 'silent' = 'close') {
  let cancelled: unknown = 'not cancelled';
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < parts.length) controller.enqueue(parts[i++]!);
      else if (end === 'close') controller.close();
      else if (end === 'error') controller.error(new Error('reset by peer'));
      else return new Promise(() => undefined);
      return undefined;
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  return { body, cancelled: () => cancelled };
}

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('formatBytes and sameOrigin', () => {
  it('writes sizes from 1 MiB on in MiB, below in KiB', () => {
    expect(formatBytes(4 * 1024 * 1024)).toBe('4 MiB');
    expect(formatBytes(1024 * 1024)).toBe('1 MiB');
    expect(formatBytes(1024 * 1024 - 1024)).toBe('1023 KiB');
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
  });

  it('compares scheme, host and port', () => {
    expect(sameOrigin('http://a.example/x', new URL('http://a.example:80/y?z'))).toBe(true);
    expect(sameOrigin('http://a.example/x', 'https://a.example/x')).toBe(false);
    expect(sameOrigin('http://a.example:81/', 'http://a.example/')).toBe(false);
  });
});

describe('readBounded', () => {
  it('reads the whole body up to the limit exactly', async () => {
    const { body } = stream([bytes(3, 1), bytes(2, 2)]);
    expect(Array.from(await readBounded(new Response(body), 5, 'doc'))).toEqual([1, 1, 1, 2, 2]);
    expect(await readBounded(new Response(null), 5, 'doc')).toEqual(new Uint8Array());
    expect(Array.from(await readBounded(new Response(bytes(5), { headers: { 'content-length': '5' } }), 5, 'doc'))).toHaveLength(5);
  });

  it('refuses a declared length over the limit even without a body', async () => {
    await expect(readBounded(new Response(null, { headers: { 'content-length': '6' } }), 5, 'doc')).rejects.toBeInstanceOf(TooLargeError);
    expect(await readErrorText(new Response(null, { headers: { 'content-length': String(64 * 1024 + 1) } }))).toBe('');
  });

  it('refuses a declared length over the limit without reading, and cancels the body', async () => {
    const s = stream([bytes(1)]);
    const res = new Response(s.body, { headers: { 'content-length': String(4 * 1024 * 1024 + 1) } });
    const err = await readBounded(res, 4 * 1024 * 1024, 'r/x:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooLargeError);
    expect((err as Error).name).toBe('TooLargeError');
    expect((err as Error).message).toBe('r/x:1: the server sent more than 4 MiB, the limit for this kind of document; refused');
    expect(s.cancelled()).toBeUndefined();
  });

  it('stops a body that goes past the limit without a declared length, and cancels the rest', async () => {
    const s = stream([bytes(4), bytes(2), bytes(100)]);
    await expect(readBounded(new Response(s.body), 5, 'doc')).rejects.toThrow(new TooLargeError('doc: the server sent more than 0.0048828125 KiB, the limit for this kind of document; refused'));
    expect(s.cancelled()).toBeUndefined();
  });

  it('passes a broken body on as it came, or as the clock explains it', async () => {
    await expect(readBounded(new Response(stream([bytes(1)], 'error').body), 5, 'doc')).rejects.toThrow('reset by peer');
    const clock = new AttemptClock(1000);
    await expect(readBounded(new Response(stream([bytes(1)], 'error').body), 5, 'doc', clock)).rejects.toThrow('reset by peer');
    const stalled = new AttemptClock(1000);
    const s = stream([bytes(1)], 'silent');
    const reading = readBounded(new Response(s.body), 5, 'doc', stalled);
    stalled.abort('no answer');
    const err = await reading.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdleTimeoutError);
    expect((err as Error).message).toBe('no answer');
    expect(s.cancelled()).toBeInstanceOf(IdleTimeoutError);
  });

  it('stops listening to the clock once it is done', async () => {
    const clock = new AttemptClock(1000);
    const s = stream([bytes(1)]);
    const reading = readBounded(new Response(s.body), 5, 'doc', clock);
    expect(getEventListeners(clock.signal, 'abort')).toHaveLength(1);
    await reading;
    expect(getEventListeners(clock.signal, 'abort')).toHaveLength(0);
    clock.abort('later');
    expect(s.cancelled()).toBe('not cancelled');
  });

  it('reads an error body as text, and gives up quietly on one over 64 KiB', async () => {
    expect(await readErrorText(new Response('{"errors":[]}'))).toBe('{"errors":[]}');
    expect(await readErrorText(new Response('x'.repeat(64 * 1024)))).toHaveLength(64 * 1024);
    expect(await readErrorText(new Response('x'.repeat(64 * 1024 + 1)))).toBe('');
    expect(await readErrorText(new Response(stream([bytes(1)], 'error').body))).toBe('');
  });
});

describe('AttemptClock', () => {
  it('aborts its signal once, with an IdleTimeoutError that explains any later error', () => {
    const clock = new AttemptClock(1234.5678);
    const err = new Error('other');
    expect(clock.signal.aborted).toBe(false);
    expect(clock.explain(err)).toBe(err);
    clock.abort('first');
    clock.abort('second');
    const reason = clock.explain(err) as IdleTimeoutError;
    expect(reason).toBeInstanceOf(IdleTimeoutError);
    expect([reason.name, reason.message]).toEqual(['IdleTimeoutError', 'first']);
    expect(clock.signal.reason).toBe(reason);
  });

  it('waits the time it is armed for', async () => {
    const clock = new AttemptClock(1000);
    clock.arm(1000);
    await new Promise((r) => setTimeout(r, 10));
    expect(clock.signal.aborted).toBe(false);
    clock.disarm();
  });

  it('aborts when an armed countdown runs out, saying how long it waited, and not once disarmed', async () => {
    const clock = new AttemptClock(1234.5678);
    clock.arm(-5);
    await new Promise((r) => setTimeout(r, 5));
    expect((clock.signal.reason as Error).message).toBe('no complete answer within 1.235 s');
    const quiet = new AttemptClock(1);
    quiet.arm(1);
    quiet.disarm();
    const custom = new AttemptClock(1);
    let called = 0;
    custom.arm(1, () => called++);
    custom.arm(1, () => (called += 10));
    await new Promise((r) => setTimeout(r, 10));
    expect(quiet.signal.aborted).toBe(false);
    expect(called).toBe(10);
    expect(custom.signal.aborted).toBe(false);
  });

  it('never keeps the process alive with its countdown', () => {
    const clock = new AttemptClock(60_000);
    clock.arm(60_000);
    expect((clock as unknown as { timer: NodeJS.Timeout }).timer.hasRef()).toBe(false);
    clock.disarm();
  });
});

describe('guardBody', () => {
  it('leaves a response without a body as it is, and disarms the clock', async () => {
    const clock = new AttemptClock(1);
    clock.arm(1);
    const res = new Response(null, { status: 204 });
    expect(guardBody(res, clock)).toBe(res);
    await new Promise((r) => setTimeout(r, 10));
    expect(clock.signal.aborted).toBe(false);
  });

  it('keeps status and headers, passes the body through, and stops the clock at its end', async () => {
    const clock = new AttemptClock(20);
    clock.arm(20);
    const res = guardBody(new Response(stream([bytes(2), bytes(3)]).body, { status: 206, statusText: 'Partial', headers: { 'x-a': 'b' } }), clock);
    expect([res.status, res.statusText, res.headers.get('x-a')]).toEqual([206, 'Partial', 'b']);
    expect(getEventListeners(clock.signal, 'abort')).toHaveLength(1);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([1, 1, 1, 1, 1]));
    expect(getEventListeners(clock.signal, 'abort')).toHaveLength(0);
    const arm = vi.spyOn(clock, 'arm');
    await new Promise((r) => setTimeout(r, 60));
    expect(arm).not.toHaveBeenCalled();
    expect(clock.signal.aborted).toBe(false);
  });

  it('passes a broken body on, and a cancel through to the source', async () => {
    const broken = guardBody(new Response(stream([bytes(1)], 'error').body), new AttemptClock(1000));
    await expect(broken.arrayBuffer()).rejects.toThrow('reset by peer');
    const s = stream([bytes(1)], 'silent');
    const clock = new AttemptClock(20);
    await guardBody(new Response(s.body), clock).body!.cancel('enough');
    expect(s.cancelled()).toBe('enough');
    await new Promise((r) => setTimeout(r, 40));
    expect(clock.signal.aborted).toBe(false);
  });

  it('ends the body with the clock reason when the clock aborts', async () => {
    const clock = new AttemptClock(1000);
    const s = stream([], 'silent');
    const res = guardBody(new Response(s.body), clock);
    const reading = res.arrayBuffer().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 5));
    clock.abort('gone quiet');
    const err = await reading;
    expect(err).toBeInstanceOf(IdleTimeoutError);
    expect((err as Error).message).toBe('gone quiet');
    expect(s.cancelled()).toBeInstanceOf(IdleTimeoutError);
  });
});

describe('guardBody windows (fake time)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  /** A guarded body fed by hand, at fake times from 1000 ms on, with a 100 ms idle limit. */
  const setup = async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    await vi.advanceTimersByTimeAsync(1000);
    let source!: ReadableStreamDefaultController<Uint8Array>;
    const clock = new AttemptClock(100);
    const res = guardBody(new Response(new ReadableStream<Uint8Array>({ start: (c) => void (source = c) })), clock);
    return { clock, source, reader: res.body!.getReader() };
  };

  it('counts a window that brought 64 KiB as good, and fails the next silent one at its end', async () => {
    const { clock, source, reader } = await setup();
    await vi.advanceTimersByTimeAsync(50);
    source.enqueue(new Uint8Array(64 * 1024));
    expect((await reader.read()).value?.byteLength).toBe(64 * 1024);
    const next = reader.read().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(149);
    expect(clock.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(clock.signal.aborted).toBe(true);
    const err = await next;
    expect(err).toBeInstanceOf(IdleTimeoutError);
    expect((err as Error).message).toBe('the body stalled: 0 bytes in 0.1 s');
  });

  it('fails a window that brought less than 64 KiB, counting only the time a read was waiting', async () => {
    const { clock, source, reader } = await setup();
    await vi.advanceTimersByTimeAsync(50);
    source.enqueue(new Uint8Array(64 * 1024 - 1));
    // nobody reads from 50 to 120 ms: that time is not the server's
    await vi.advanceTimersByTimeAsync(70);
    expect(clock.signal.aborted).toBe(false);
    expect((await reader.read()).value?.byteLength).toBe(64 * 1024 - 1);
    const next = reader.read().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(49);
    expect(clock.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(clock.signal.aborted).toBe(true);
    expect((await next as Error).message).toBe('the body stalled: 65535 bytes in 0.1 s');
  });
});

describe('progressBody', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ends at exactly the last byte, and each slice taken restarts the clock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = new AttemptClock(100);
    clock.arm(100);
    const reader = progressBody(new Uint8Array(2 * 256 * 1024), clock).body.getReader();
    const sizes: number[] = [];
    for (;;) {
      await vi.advanceTimersByTimeAsync(90);
      const { done, value } = await reader.read();
      if (done) break;
      sizes.push(value.byteLength);
    }
    expect(sizes).toEqual([256 * 1024, 256 * 1024]);
    expect(clock.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(clock.signal.aborted).toBe(true);
  });

  it('sends the body in 256 KiB slices, re-arming the clock for each', async () => {
    const data = new Uint8Array(256 * 1024 * 2 + 3).map((_, i) => i % 251);
    const clock = new AttemptClock(1000);
    const { body, length } = progressBody(data, clock);
    expect(length).toBe(data.byteLength);
    const sizes: number[] = [];
    const parts: Uint8Array[] = [];
    for await (const part of body as unknown as AsyncIterable<Uint8Array>) {
      sizes.push(part.byteLength);
      parts.push(part);
    }
    clock.disarm();
    expect(sizes).toEqual([256 * 1024, 256 * 1024, 3]);
    expect(Buffer.concat(parts).equals(Buffer.from(data))).toBe(true);
  });
});

describe('fetchFollowing', () => {
  type Hop = { url: string; headers: Record<string, string>; body: unknown; duplex: unknown; redirect: unknown };
  const script = (answers: ((url: URL) => Response)[]) => {
    const hops: Hop[] = [];
    const fetcher = (async (url: URL, init: RequestInit & { duplex?: string }) => {
      hops.push({ url: String(url), headers: Object.fromEntries(new Headers(init.headers).entries()), body: init.body, duplex: init.duplex, redirect: init.redirect });
      return answers[Math.min(hops.length - 1, answers.length - 1)]!(url);
    }) as unknown as typeof fetch;
    return { fetcher, hops };
  };
  const redirect = (location: string, status = 307) => () => new Response(null, { status, headers: { location } });
  const ok = () => new Response('fine');
  const base = { credentialOrigin: 'https://reg.example', credentials: { authorization: 'Basic c2VjcmV0' }, what: 'thing' };

  it('sends the credentials to their origin only, and the body on the first hop only', async () => {
    const { fetcher, hops } = script([redirect('/moved', 302), redirect('https://cdn.example/blob', 301), redirect('https://reg.example/back', 303), ok]);
    const debug: string[] = [];
    let before = 0;
    const { response, url } = await fetchFollowing(fetcher, new URL('https://reg.example/start'), { method: 'PUT', body: 'data', duplex: 'half', headers: { 'x-keep': '1' } } as RequestInit, {
      ...base,
      debug: (line) => debug.push(line),
      beforeHop: () => before++,
    });
    expect(await response.text()).toBe('fine');
    expect(String(url)).toBe('https://reg.example/back');
    expect(hops.map((h) => [h.url, h.headers.authorization, h.headers['x-keep'], h.body, h.duplex, h.redirect])).toEqual([
      ['https://reg.example/start', 'Basic c2VjcmV0', '1', 'data', 'half', 'manual'],
      ['https://reg.example/moved', 'Basic c2VjcmV0', '1', undefined, undefined, 'manual'],
      ['https://cdn.example/blob', undefined, '1', undefined, undefined, 'manual'],
      ['https://reg.example/back', 'Basic c2VjcmV0', '1', undefined, undefined, 'manual'],
    ]);
    expect(before).toBe(4);
    expect(debug.slice(0, 2)).toEqual(['PUT https://reg.example/start', '302 PUT https://reg.example/start']);
    expect(debug).toHaveLength(8);
  });

  it('says GET when no method is given, and sends no credentials when it has none', async () => {
    const { fetcher, hops } = script([ok]);
    const debug: string[] = [];
    await fetchFollowing(fetcher, new URL('https://reg.example/x'), {}, { credentialOrigin: 'https://reg.example', what: 'x', debug: (l) => debug.push(l) });
    expect(debug).toEqual(['GET https://reg.example/x', '200 GET https://reg.example/x']);
    expect(hops[0]?.headers).toEqual({});
  });

  it('returns a 3xx it should not follow: no Location, not a redirect status, or refused by follow()', async () => {
    for (const answer of [() => new Response(null, { status: 302 }), () => new Response(null, { status: 304, headers: { location: '/x' } }), () => new Response(null, { status: 300, headers: { location: '/x' } })]) {
      const { fetcher, hops } = script([answer, ok]);
      expect((await fetchFollowing(fetcher, new URL('https://reg.example/x'), {}, base)).response.status).toBe(answer().status);
      expect(hops).toHaveLength(1);
    }
    const { fetcher, hops } = script([redirect('/y'), ok]);
    const seen: number[] = [];
    const follow = (r: Response) => {
      seen.push(r.status);
      return false;
    };
    expect((await fetchFollowing(fetcher, new URL('https://reg.example/x'), {}, { ...base, follow })).response.status).toBe(307);
    expect([hops.length, seen]).toEqual([1, [307]]);
    const yes = script([redirect('/y', 308), ok]);
    expect((await fetchFollowing(yes.fetcher, new URL('https://reg.example/x'), {}, { ...base, follow: () => true })).response.status).toBe(200);
    expect(yes.hops).toHaveLength(2);
  });

  it('follows five redirects and refuses the sixth', async () => {
    const five = script([...Array.from({ length: 5 }, (_, i) => redirect(`/r${i + 1}`)), ok]);
    expect((await fetchFollowing(five.fetcher, new URL('https://reg.example/r0'), {}, base)).url.pathname).toBe('/r5');
    const six = script([redirect('/again')]);
    await expect(fetchFollowing(six.fetcher, new URL('https://reg.example/r0'), {}, base)).rejects.toThrow(new HttpError('thing: too many redirects'));
    expect(six.hops).toHaveLength(6);
  });

  it('refuses redirects to other schemes and from https to http, but allows http to https', async () => {
    await expect(fetchFollowing(script([redirect('ftp://reg.example/x')]).fetcher, new URL('https://reg.example/'), {}, base)).rejects.toThrow(new HttpError('thing: refused a redirect to a ftp: URL'));
    const down = script([redirect('http://reg.example/x')]);
    await expect(fetchFollowing(down.fetcher, new URL('https://reg.example/'), {}, base)).rejects.toThrow(
      new HttpError('thing: refused a redirect from https to plain http (http://reg.example): it would send the request in clear text'),
    );
    expect(down.hops).toHaveLength(1);
    const up = script([redirect('https://reg.example/x'), ok]);
    expect(String((await fetchFollowing(up.fetcher, new URL('http://reg.example/'), {}, base)).url)).toBe('https://reg.example/x');
    const plain = script([redirect('http://other.example/x'), ok]);
    expect(String((await fetchFollowing(plain.fetcher, new URL('http://reg.example/'), {}, base)).url)).toBe('http://other.example/x');
  });
});
