import { describe, expect, it } from 'vitest';
import { consoleLines, initScript, kernelRefusal, markerOf, moduleNameForKernel, readBootConsole, taintLetters, type BootOutcome } from '../../src/core/boot-verdict.js';

const NONCE = '0123456789abcdef';
const M = markerOf(NONCE);
const exited: BootOutcome = { kind: 'exited', code: 0, stderr: '' };

/** A console as the serial port gives it: CR LF, escapes, the kernel's timestamps, init's marker lines. */
function consoleOf(...lines: string[]): string {
  return ['\x1bc\x1b[?7lSeaBIOS (version 1.16.2)', 'Booting from ROM...', '[    0.000000] Linux version 6.1.0-56-amd64 (gcc-12)', ...lines].join('\r\n') + '\r\n';
}

const booted = [`${M} init 6.1.0-56-amd64`, `${M} taint-before 0`, `${M} insmod-start`];

describe('initScript', () => {
  it('loads, reports with the marker, unloads and powers off; refuses what is not a plain path or name', () => {
    const script = initScript({ nonce: NONCE, module: { path: '/lib/modules/under-test/bi_probe.ko', name: 'bi_probe' } });
    expect(script.startsWith('#!/bin/busybox sh\n')).toBe(true);
    expect(script).toContain('out=$(insmod /lib/modules/under-test/bi_probe.ko 2>&1); rc=$?');
    expect(script).toContain(`echo "${M} insmod $rc`);
    expect(script).toContain('line=$(grep "^bi_probe " /proc/modules)');
    expect(script).toContain('rmmod bi_probe');
    expect(script.indexOf('poweroff -f')).toBeGreaterThan(script.indexOf(`${M} done`));
    expect(initScript({ nonce: NONCE })).not.toContain('insmod');
    expect(() => initScript({ nonce: 'xyz' })).toThrow(/nonce/);
    expect(() => initScript({ nonce: NONCE, module: { path: '/m/$(reboot).ko', name: 'm' } })).toThrow(/plain/);
    expect(() => initScript({ nonce: NONCE, module: { path: '/m/a.ko', name: 'a;reboot' } })).toThrow(/module name/);
    expect(moduleNameForKernel('bi-probe')).toBe('bi_probe');
    expect(moduleNameForKernel('a b')).toBeUndefined();
  });
});

describe('readBootConsole', () => {
  it('loads: taint letters from the mask, the module\'s own flags, unloaded', () => {
    const text = consoleOf(
      ...booted,
      '[    5.1] bi_probe: loading out-of-tree module taints kernel.',
      `${M} insmod 0 `,
      `${M} dmesg-begin`,
      `${M} dmesg [    5.100000] bi_probe: loading out-of-tree module taints kernel.`,
      `${M} dmesg [    5.100001] bi_probe: module verification failed: signature and/or required key missing - tainting kernel`,
      `${M} dmesg-end`,
      `${M} module bi_probe 16384 0 - Live 0xffffffffc0400000 (OE)`,
      `${M} taint-after 12288`,
      `${M} rmmod 0 `,
      `${M} done`,
      '[    5.9] reboot: Power down',
    );
    const r = readBootConsole(text, { nonce: NONCE, module: 'bi_probe', outcome: exited });
    expect(r.verdict).toEqual({ kind: 'loads', taint: ['O', 'E'], moduleTaint: 'OE', unloaded: true, unloadMessage: undefined });
    expect(r.release).toBe('6.1.0-56-amd64');
    expect(r.message).toBe('loads in 6.1.0-56-amd64 (taints O (out-of-tree module), E (unsigned module)); unloads');
    expect(r.kernelLines[0]).toBe('bi_probe: loading out-of-tree module taints kernel.');
  });

  it('refused: the kernel\'s own line, known refusals before the last word, said once', () => {
    const line = "module bi_probe: .gnu.linkonce.this_module section size must match the kernel's built struct module size at run time";
    const text = consoleOf(...booted, `${M} insmod 1 insmod: can't insert 'bi_probe.ko': invalid module format`, `${M} dmesg-begin`, `${M} dmesg [    4.2] ${line}`, `${M} dmesg [    4.3] ${line}`, `${M} dmesg-end`, `${M} module `, `${M} taint-after 0`, `${M} done`);
    const r = readBootConsole(text, { nonce: NONCE, module: 'bi_probe', outcome: exited });
    expect(r.verdict).toEqual({ kind: 'refused', line });
    expect(r.message).toBe(`refused: ${line}`);
    expect(r.kernelLines).toEqual([line]);
    expect(kernelRefusal(['x: loading out-of-tree module taints kernel.', 'x: disagrees about version of symbol module_layout', 'x: something else'])).toBe('x: disagrees about version of symbol module_layout');
    expect(kernelRefusal(['x: loading out-of-tree module taints kernel.', 'x: odd failure'])).toBe('x: odd failure');
    const silent = consoleOf(...booted, `${M} insmod 1 insmod: can't insert 'x.ko': File exists`, `${M} dmesg-begin`, `${M} dmesg-end`, `${M} done`);
    expect(readBootConsole(silent, { nonce: NONCE, module: 'x', outcome: exited }).message).toBe("refused: insmod: can't insert 'x.ko': File exists");
  });

  it('insmod says 0 but the module is not listed: refused, not loads', () => {
    const text = consoleOf(...booted, `${M} insmod 0 `, `${M} module `, `${M} taint-after 0`, `${M} done`);
    expect(readBootConsole(text, { nonce: NONCE, module: 'bi_probe', outcome: exited }).verdict).toEqual({ kind: 'refused', line: 'insmod succeeded but bi_probe is not in /proc/modules' });
  });

  it('a marker without the nonce (a module printing one) is not init\'s report', () => {
    const forged = consoleOf(`${markerOf('ffffffffffffffff')} init 6.1`, '[  1.0] Kernel panic - not syncing: No working init found.');
    const r = readBootConsole(forged, { nonce: NONCE, module: 'm', outcome: exited });
    expect(r.verdict).toEqual({ kind: 'no-boot', reason: 'Kernel panic - not syncing: No working init found.' });
  });

  it('crashed while loading or unloading: the oops line', () => {
    const load = consoleOf(...booted, '[    6.0] BUG: kernel NULL pointer dereference, address: 0000000000000000', '[    6.1] Kernel panic - not syncing: Fatal exception');
    expect(readBootConsole(load, { nonce: NONCE, module: 'm', outcome: exited }).verdict).toEqual({ kind: 'crashed', phase: 'insmod', line: 'BUG: kernel NULL pointer dereference, address: 0000000000000000' });
    const unload = consoleOf(...booted, `${M} insmod 0 `, `${M} module m 16384 0 - Live 0x0 (OE)`, `${M} taint-after 4096`);
    const r = readBootConsole(unload, { nonce: NONCE, module: 'm', outcome: { kind: 'timeout', seconds: 30 } });
    expect(r.verdict).toEqual({ kind: 'crashed', phase: 'rmmod', line: 'killed at the 30s limit during rmmod' });
    const stuck = consoleOf(...booted, `${M} insmod 0 `, `${M} module m 16384 0 - Live 0x0 (OE)`, `${M} taint-after 4096`, `${M} rmmod 1 rmmod: can't unload module 'm': Device or resource busy`, `${M} done`);
    expect(readBootConsole(stuck, { nonce: NONCE, module: 'm', outcome: exited }).message).toBe("loads in 6.1.0-56-amd64 (taints O (out-of-tree module)); does not unload: rmmod: can't unload module 'm': Device or resource busy");
  });

  it('no boot: the panic, qemu\'s own error, or the limit with the last lines', () => {
    const panic = readBootConsole(consoleOf('[    2.0] Run /init as init process', '[    2.1] Failed to execute /init (error -2)', '[    2.2] Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.'), { nonce: NONCE, outcome: exited });
    expect(panic.verdict).toEqual({ kind: 'no-boot', reason: 'Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.' });
    expect(panic.message).toMatch(/^boot failed: init never ran \(qemu exited 0\): Kernel panic/);
    const qemu = readBootConsole('', { nonce: NONCE, outcome: { kind: 'exited', code: 1, stderr: 'qemu-system-x86_64: could not load kernel \'/x\'\n' } });
    expect(qemu.message).toBe("boot failed: init never ran (qemu exited 1): qemu-system-x86_64: could not load kernel '/x'");
    const hung = readBootConsole(consoleOf('[    1.0] Freeing unused kernel memory'), { nonce: NONCE, module: 'm', outcome: { kind: 'timeout', seconds: 3 } });
    expect(hung.message).toBe('boot failed: init never ran (killed at the 3s limit): [    1.0] Freeing unused kernel memory');
    expect(hung.lastLines).toEqual(['SeaBIOS (version 1.16.2)', 'Booting from ROM...', '[    0.000000] Linux version 6.1.0-56-amd64 (gcc-12)', '[    1.0] Freeing unused kernel memory']);
    expect(readBootConsole('', { nonce: NONCE, outcome: { kind: 'output-cap', bytes: 100 } }).message).toBe('boot failed: init never ran (killed: console output over 100 bytes): no console output at all');
  });

  it('a plain boot: booted when init finished', () => {
    expect(readBootConsole(consoleOf(`${M} init 6.12.107+deb12-amd64`, `${M} taint-before 0`, `${M} done`), { nonce: NONCE, outcome: exited }).message).toBe('booted 6.12.107+deb12-amd64 to init and powered off');
    expect(readBootConsole(consoleOf(`${M} init 6.1`), { nonce: NONCE, outcome: { kind: 'timeout', seconds: 9 } }).verdict.kind).toBe('no-boot');
  });
});

describe('taint', () => {
  it('decodes the kernel\'s bits', () => {
    expect(taintLetters(0)).toEqual([]);
    expect(taintLetters(1)).toEqual(['P']);
    expect(taintLetters(4096 + 8192)).toEqual(['O', 'E']);
    expect(taintLetters(2 ** 18 + 512)).toEqual(['W', 'N']);
  });

  it('reads lines through CR, escapes and control characters', () => {
    expect(consoleLines('a\r\n\x1b[0mb\x07\rc')).toEqual(['a', 'b', 'c']);
  });
});
