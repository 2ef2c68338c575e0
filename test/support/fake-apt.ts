/**
 * A folder of stand-ins for apt-get, apt-cache, dpkg and sudo, to put first on PATH: every call is appended to
 * `log` (one line: the command and its arguments). apt-cache knows only the packages given; the others exit 100
 * as the real one does for an unknown name. apt-get succeeds (or fails with `aptGetExit`) and installs nothing.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeApt {
  bin: string;
  calls(): string[];
  cleanup(): void;
}

export function fakeApt(options: { known?: string[]; aptGetExit?: number } = {}): FakeApt {
  const bin = mkdtempSync(join(tmpdir(), 'bi-fake-apt-'));
  const log = join(bin, 'calls.log');
  const record = `printf '%s\\n' "\${0##*/} $*" >> '${log}'`;
  const known = (options.known ?? []).join(' ');
  const scripts: Record<string, string> = {
    'apt-get': `${record}\nexit ${options.aptGetExit ?? 0}\n`,
    'apt-cache': `${record}\nfor p in ${known}; do [ "$2" = "$p" ] && { echo "Package: $p"; exit 0; }; done\necho "E: No packages found" >&2\nexit 100\n`,
    dpkg: `${record}\nexit 1\n`,
    sudo: `${record}\nexec "$@"\n`,
  };
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}`);
    chmodSync(join(bin, name), 0o755);
  }
  return {
    bin,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    cleanup: () => rmSync(bin, { recursive: true, force: true }),
  };
}
