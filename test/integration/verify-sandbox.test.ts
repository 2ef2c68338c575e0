/**
 * The red team's reproductions against verify's sandbox (issue 23 items 1 and 3), with real buildah: a headers
 * package whose member `usr/src/hostroot -> /` would become a mount, and a headers Makefile that tries to read a
 * host secret and host command lines, kill a host process, reach a host 127.0.0.1 service, leave a `setsid`
 * daemon behind and write /proc/sys/kernel/core_pattern. Each is refused or contained; the host is checked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo, runCli } from '../support/cli.js';
import { debianHeaders, makeDeb, type Entry } from '../support/kernel-packages.js';
import { buildSandboxImage } from '../support/sandbox-image.js';

let image: string;
const cleanups: (() => void)[] = [];
beforeAll(() => {
  image = buildSandboxImage();
});
afterAll(() => cleanups.splice(0).forEach((c) => c()));

async function headersRepo(makefile: string, extra: Entry[] = []): Promise<{ root: string; debs: string[] }> {
  const h = debianHeaders('6.1.0-56', 'amd64');
  const arch = h.arch.map((e) => (e.path.endsWith('-amd64/Makefile') ? { ...e, body: makefile } : e));
  const repo = makeRepo({ 'builder-images.yaml': 'repositories: [127.0.0.1:5000/builders]\nengine: buildah\n' });
  cleanups.push(repo.cleanup);
  const debs = [
    ['linux-headers-6.1.0-56-amd64_1_amd64.deb', await makeDeb([...arch, ...extra], 'amd64')],
    ['linux-headers-6.1.0-56-common_1_all.deb', await makeDeb(h.common, 'all')],
    ['linux-kbuild-6.1_1_amd64.deb', await makeDeb(h.kbuild, 'amd64')],
  ] as const;
  for (const [name, data] of debs) writeFileSync(join(repo.root, name), data);
  return { root: repo.root, debs: debs.map(([n]) => n) };
}

function verify(root: string, debs: string[], more: string[] = []) {
  return runCli(['verify', `buildah:${image}`, '--gcc', '12.0.0', '--json', ...more, '--headers', ...debs], root);
}

/** Host processes whose command line holds this text. */
function hostProcessesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('verify sandbox: a hostile headers package (real buildah)', () => {
  it('refuses a mount whose source is a symlink planted by the package (usr/src/hostroot -> /)', async () => {
    const { root, debs } = await headersRepo('modules:\n\tcat /usr/src/hostroot/etc/hostname\n', [{ path: './usr/src/hostroot', symlink: '/' }]);
    const r = await verify(root, debs);
    expect(r.code).toBe(1);
    const [row] = JSON.parse(r.stdout) as { verdict: string; message: string }[];
    expect(row).toMatchObject({ verdict: 'fail' });
    expect(row!.message).toMatch(/not run: mount source .*usr\/src\/hostroot is a symlink \(to \/\) leading out of its tree.*refused/);
  });

  it('kills a build at the wall-clock limit, with everything it started', async () => {
    const marker = `${(Date.now() % 100000) + 7}`;
    const { root, debs } = await headersRepo(`modules:\n\tsetsid sleep 2000.${marker} < /dev/null > /dev/null 2>&1 &\n\tsleep 1000\n`);
    const started = Date.now();
    const r = await verify(root, debs, ['--build-timeout', '4']);
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    const [row] = JSON.parse(r.stdout) as { message: string }[];
    expect(row!.message).toMatch(/ran past the 4 s limit and was killed/);
    expect(hostProcessesWith(`2000.${marker}`)).toEqual([]);
    expect(hostProcessesWith('sleep 1000')).toEqual([]);
  });

  describe('a Makefile that attacks the host', () => {
    let secretDir: string;
    let victim: ChildProcess;
    let server: Server;
    let hits = 0;
    let port = 0;
    const marker = `${Date.now() % 100000}`;
    const corePattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');

    beforeAll(async () => {
      secretDir = mkdtempSync(join(tmpdir(), 'bi-secret-'));
      writeFileSync(join(secretDir, 'config.json'), `{"auths":{"x":{"auth":"SECRET-${marker}"}}}`, { mode: 0o600 });
      victim = spawn('sleep', [`300.${marker}`], { stdio: 'ignore' });
      server = createServer((_req, res) => {
        hits++;
        res.end('host-service');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => {
      victim.kill('SIGKILL');
      server.close();
      rmSync(secretDir, { recursive: true, force: true });
      for (const pid of hostProcessesWith(`1000.${marker}`)) process.kill(pid, 'SIGKILL');
    });

    it('reads no host file or command line, kills no host process, reaches no host service, leaves no daemon, writes no core_pattern', async () => {
      const makefile = [
        'modules:',
        `\t-setsid sleep 1000.${marker} > /dev/null 2>&1 < /dev/null &`,
        `\t-kill -9 ${victim.pid}`,
        `\t-wget -q -T 3 -O /tmp/got http://127.0.0.1:${port}/`,
        "\t-echo '|/tmp/pwn %p' > /proc/sys/kernel/core_pattern",
        `\t@echo "error: hostile: file=[$$(cat ${secretDir}/config.json /proc/1/root${secretDir}/config.json 2>&1 | tr -d '\\n')] seen=[$$(cat /proc/*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -o '300[.]${marker}' | head -1)] got=[$$(cat /tmp/got 2>/dev/null)] pids=[$$(ls /proc | grep -c '^[0-9]')]"`,
        '\texit 1',
        '',
      ].join('\n');
      const { root, debs } = await headersRepo(makefile);
      const r = await verify(root, debs);
      expect(r.code).toBe(1);
      const text = r.stdout + r.stderr;
      // The Makefile ran (its line is among the errors) and saw nothing of the host.
      expect(text).toMatch(/error: hostile: file=\[.*No such file.*\] seen=\[\] got=\[\] pids=\[\d\]/);
      expect(text).not.toContain(`SECRET-${marker}`);
      expect(victim.exitCode).toBeNull();
      expect(() => process.kill(victim.pid!, 0)).not.toThrow();
      expect(hits).toBe(0);
      expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(corePattern);
      expect(hostProcessesWith(`1000.${marker}`)).toEqual([]);
    });
  });
});
