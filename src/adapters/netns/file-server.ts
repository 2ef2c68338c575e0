/**
 * A file server that only a sandboxed build can reach: a fresh network namespace holding nothing but `lo`, and in
 * it a tiny http server (this same Node, `ip netns exec`) serving exactly the files it is given, by name, GET and
 * HEAD only. The container joins that namespace (`--network ns:/run/netns/NAME`), so `curl http://127.0.0.1:PORT/…`
 * inside reaches these files and nothing of the host or the internet. Both go when the run ends or is interrupted.
 */
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { onInterrupt } from '../../util/cleanup.js';

export interface ServedFile {
  /** The URL path segment: letters, digits, `._+~-` only. */
  name: string;
  /** The host file (the headers cache, the staged module tarball). */
  path: string;
}

export interface LoopbackServer {
  /** For the engine's `--network ns:<path>`. */
  netnsPath: string;
  /** `http://127.0.0.1:PORT` as seen inside the namespace. */
  baseUrl: string;
  close(): Promise<void>;
}

// Runs as `node -e SERVER <json>`: the bundle has no separate file to start, and this code is ours, not the build's.
const SERVER = `
const http = require('node:http'); const fs = require('node:fs');
const files = new Map(Object.entries(JSON.parse(process.argv[1])));
const server = http.createServer((req, res) => {
  const path = files.get(decodeURIComponent((req.url || '').split('?')[0].slice(1)));
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !path) { res.writeHead(404).end(); return; }
  fs.stat(path, (err, st) => {
    if (err || !st.isFile()) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') { res.end(); return; }
    fs.createReadStream(path).on('error', () => res.destroy()).pipe(res);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

export async function serveInFreshNetns(files: ServedFile[], env: NodeJS.ProcessEnv = process.env): Promise<LoopbackServer> {
  for (const f of files) if (!/^[A-Za-z0-9._+~-]+$/.test(f.name)) throw new Error(`file server: ${f.name} is not a plain file name`);
  const name = `bi-verify-${randomBytes(6).toString('hex')}`;
  let server: ReturnType<typeof execa> | undefined;
  const removal = onInterrupt(async () => {
    server?.kill('SIGKILL');
    await server?.catch(() => undefined);
    await execa('ip', ['netns', 'delete', name], { env, reject: false });
  });
  try {
    await execa('ip', ['netns', 'add', name], { env });
    await execa('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { env });
    const map = Object.fromEntries(files.map((f) => [f.name, f.path]));
    // stdin stays open: the server exits when we close it, or when we die.
    server = execa('ip', ['netns', 'exec', name, process.execPath, '-e', SERVER, JSON.stringify(map)], { env, stdin: 'pipe', reject: false, buffer: false });
    const port = await firstPort(server);
    return { netnsPath: `/run/netns/${name}`, baseUrl: `http://127.0.0.1:${port}`, close: () => removal.runNow() };
  } catch (err) {
    await removal.runNow();
    throw err;
  }
}

function firstPort(child: ReturnType<typeof execa>): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('file server: did not start within 10 s')), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /^port (\d+)\n/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void child.then((r) => {
      clearTimeout(timer);
      reject(new Error(`file server: exited before listening: ${String(r.stderr ?? '').slice(0, 300)}`));
    });
  });
}
