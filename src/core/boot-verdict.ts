/**
 * The boot check's protocol, both ends: the /init script the initramfs runs (mount proc/sys/devtmpfs, insmod the
 * module, print the kernel's log of it, /proc/modules and the taint, rmmod, power off), and the reading of the
 * serial console afterwards into a verdict. Every line init prints starts with a marker holding a per-boot nonce,
 * so neither the kernel's log nor a module's printk is taken for init's report. Pure.
 */

/** A module name as the kernel keeps it (`-` becomes `_`); nothing else reaches the script. */
export function moduleNameForKernel(name: string): string | undefined {
  const n = name.replace(/-/g, '_');
  return /^[A-Za-z0-9_]{1,55}$/.test(n) ? n : undefined;
}

export interface InitScriptInput {
  /** Hex, from a random source: the marker init prints before every report line. */
  nonce: string;
  /** The module to load: its path inside the initramfs and its kernel name; none for a plain boot. */
  module?: { path: string; name: string };
}

export const markerOf = (nonce: string) => `@@bi-${nonce}`;

/** /init, run by busybox's sh (`#!/bin/busybox sh`); the applets come from `busybox --install`. */
export function initScript(input: InitScriptInput): string {
  if (!/^[0-9a-f]{8,64}$/.test(input.nonce)) throw new Error('boot: the nonce must be 8-64 hex digits');
  const m = markerOf(input.nonce);
  const lines = [
    '#!/bin/busybox sh',
    '/bin/busybox mkdir -p /bin /proc /sys /dev /tmp',
    '/bin/busybox --install -s /bin',
    'export PATH=/bin',
    'mount -t proc proc /proc',
    'mount -t sysfs sysfs /sys',
    'mount -t devtmpfs devtmpfs /dev 2>/dev/null',
    `echo "${m} init $(uname -r)"`,
    `echo "${m} taint-before $(cat /proc/sys/kernel/tainted)"`,
  ];
  if (input.module) {
    const { path, name } = input.module;
    if (!/^\/[A-Za-z0-9._/-]+\.ko$/.test(path) || path.includes('..')) throw new Error(`boot: module path ${path} is not a plain /….ko path`);
    if (moduleNameForKernel(name) !== name) throw new Error(`boot: module name ${name} is not a kernel module name`);
    lines.push(
      'dmesg -c >/dev/null',
      `echo "${m} insmod-start"`,
      `out=$(insmod ${path} 2>&1); rc=$?`,
      `echo "${m} insmod $rc $(echo "$out" | head -n 1)"`,
      `echo "${m} dmesg-begin"`,
      `dmesg | while IFS= read -r l; do echo "${m} dmesg $l"; done`,
      `echo "${m} dmesg-end"`,
      `line=$(grep "^${name} " /proc/modules)`,
      `echo "${m} module $line"`,
      `echo "${m} taint-after $(cat /proc/sys/kernel/tainted)"`,
      `if [ -n "$line" ]; then out=$(rmmod ${name} 2>&1); echo "${m} rmmod $? $(echo "$out" | head -n 1)"; fi`,
    );
  }
  lines.push(`echo "${m} done"`, 'poweroff -f', 'sleep 5', '');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Taint

/** The kernel's taint flags by bit (kernel/panic.c taint_flags). */
const TAINT_LETTERS = 'PFSRMBUDAWCIOELKXTN';
const TAINT_MEANING: Record<string, string> = {
  P: 'proprietary module',
  F: 'forced load',
  S: 'CPU out of spec',
  R: 'forced unload',
  M: 'machine check',
  B: 'bad page',
  U: 'user request',
  D: 'kernel died (oops)',
  A: 'ACPI table overridden',
  W: 'warning issued',
  C: 'staging driver',
  I: 'firmware workaround',
  O: 'out-of-tree module',
  E: 'unsigned module',
  L: 'soft lockup',
  K: 'live patched',
  X: 'auxiliary taint',
  T: 'struct randomization',
  N: 'test module',
};

/** `/proc/sys/kernel/tainted` (a decimal bit mask) as the kernel's letters. */
export function taintLetters(mask: number): string[] {
  const letters: string[] = [];
  for (let bit = 0; bit < TAINT_LETTERS.length; bit++) if (Math.floor(mask / 2 ** bit) % 2 === 1) letters.push(TAINT_LETTERS[bit]!);
  return letters;
}

export function describeTaint(letters: string[]): string {
  return letters.map((l) => `${l} (${TAINT_MEANING[l] ?? 'unknown'})`).join(', ');
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the console

/** How the qemu process ended, as the adapter saw it. */
export type BootOutcome =
  | { kind: 'exited'; code: number | null; stderr: string }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'output-cap'; bytes: number };

export type BootVerdict =
  /** A plain boot (no module) reached init and powered off. */
  | { kind: 'booted' }
  | { kind: 'loads'; taint: string[]; moduleTaint: string; unloaded: boolean; unloadMessage?: string }
  | { kind: 'refused'; line: string }
  /** The kernel died or hung while loading or unloading the module. */
  | { kind: 'crashed'; phase: 'insmod' | 'rmmod'; line: string }
  | { kind: 'no-boot'; reason: string };

export interface BootReport {
  verdict: BootVerdict;
  /** One sentence: what the row shows. */
  message: string;
  /** `uname -r` inside the guest, when init ran. */
  release?: string;
  /** The kernel's log of the insmod (dmesg), timestamps stripped. */
  kernelLines: string[];
  /** The console's last lines (the reason of a failed boot). */
  lastLines: string[];
}

// eslint-disable-next-line no-control-regex -- terminal escapes on a serial console are control characters
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1bc/g;

/** The console as lines: CR LF and escape sequences gone, control characters dropped. */
export function consoleLines(text: string): string[] {
  return (
    text
      .replace(ANSI, '')
      .split(/\r?\n|\r/)
      // eslint-disable-next-line no-control-regex -- see above
      .map((l) => l.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trimEnd())
  );
}

/** `[    4.123456] text` -> `text`. */
export const withoutTimestamp = (line: string) => line.replace(/^\s*(<\d+>)?\[\s*\d+\.\d+\]\s?/, '');

/** The kernel's lines that say why a module did not load, strongest first. */
const REFUSAL = [
  /section size must match/,
  /disagrees about version of symbol/,
  /Unknown symbol/,
  /[Ii]nvalid module format|invalid ELF header|bad vermagic|version magic .* should be/,
  /Required key not available|module verification failed.*rejected|Loading of unsigned module is rejected/,
  /Lockdown:/,
  /no symbol version for/,
  /[Uu]nknown rela(tion|cation)|relocation.*(overflow|out of range)/,
];
const CRASH = /Kernel panic - not syncing|BUG: |Oops|general protection fault|Unable to handle kernel|Internal error:|watchdog: BUG: soft lockup|rcu_sched self-detected stall|Call Trace:/;
const NOISE = /taints kernel|module verification failed: signature and\/or required key missing/;

const LAST_LINES = 12;

function lastMeaningful(lines: string[], n = LAST_LINES): string[] {
  return lines.filter((l) => l.trim() !== '').slice(-n);
}

function outcomeText(outcome: BootOutcome): string {
  if (outcome.kind === 'timeout') return `killed at the ${outcome.seconds}s limit`;
  if (outcome.kind === 'output-cap') return `killed: console output over ${outcome.bytes} bytes`;
  return `qemu exited${outcome.code === null ? '' : ` ${outcome.code}`}`;
}

/** Read the console of one boot into its verdict. `module` is the name init loaded, absent for a plain boot. */
export function readBootConsole(text: string, input: { nonce: string; module?: string; outcome: BootOutcome }): BootReport {
  const m = `${markerOf(input.nonce)} `;
  const lines = consoleLines(text);
  const reports: { key: string; value: string }[] = [];
  const kernelLines: string[] = [];
  for (const line of lines) {
    const at = line.indexOf(m);
    if (at < 0) continue;
    const rest = line.slice(at + m.length);
    const space = rest.indexOf(' ');
    const key = space < 0 ? rest : rest.slice(0, space);
    const value = space < 0 ? '' : rest.slice(space + 1);
    // busybox's insmod tries finit_module, then init_module: the kernel may say the same thing twice.
    if (key === 'dmesg') {
      const line = withoutTimestamp(value);
      if (!kernelLines.includes(line)) kernelLines.push(line);
    }
    else reports.push({ key, value });
  }
  const get = (key: string) => reports.find((r) => r.key === key)?.value;
  const has = (key: string) => reports.some((r) => r.key === key);
  const lastLines = lastMeaningful(lines);
  const base = { release: get('init')?.trim() || undefined, kernelLines, lastLines };
  const crashLine = () => lines.map(withoutTimestamp).find((l) => CRASH.test(l));

  if (!has('init')) {
    const stderr = input.outcome.kind === 'exited' ? lastMeaningful(consoleLines(input.outcome.stderr), 3) : [];
    // A panic's call trace follows it: what led to it is the lines before, so those are the ones shown.
    const panicAt = lines.findIndex((l) => /Kernel panic - not syncing/.test(l));
    const shown = panicAt >= 0 ? lastMeaningful(lines.slice(0, panicAt + 1)) : lastLines;
    const why = (panicAt >= 0 ? withoutTimestamp(lines[panicAt]!) : undefined) ?? stderr[0] ?? lastLines[lastLines.length - 1] ?? 'no console output at all';
    return { ...base, lastLines: [...shown, ...stderr], verdict: { kind: 'no-boot', reason: why }, message: `boot failed: init never ran (${outcomeText(input.outcome)}): ${why}` };
  }
  if (input.module === undefined) {
    if (has('done')) return { ...base, verdict: { kind: 'booted' }, message: `booted ${base.release ?? ''} to init and powered off`.replace('  ', ' ') };
    const why = crashLine() ?? lastLines[lastLines.length - 1] ?? '';
    return { ...base, verdict: { kind: 'no-boot', reason: why }, message: `boot failed: init did not finish (${outcomeText(input.outcome)}): ${why}` };
  }
  const insmod = get('insmod');
  if (insmod === undefined) {
    const line = crashLine() ?? `${outcomeText(input.outcome)} during insmod`;
    return { ...base, verdict: { kind: 'crashed', phase: 'insmod', line }, message: `crashed while loading: ${line}` };
  }
  const [code, ...said] = insmod.split(' ');
  if (code !== '0') {
    const line = kernelRefusal(kernelLines) ?? (said.join(' ') || `insmod exited ${code}`);
    return { ...base, verdict: { kind: 'refused', line }, message: `refused: ${line}` };
  }
  const moduleLine = get('module')?.trim() ?? '';
  if (!moduleLine.startsWith(`${input.module} `)) {
    const line = `insmod succeeded but ${input.module} is not in /proc/modules`;
    return { ...base, verdict: { kind: 'refused', line }, message: `refused: ${line}` };
  }
  const mask = Number(get('taint-after') ?? '0');
  const taint = taintLetters(Number.isFinite(mask) ? mask : 0);
  const moduleTaint = /\(([A-Z]+)\)\s*$/.exec(moduleLine)?.[1] ?? '';
  const rmmod = get('rmmod');
  if (rmmod === undefined || !has('done')) {
    const line = crashLine() ?? `${outcomeText(input.outcome)} during rmmod`;
    return { ...base, verdict: { kind: 'crashed', phase: 'rmmod', line }, message: `loaded, then crashed while unloading: ${line}` };
  }
  const [rmCode, ...rmSaid] = rmmod.split(' ');
  const unloaded = rmCode === '0';
  const verdict: BootVerdict = { kind: 'loads', taint, moduleTaint, unloaded, unloadMessage: unloaded ? undefined : rmSaid.join(' ') || `rmmod exited ${rmCode}` };
  const tainted = taint.length ? `taints ${describeTaint(taint)}` : 'no taint';
  return { ...base, verdict, message: `loads in ${base.release ?? 'the kernel'} (${tainted}); ${unloaded ? 'unloads' : `does not unload: ${verdict.unloadMessage}`}` };
}

/** The kernel's own line saying why, from its log of the insmod: a known refusal first, else its last word. */
export function kernelRefusal(kernelLines: string[]): string | undefined {
  for (const pattern of REFUSAL) {
    const hit = kernelLines.find((l) => pattern.test(l));
    if (hit) return hit;
  }
  return kernelLines.filter((l) => l.trim() && !NOISE.test(l)).pop();
}
