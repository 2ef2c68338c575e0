/**
 * What an image needs to meet the driver builder's contract (src/core/driver-contract.ts) for an `any` image's
 * default families, as test entries: every command an ELF header of the given machine in /usr/bin (with the
 * usrmerge /bin link), a Debian os-release and its CA bundle, libelf and libssl headers.
 */
import type { LayerEntry } from '../../src/core/filetree.js';
import { elfHeader, X86_64 } from './elf.js';
import { dir, file, symlink, type TestEntry } from './image-builder.js';

export const DEBIAN_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;

/** Every command the default contract of an `any` image runs, besides the versioned gcc-X.Y.Z. */
export const DRIVER_COMMANDS = [
  'bash', 'sleep', 'chmod', 'mkdir', 'rm', 'mv', 'cp', 'curl', 'tar', 'gzip', 'cmake', 'cc', 'c++', 'gcc', 'make', 'sed', 'sh', 'env', 'uname',
  'readlink', 'dirname', 'basename', 'cat', 'find', 'head', 'xargs', 'awk', 'ld', 'ld.bfd', 'strip', 'modinfo', 'ar', 'xz', 'zstd', 'rpm2cpio',
  'cpio', 'bc', 'flex', 'bison',
];

/** The tools as tar entries (for images built with test/support/image-builder.ts), minus `without`. */
export function driverToolEntries(options: { machine?: number; without?: string[] } = {}): TestEntry[] {
  const head = elfHeader(options.machine ?? X86_64);
  const out: TestEntry[] = [dir('usr/'), dir('usr/bin/'), dir('usr/lib/'), symlink('bin', 'usr/bin'), file('usr/lib/os-release', DEBIAN_OS_RELEASE, 0o644), dir('etc/'), symlink('etc/os-release', '../usr/lib/os-release')];
  for (const name of DRIVER_COMMANDS) if (!options.without?.includes(name)) out.push(file(`usr/bin/${name}`, head));
  out.push(dir('etc/ssl/'), dir('etc/ssl/certs/'), file('etc/ssl/certs/ca-certificates.crt', '-----BEGIN CERTIFICATE-----\n', 0o644));
  out.push(dir('usr/include/'), dir('usr/include/openssl/'), file('usr/include/libelf.h', '/* libelf */\n', 0o644), file('usr/include/openssl/ssl.h', '/* ssl */\n', 0o644));
  return out;
}

/** `entries` in one layer with the tools under them, each path once (containers/storage refuses duplicates). */
export function withDriverTools(entries: TestEntry[], options: { machine?: number; without?: string[] } = {}): TestEntry[] {
  const paths = new Set(entries.map((e) => e.path.replace(/\/$/, '')));
  return [...driverToolEntries(options).filter((e) => !paths.has(e.path.replace(/\/$/, ''))), ...entries];
}

/** The same as LayerEntry values, for trees built in unit tests. */
export function driverToolLayer(options: { machine?: number; without?: string[] } = {}): LayerEntry[] {
  return driverToolEntries(options).map((e): LayerEntry => {
    if (e.kind === 'dir') return { path: e.path, type: 'dir', mode: 0o755, size: 0, uid: 0, gid: 0 };
    if (e.kind === 'symlink' || e.kind === 'hardlink') return { path: e.path, type: e.kind, mode: 0o777, size: 0, uid: 0, gid: 0, linkname: e.target };
    const mode = e.mode ?? 0o644;
    return { path: e.path, type: 'file', mode, size: e.content.length, uid: 0, gid: 0, head: new Uint8Array(e.content) };
  });
}
