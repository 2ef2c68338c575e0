import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answeringSources, readKernelListSource } from '../../src/adapters/kernels/kernel-list-source.js';
import { makeRepo, runCli } from '../support/cli.js';

const index = `images:
  - name: r/b:debian-x86_64_gcc12.0.0-latest
    target: debian
    arch: x86_64
    tag: latest
    gcc_versions: ["12.0.0"]
  - name: r/b:any-x86_64_gcc11.0.0-latest
    target: any
    arch: x86_64
    tag: latest
    gcc_versions: ["11.0.0"]
  - name: r/b:any-aarch64_gcc12.0.0-latest
    target: any
    arch: aarch64
    tag: latest
    gcc_versions: ["12.0.0"]
`;

const pool = 'https://deb.debian.org/debian/pool/main/l/linux';
const list = (arch: 'amd64' | 'arm64', releases: string[]) => ({
  Debian: releases.map((r) => ({ kernelversion: 1, kernelrelease: `${r}-${arch}`, target: 'debian', headers: [`${pool}/linux-headers-${r}-${arch}_1_${arch}.deb`, `${pool}/linux-headers-${r}-common_1_all.deb`] })),
});

let server: Server;
let base: string;
const heads: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.method === 'HEAD') heads.push(req.url!);
    if (req.url === '/kernels/aarch64/list.json') return res.end(JSON.stringify(list('arm64', ['6.1.0-57'])));
    if (req.url === '/ok.deb') return res.end('x');
    if (req.url === '/moved.deb') return res.writeHead(302, { location: '/ok.deb' }).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('select --kernels', () => {
  it('prints the pick for every kernel, the kernels per image and a summary; JSON and --image narrow it', async () => {
    const repo = makeRepo({ 'index.yaml': index, 'list.json': JSON.stringify(list('amd64', ['6.1.0-57', '6.1.0-56', '5.10.0-30', '6.12.48+deb12'])) });
    try {
      const text = await runCli(['select', '--kernels', 'list.json'], repo.root);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^5\.10\.0-30-amd64\s+x86_64\s+debian\s+11\.0\.0\s+11\.0\.0\s+fallback\s+r\/b:any-x86_64_gcc11\.0\.0-latest$/m);
      expect(text.stdout).toMatch(/^6\.12\.48\+deb12-amd64\s+x86_64\s+debian\s+14\.0\.0\s+12\.0\.0 \*\s+nearest-lower/m);
      expect(text.stdout).toMatch(/^r\/b:debian-x86_64_gcc12\.0\.0-latest\s+3\s+1\s+0$/m);
      expect(text.stdout).toContain('4 kernel(s): 2 image(s) serve them; 1 through the "any" fallback, 1 without the GCC they want (marked *), 0 with no image');

      const json = JSON.parse((await runCli(['select', '--kernels', 'list.json', '--image', 'any-x86_64_gcc11.0.0-latest', '--json'], repo.root)).stdout);
      expect(json.kernels.map((k: { release: string }) => k.release)).toEqual(['5.10.0-30-amd64']);
      expect(json.images).toEqual([{ image: 'r/b:any-x86_64_gcc11.0.0-latest', kernels: 1, inexact: 0, fallback: 1 }]);

      const sampled = JSON.parse((await runCli(['select', '--kernels', 'list.json', '--sample', '2', '--release', '^6\\.', '--json'], repo.root)).stdout);
      expect(sampled.kernels.map((k: { release: string }) => k.release).sort()).toEqual(['6.1.0-57-amd64', '6.12.48+deb12-amd64']);
    } finally {
      repo.cleanup();
    }
  });

  it('reads a list from a URL, taking the arch from its kernels/<arch>/ path', async () => {
    const repo = makeRepo({ 'index.yaml': index });
    try {
      const run = await runCli(['select', '--kernels', `${base}/kernels/aarch64/list.json`, '--json'], repo.root);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).kernels).toEqual([{ release: '6.1.0-57-arm64', arch: 'aarch64', target: 'debian', wanted: '12.0.0', image: 'r/b:any-aarch64_gcc12.0.0-latest', gcc: '12.0.0', reason: 'fallback', exact: true }]);
    } finally {
      repo.cleanup();
    }
  });

  it('refuses a bad list, a bad pattern and a bad sample with exit 2 naming the file or flag', async () => {
    const repo = makeRepo({ 'index.yaml': index, 'bad.json': '{"Debian": [{"kernelrelease": 5}]}', 'ok.json': JSON.stringify(list('amd64', ['6.1.0-57'])) });
    try {
      expect(await runCli(['select', '--kernels', 'bad.json'], repo.root)).toMatchObject({ code: 2, stderr: expect.stringContaining('bad.json: not a kernel list') });
      expect(await runCli(['select', '--kernels', 'missing.json'], repo.root)).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot read the kernel list missing.json') });
      expect(await runCli(['select', '--kernels', 'ok.json', '--release', '('], repo.root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--release "(" is not a regular expression') });
      expect(await runCli(['select', '--kernels', 'ok.json', '--sample', '0'], repo.root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--sample takes a whole number') });
      expect(await runCli(['select', '--kernels', `${base}/nothing.json`], repo.root)).toMatchObject({ code: 2, stderr: expect.stringContaining('HTTP 404') });
    } finally {
      repo.cleanup();
    }
  });
});

describe('the HEAD probe', () => {
  it('keeps the URLs that answer 200 (after redirects) and local files, drops the rest', async () => {
    const repo = makeRepo({ 'here.deb': 'x' });
    try {
      const got = await answeringSources([`${base}/ok.deb`, `${base}/moved.deb`, `${base}/gone.deb`, 'here.deb', 'absent.deb', 'http://10.0.0.1/x.deb'], repo.root, { timeoutMs: 2000 });
      expect([...got].sort()).toEqual([`${base}/moved.deb`, `${base}/ok.deb`, 'here.deb'].sort());
      expect(heads).toContain('/gone.deb');
    } finally {
      repo.cleanup();
    }
  });

  it('reads our plain YAML list', async () => {
    const repo = makeRepo({ 'k.yaml': 'kernels:\n  - release: 6.1.0-57-amd64\n    target: debian\n    headers: [a_amd64.deb]\n' });
    try {
      expect(await readKernelListSource('k.yaml', { cwd: repo.root })).toEqual([{ release: '6.1.0-57-amd64', target: 'debian', arch: 'x86_64', headers: [{ source: 'a_amd64.deb' }] }]);
    } finally {
      repo.cleanup();
    }
  });
});
