/**
 * A local stand-in for the GitHub REST endpoints bump uses, on 127.0.0.1. It answers in GitHub's shapes and
 * records every request (method, path, query, body, authorization) for the test to assert.
 *   GET   /repos/:owner/:repo/pulls?head=owner:branch&state=open
 *   POST  /repos/:owner/:repo/pulls
 *   PATCH /repos/:owner/:repo/pulls/:number
 *   GET   /repos/:owner/:repo/issues/:number/comments, POST the same
 *   PATCH /repos/:owner/:repo/issues/comments/:id
 * Requests without `authorization: token <expected>` get 401, as GitHub would.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
  authorization: string | undefined;
}

export interface FakePull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
}

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
}

export async function startFakeGitHub(expectedToken: string) {
  const requests: RecordedRequest[] = [];
  const pulls: FakePull[] = [];
  const comments: FakeComment[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      requests.push({ method: req.method!, path: url.pathname, query: Object.fromEntries(url.searchParams), body, authorization: req.headers.authorization });
      const send = (status: number, data: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(data));
      if (req.headers.authorization !== `token ${expectedToken}`) return send(401, { message: 'Bad credentials' });
      const c = /^\/repos\/[^/]+\/[^/]+\/issues\/(?:(\d+)\/comments|comments\/(\d+))$/.exec(url.pathname);
      if (c) {
        const shape = (x: FakeComment) => ({ id: x.id, body: x.body, html_url: `https://github.com/o/r/issues/${x.issue}#issuecomment-${x.id}` });
        if (req.method === 'GET' && c[1]) return send(200, comments.filter((x) => x.issue === Number(c[1])).map(shape));
        if (req.method === 'POST' && c[1]) {
          const x = { id: 1000 + comments.length, issue: Number(c[1]), body: String(body?.body) };
          comments.push(x);
          return send(201, shape(x));
        }
        const x = comments.find((y) => y.id === Number(c[2]));
        if (req.method === 'PATCH' && x) {
          x.body = String(body?.body);
          return send(200, shape(x));
        }
        return send(404, { message: 'Not Found' });
      }
      const m = /^\/repos\/([^/]+)\/([^/]+)\/pulls(?:\/(\d+))?$/.exec(url.pathname);
      if (!m) return send(404, { message: 'Not Found' });
      const [, owner, repo, number] = m;
      const shape = (p: FakePull) => ({ number: p.number, title: p.title, body: p.body, state: p.state, html_url: `https://github.com/${owner}/${repo}/pull/${p.number}`, head: { ref: p.head }, base: { ref: p.base } });
      if (req.method === 'GET' && !number) {
        const head = url.searchParams.get('head')?.split(':')[1];
        return send(200, pulls.filter((p) => p.state === 'open' && (!head || p.head === head)).map(shape));
      }
      if (req.method === 'POST' && !number) {
        const p: FakePull = { number: pulls.length + 1, title: String(body?.title), body: String(body?.body), head: String(body?.head), base: String(body?.base), state: 'open' };
        pulls.push(p);
        return send(201, shape(p));
      }
      if (req.method === 'PATCH' && number) {
        const p = pulls.find((x) => x.number === Number(number));
        if (!p) return send(404, { message: 'Not Found' });
        if (body?.title) p.title = String(body.title);
        if (body?.body) p.body = String(body.body);
        return send(200, shape(p));
      }
      return send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    pulls,
    comments,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
