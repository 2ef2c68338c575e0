/**
 * The registry client against a scripted registry: a `fetch` stand-in that answers each request from a route
 * table and records what it was asked, so every request the client makes (method, URL, headers, body) and
 * every answer it gets are exact. No sockets, no timers: fast enough for the mutation run.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError, NotFoundError, RegistryClient, RegistryError } from '../../src/adapters/registry/index.js';
import { MediaType } from '../../src/core/oci.js';

const HOST = '127.0.0.1:5999';
const ORIGIN = `http://${HOST}`;
const REPO = { registry: HOST, repository: 'team/app' };
const WHAT = `tags of ${HOST}/team/app`;

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}

type Route = (req: Seen) => Response | undefined;

/** A client whose fetch answers from `route` (404 when it gives nothing) and records every request in `seen`. */
function scripted(route: Route, options: ConstructorParameters<typeof RegistryClient>[0] = {}) {
  const seen: Seen[] = [];
  const fake = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const raw = init.body;
    let body: Buffer | undefined;
    if (raw instanceof Uint8Array) body = Buffer.from(raw);
    else if (typeof raw === 'string') body = Buffer.from(raw);
    else if (raw) body = Buffer.from(await new Response(raw as ReadableStream).arrayBuffer());
    const req: Seen = { method: init.method ?? 'GET', url: String(input), headers, body };
    seen.push(req);
    return route(req) ?? new Response('{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}', { status: 404 });
  }) as typeof fetch;
  const client = new RegistryClient({ fetch: fake, backoffMs: 1, maxAttempts: 2, credentials: { env: { DOCKER_CONFIG: '/nonexistent' } }, ...options });
  return { client, seen };
}

const tagPage = (tags: unknown, link?: string) =>
  new Response(typeof tags === 'string' ? tags : JSON.stringify({ name: 'team/app', tags }), {
    status: 200,
    headers: { 'content-type': 'application/json', ...(link ? { link } : {}) },
  });

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('listTags follows Link pagination', () => {
  it('asks for pageSize tags, requests every linked page in order and returns their union', async () => {
    const { client, seen } = scripted((req) => {
      const url = new URL(req.url);
      if (url.pathname !== '/v2/team/app/tags/list') return undefined;
      const last = url.searchParams.get('last');
      if (last === null) return tagPage(['a', 'b'], '</v2/team/app/tags/list?n=2&last=b>; rel="next"');
      // relative to the page that gave it, no quotes, no spaces
      if (last === 'b') return tagPage(['c', 'd'], '<list?n=2&last=d>;rel=next');
      if (last === 'd') return tagPage(['e'], `<${ORIGIN}/v2/team/app/tags/list?n=2&last=e>  ;  rel="next"`);
      if (last === 'e') return tagPage(['f'], '</v2/team/app/tags/list?n=2&last=zzz>; rel="prev"');
      return undefined;
    });
    expect(await client.listTags(REPO, 2)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${ORIGIN}/v2/team/app/tags/list?n=2`,
      `GET ${ORIGIN}/v2/team/app/tags/list?n=2&last=b`,
      `GET ${ORIGIN}/v2/team/app/tags/list?n=2&last=d`,
      `GET ${ORIGIN}/v2/team/app/tags/list?n=2&last=e`,
    ]);
  });

  it('asks for 1000 tags a page by default and stops at a page without Link', async () => {
    const { client, seen } = scripted(() => tagPage(['only']));
    expect(await client.listTags(REPO)).toEqual(['only']);
    expect(seen.map((r) => r.url)).toEqual([`${ORIGIN}/v2/team/app/tags/list?n=1000`]);
  });

  it('stops with an error when a Link repeats a page, naming it without its query', async () => {
    const { client, seen } = scripted((req) => {
      const url = new URL(req.url);
      if (url.searchParams.get('last') === null) return tagPage(['a'], '</v2/team/app/tags/list?last=a&token=s3cret>; rel="next"');
      return tagPage(['b'], '</v2/team/app/tags/list?last=a&token=s3cret>; rel="next"');
    });
    const err = (await client.listTags(REPO).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toBe(`${WHAT}: the registry's Link pagination loops (it sent ${ORIGIN}/v2/team/app/tags/list again)`);
    expect(seen).toHaveLength(2);
  });

  it('follows 1000 pages and refuses the 1001st', async () => {
    const endless = (pages: number) =>
      scripted((req) => {
        const page = Number(new URL(req.url).searchParams.get('page') ?? '1');
        return tagPage([`t${page}`], page < pages ? `</v2/team/app/tags/list?page=${page + 1}>; rel="next"` : undefined);
      });
    const full = endless(1000);
    const tags = await full.client.listTags(REPO);
    expect(tags).toHaveLength(1000);
    expect(tags[999]).toBe('t1000');
    expect(full.seen).toHaveLength(1000);
    const over = endless(1001);
    await expect(over.client.listTags(REPO)).rejects.toThrow(new RegistryError(`${WHAT}: more than 1000 pages; refusing to follow the registry's Link chain further`));
    expect(over.seen).toHaveLength(1000);
  });

  it('reads empty and missing tag lists as no tags, and refuses malformed ones', async () => {
    for (const body of ['null', '{}', '{"tags":null}', '{"tags":[]}']) {
      expect(await scripted(() => tagPage(body)).client.listTags(REPO)).toEqual([]);
    }
    await expect(scripted(() => tagPage('{"tags":')).client.listTags(REPO)).rejects.toThrow(new RegistryError(`${WHAT}: the registry's tag list is not JSON`));
    for (const body of ['{"tags":"a"}', '{"tags":[1]}', '{"tags":["a",2]}', '{"tags":[null,"a"]}']) {
      await expect(scripted(() => tagPage(body)).client.listTags(REPO)).rejects.toThrow(new RegistryError(`${WHAT}: malformed tag list: tags: expected an array of strings`));
    }
  });

  it('reports an absent repository as NotFoundError', async () => {
    const { client, seen } = scripted(() => undefined);
    await expect(client.listTags(REPO)).rejects.toBeInstanceOf(NotFoundError);
    expect(seen[0]?.headers).not.toHaveProperty('authorization');
  });
});
