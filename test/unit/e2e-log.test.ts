/**
 * The e2e log stays readable: scripts/make-bases.sh keeps debootstrap's per-package chatter in a log file and
 * shows a line per stage (stand-ins for debootstrap, chroot, buildah and dpkg; tar and the rest are real), and
 * the e2e summary keeps its seconds in one column whatever a step's name.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SCRIPTS = join(import.meta.dirname, '../../scripts');
const PACKAGES = Array.from({ length: 60 }, (_, i) => `pkg${i}`);

/** debootstrap's own sequence of I: lines, a line per package and step, as bookworm's minbase has them. */
function chatter(stage: 'first' | 'second'): string {
  const lines =
    stage === 'first'
      ? ['I: Retrieving InRelease', 'I: Checking Release signature', 'I: Valid Release signature (key id 4D64FEC119C2029067D6E791F8D2585B8783D481)', 'I: Retrieving Packages', 'I: Validating Packages', 'I: Resolving dependencies of required packages...', 'I: Checking component main on http://deb.debian.org/debian...', ...PACKAGES.flatMap((p) => [`I: Retrieving ${p} 1.0`, `I: Validating ${p} 1.0`]), ...PACKAGES.map((p) => `I: Extracting ${p}...`), 'W: a warning debootstrap gave']
      : ['I: Installing core packages...', 'I: Unpacking required packages...', ...PACKAGES.map((p) => `I: Unpacking ${p}:arm64...`), 'I: Configuring required packages...', ...PACKAGES.map((p) => `I: Configuring ${p}:arm64...`), 'I: Base system installed successfully.'];
  return lines.map((l) => `echo '${l}'`).join('\n');
}

let bin: string;
let cache: string;
beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'bi-bases-bin-'));
  cache = mkdtempSync(join(tmpdir(), 'bi-bases-cache-'));
  const tools: Record<string, string> = {
    // --foreign stops after the first stage; the native run does both.
    debootstrap: `for a in "$@"; do [ "$a" = --foreign ] && foreign=1; done\nroot=$(printf '%s\\n' "$@" | tail -n 2 | head -n 1)\nmkdir -p "$root/etc" "$root/dev"; echo debian > "$root/etc/os-release"\n${chatter('first')}\n[ -n "\${FAIL_DEBOOTSTRAP:-}" ] && { echo 'E: Couldn'"'"'t download packages: pkg7' >&2; exit 1; }\n[ -n "\${foreign:-}" ] || { ${chatter('second').replace(/\n/g, '; ')}; }\nexit 0`,
    chroot: chatter('second'),
    buildah: `case "$*" in *" from "*) echo ctr;; *"manifest push"*) while [ $# -gt 0 ]; do [ "$1" = --digestfile ] && echo "sha256:${'d'.repeat(64)}" > "$2"; shift; done;; esac\nexit 0`,
    dpkg: 'echo amd64',
  };
  for (const [name, body] of Object.entries(tools)) {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
});
afterEach(() => {
  for (const dir of [bin, cache]) rmSync(dir, { recursive: true, force: true });
});

const makeBases = (env: Record<string, string> = {}) =>
  spawnSync('/bin/bash', [join(SCRIPTS, 'make-bases.sh'), 'bookworm', '127.0.0.1:1', 'amd64', 'arm64'], { encoding: 'utf8', env: { PATH: `${bin}:${process.env.PATH}`, BASES_CACHE: cache, ...env } });

describe('scripts/make-bases.sh output', () => {
  it('keeps debootstrap\'s chatter in a log per arch and shows a line per stage, warnings included', () => {
    const r = makeBases();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`sha256:${'d'.repeat(64)}\n`);
    for (const arch of ['amd64', 'arm64']) {
      const log = readFileSync(join(cache, `bookworm-${arch}.debootstrap.log`), 'utf8');
      expect(log.split('\n').filter((l) => l.startsWith('I: ')).length).toBeGreaterThan(300);
      const shown = r.stderr.split('\n').filter((l) => l.startsWith(`bases: ${arch}: `));
      expect(shown.length).toBeLessThanOrEqual(16);
      expect(shown).toEqual(expect.arrayContaining([`bases: ${arch}: Retrieving pkg0 1.0`, `bases: ${arch}: Extracting pkg0...`, `bases: ${arch}: Unpacking required packages...`, `bases: ${arch}: W: a warning debootstrap gave`, `bases: ${arch}: Base system installed successfully.`]));
      expect(r.stderr).toContain(`bases: debootstrap bookworm/${arch} (its full output: ${join(cache, `bookworm-${arch}.debootstrap.log`)})`);
    }
    expect(r.stderr).not.toMatch(/Validating pkg|Extracting pkg1\.\.\.|Unpacking pkg/);
  });

  it('a failing debootstrap shows the end of its log and stops', () => {
    const r = makeBases({ FAIL_DEBOOTSTRAP: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bases: debootstrap bookworm\/amd64 failed; the end of .*bookworm-amd64\.debootstrap\.log:\n[\s\S]*E: Couldn't download packages: pkg7/);
  });
});

describe('scripts/e2e.sh summary', () => {
  it('keeps every step\'s seconds in one column, the longest name included', () => {
    const e2e = readFileSync(join(SCRIPTS, 'e2e.sh'), 'utf8');
    const functions = /^step_seconds=\(\)\n[\s\S]*?^print_summary\(\) \{[\s\S]*?^\}\n/m.exec(e2e);
    expect(functions, 'e2e.sh defines step and print_summary').toBeTruthy();
    const script = ['summary=()', 'step_start=$SECONDS', functions![0], 'step "1. registry with auth on 127.0.0.1:34991"', 'step "8. verify 6.1.0-56-amd64: .ko on amd64 + arm64; GCC 11, no make refused, and a longer name still"', 'print_summary'].join('\n');
    const r = spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((row) => row.length)).size).toBe(1);
    expect(rows[1]).toMatch(/still\s+\d+s$/);
    expect(rows[0]!.length).toBeGreaterThan(90);
  });
});
