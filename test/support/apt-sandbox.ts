/**
 * The real apt-get and apt-cache on a private state: APT_CONFIG points them at a folder with its own lists, cache,
 * dpkg status and locks, and one local `file:` repository whose packages are stand-ins (bytes with the right size
 * and hash). dpkg is a stand-in that records what apt asked it to unpack, so nothing touches the machine; every
 * lock apt takes (lists/lock, archives/lock, dpkg/lock-frontend) is apt's own, on files under the folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AptSandbox {
  root: string;
  /** APT_CONFIG for the scripts under test. */
  env: Record<string, string>;
  /** A folder with only apt-get, apt-cache and sleep: the real ones. */
  bin: string;
  lists: string;
  archives: string;
  dpkgState: string;
  /** The packages dpkg was asked to unpack, and whether every lock holder had let go by then. */
  unpacked(): { packages: string[]; afterRelease: boolean }[];
  /** Take apt's kind of lock (fcntl, as apt's GetLock) on `file` for `seconds`; resolves once it is held. */
  holdLock(file: string, seconds: number): Promise<ChildProcess>;
  cleanup(): void;
}

const APT_GET = '/usr/bin/apt-get';

export const haveApt = existsSync(APT_GET) && existsSync('/usr/bin/perl');

// struct flock on 64-bit Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid.
const HOLDER = `use Fcntl; open(my $f, ">>", $ARGV[0]) or die "open: $!"; my $l = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0);
fcntl($f, F_SETLK, $l) or die "lock: $!"; $| = 1; print "held\\n"; sleep $ARGV[1]; unlink $ARGV[2];`;

export function aptSandbox(packages: string[]): AptSandbox {
  const root = mkdtempSync(join(tmpdir(), 'bi-apt-'));
  const dir = (...parts: string[]) => {
    const path = join(root, ...parts);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const lists = dir('lists', 'partial').replace(/\/partial$/, '');
  const archives = dir('cache', 'archives', 'partial').replace(/\/partial$/, '');
  const dpkgState = dir('dpkg');
  writeFileSync(join(dpkgState, 'status'), '');
  const repo = dir('repo');
  const stanzas = packages.map((name) => {
    const file = `${name}_1.0_all.deb`;
    const bytes = Buffer.from(`stand-in for ${name}\n`);
    writeFileSync(join(repo, file), bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return `Package: ${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: test <test@example.com>\nFilename: ./${file}\nSize: ${bytes.length}\nSHA256: ${sha256}\nDescription: stand-in\n`;
  });
  writeFileSync(join(repo, 'Packages'), stanzas.join('\n'));
  const etc = dir('etc');
  dir('etc', 'sources.list.d');
  dir('etc', 'preferences.d');
  dir('etc', 'apt.conf.d');
  writeFileSync(join(etc, 'sources.list'), `deb [trusted=yes] file:${repo} ./\n`);
  const log = join(root, 'dpkg.log');
  const dpkg = join(root, 'fake-dpkg');
  writeFileSync(
    dpkg,
    `#!/bin/sh\ncase "$*" in *--unpack*) r=yes; for f in ${root}/held-*; do [ -e "$f" ] && r=no; done; echo "released=$r $*" >> ${log};; esac\n` +
      `case "$1" in --print-architecture) echo amd64;; esac\nexit 0\n`,
  );
  chmodSync(dpkg, 0o755);
  const config = join(root, 'apt.conf');
  writeFileSync(
    config,
    [
      `Dir::State "${root}/";`,
      `Dir::State::Lists "${lists}";`,
      `Dir::State::status "${dpkgState}/status";`,
      `Dir::Cache "${root}/cache";`,
      `Dir::Log "${dir('log')}";`,
      `Dir::Etc::sourcelist "${etc}/sources.list";`,
      `Dir::Etc::sourceparts "${etc}/sources.list.d";`,
      `Dir::Etc::parts "${etc}/apt.conf.d";`,
      `Dir::Etc::preferencesparts "${etc}/preferences.d";`,
      `Dir::Bin::dpkg "${dpkg}";`,
      'APT::Architecture "amd64";',
      'APT::Sandbox::User "root";',
      '',
    ].join('\n'),
  );
  const bin = dir('bin');
  for (const tool of ['apt-get', 'apt-cache', 'sleep']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  const holders: ChildProcess[] = [];
  let held = 0;
  return {
    root,
    env: { APT_CONFIG: config },
    bin,
    lists,
    archives,
    dpkgState,
    unpacked: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => ({ afterRelease: line.startsWith('released=yes'), packages: line.split(' ').filter((a) => a.endsWith('.deb')).map((p) => p.replace(/^.*\/(.+)_1\.0_all\.deb$/, '$1')) }))
        : [],
    holdLock: (file, seconds) => {
      const marker = join(root, `held-${held++}`);
      writeFileSync(marker, '');
      // The holder removes its marker as it lets go, so the stand-in dpkg can tell whether apt waited for it.
      const child = spawn('perl', ['-e', HOLDER, file, String(seconds), marker], { stdio: ['ignore', 'pipe', 'inherit'] });
      holders.push(child);
      return new Promise((resolve, reject) => {
        child.stdout.once('data', () => resolve(child));
        child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code} before holding ${file}`)));
      });
    },
    cleanup: () => {
      for (const child of holders) child.kill();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
