/**
 * An interrupted `verify` (the bundled CLI) leaves nothing in the headers cache: no half-unpacked tree
 * (`.cache/headers/trees/*.tmp-*`), no `.part` download; and what a killed run left there is removed by the next
 * run, while a live run's entries stay.
 *
 * The download is held open so the signal lands in it for sure (a local server that sends a little and then
 * nothing); the unpack is one of 40,000 files, seconds long, and the signal is sent once its tree appears.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { basename, join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../support/cli.js';

const BIN = resolve('bin/builder-images.js');
const IMAGE = 'localhost/builders:any-x86_64_gcc12.0.0-latest';

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startCli(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, exit };
}

async function until(what: string, run: Run, test: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (test()) return;
    if (run.child.exitCode !== null) throw new Error(`the CLI ended (${run.child.exitCode}) before ${what}:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}:\n${run.stderr()}`);
}

/** Every path under dir (relative), or none when it does not exist. */
const below = (dir: string) => (existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }) : []);

/** A ustar archive of these files, with its end marker. */
function tarOf(files: [name: string, content: Buffer][]): Buffer {
  return Buffer.concat([...files.flatMap(([name, content]) => tarEntry(name, content)), Buffer.alloc(1024)]);
}

/** One regular file: a 512-byte header and the content padded to 512. */
function tarEntry(name: string, content: Buffer): Buffer[] {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padded = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  content.copy(padded);
  return [header, padded];
}

describe('interrupted verify leaves nothing in the headers cache', () => {
  let server: Server;
  let base: string;
  const runs: Run[] = [];
  const repos: (() => void)[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/stalls.deb') {
        res.writeHead(200, { 'content-length': '1000000' });
        res.write(Buffer.alloc(4096, 1)); // then nothing
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const r of runs.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    for (const c of repos.splice(0)) c();
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const repo = () => {
    const r = makeRepo({ 'builder-images.yaml': 'repositories: [localhost/builders]\nengine: buildah\n' });
    repos.push(r.cleanup);
    return r.root;
  };
  const verify = (root: string, headers: string) => {
    const r = startCli(['--cwd', root, 'verify', '--engine', 'buildah', '--headers', headers, '--', IMAGE]);
    runs.push(r);
    return r;
  };

  it('SIGINT during a headers download: the .part file is removed; exit 130', async () => {
    const root = repo();
    const cache = join(root, '.cache', 'headers');
    const run = verify(root, `${base}/stalls.deb`);
    await until('the download has begun', run, () => below(cache).some((p) => p.endsWith('.part')));
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(below(cache).filter((p) => p.endsWith('.part'))).toEqual([]);
  });

  it('SIGTERM while a tree is unpacked: the half-unpacked .tmp- tree is removed; exit 143', async () => {
    const root = repo();
    // Enough small files that unpacking takes seconds: the signal lands while the tree is half-written.
    const tar = join(root, 'headers.tar.gz');
    const files = Array.from({ length: 40_000 }, (_, i): [string, Buffer] => [`usr/src/linux-headers-6.1.0-1-amd64/include/d${i % 200}/f${i}.h`, Buffer.from(`/* ${i} */\n`)]);
    writeFileSync(tar, gzipSync(tarOf(files), { level: 1 }));
    const trees = join(root, '.cache', 'headers', 'trees');
    const run = verify(root, tar);
    await until('the tree is being unpacked', run, () => below(trees).some((p) => p.includes('.tmp-')));
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(143);
    expect(below(trees).filter((p) => p.includes('.tmp-'))).toEqual([]);
  });

  it("a run removes the half-unpacked trees and .part files of killed runs, not a live run's", async () => {
    const root = repo();
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    const trees = join(root, '.cache', 'headers', 'trees');
    mkdirSync(trees, { recursive: true });
    const key = 'c'.repeat(32);
    const deadTree = join(trees, `${key}.tmp-${dead.pid}-0123456789abcdef`);
    const liveTree = join(trees, `${key}.tmp-${process.pid}-0123456789abcdef`);
    for (const d of [deadTree, liveTree]) mkdirSync(join(d, 'usr'), { recursive: true });
    const tar = join(root, 'headers.tar');
    writeFileSync(tar, tarOf([['usr/src/linux-headers-6.1.0-1-amd64/Makefile', Buffer.alloc(10, 'x')]]));
    const run = verify(root, tar);
    await run.exit;
    expect(existsSync(deadTree)).toBe(false);
    expect(existsSync(liveTree)).toBe(true);

    // A download's directory is named by its URL's hash; its .part files by their process.
    const url = `${base}/stalls.deb`;
    const downloads = join(root, '.cache', 'headers', createHash('sha256').update(new URL(url).href).digest('hex').slice(0, 32));
    mkdirSync(downloads, { recursive: true });
    const deadPart = join(downloads, `.stalls.deb.${dead.pid}-0123456789abcdef.part`);
    const livePart = join(downloads, `.stalls.deb.${process.pid}-0123456789abcdef.part`);
    for (const f of [deadPart, livePart]) writeFileSync(f, 'partial');
    const download = verify(root, url);
    await until('the download has begun', download, () => readdirSync(downloads).filter((p) => p.endsWith('.part')).length === 2 && !existsSync(deadPart));
    download.child.kill('SIGINT');
    expect(await download.exit).toBe(130);
    expect(readdirSync(downloads)).toEqual([basename(livePart)]);
  });

  it('SIGKILL during a headers download: the .part file goes with the process', async () => {
    const root = repo();
    const cache = join(root, '.cache', 'headers');
    const run = verify(root, `${base}/stalls.deb`);
    await until('the download has begun', run, () => below(cache).some((p) => p.endsWith('.part')));
    run.child.kill('SIGKILL');
    await run.exit;
    for (let i = 0; i < 100 && below(cache).some((p) => p.endsWith('.part')); i++) await new Promise((r) => setTimeout(r, 100));
    expect(below(cache).filter((p) => p.endsWith('.part'))).toEqual([]);
  });
});
