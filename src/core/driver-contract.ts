/**
 * The driver builder's contract as data: what driverkit's own scripts run inside a builder image, per flow and
 * per target family, and which package ships each thing in the image's own distro. Pure.
 *
 * Read from falcosecurity/driverkit's templates (pkg/driverbuilder/builder/templates/*.sh), its container flow
 * (pkg/driverbuilder/docker.go: `/bin/sleep` keeps the container up, `/bin/bash -l /driverkit/cmd.sh` runs
 * chmod, libs_download.sh, <target>_kernel.sh, <target>.sh) and falcosecurity/libs' driver build (CMake
 * project() in C and C++, configure probes under `env -i … sh build.sh`, `make -C $KERNELDIR M=… modules`).
 */

export const FLOWS = ['kmod', 'ebpf'] as const;
/** kmod: driverkit's kernel-module build; ebpf: the legacy eBPF probe (`make bpf`, driverkit before 2026). */
export type Flow = (typeof FLOWS)[number];

/** How a target's headers get into the container: one `<target>_kernel.sh` shape each. */
export const FAMILIES = ['debian', 'ubuntu', 'rpm', 'amazonlinux', 'archlinux', 'kernel-source', 'redhat', 'sles'] as const;
export type Family = (typeof FAMILIES)[number];

/** driverkit's targets (pkg/driverbuilder/builder/*.go) and the family of their headers script. */
export const TARGET_FAMILY: Readonly<Record<string, Family>> = {
  debian: 'debian',
  ubuntu: 'ubuntu',
  centos: 'rpm',
  fedora: 'rpm',
  almalinux: 'rpm',
  rocky: 'rpm',
  ol: 'rpm',
  alinux: 'rpm',
  photon: 'rpm',
  opensuse: 'rpm',
  amazonlinux: 'amazonlinux',
  amazonlinux2: 'amazonlinux',
  amazonlinux2022: 'amazonlinux',
  amazonlinux2023: 'amazonlinux',
  arch: 'archlinux',
  vanilla: 'kernel-source',
  flatcar: 'kernel-source',
  minikube: 'kernel-source',
  bottlerocket: 'kernel-source',
  talos: 'kernel-source',
  redhat: 'redhat',
  sles: 'sles',
};

/**
 * What an `any` image serves unless the config says otherwise: driverkit falls back to it for every target that
 * has no image of its own. Not redhat and sles: their scripts fetch headers with the image's own yum/zypper and
 * a subscription, so they need an image of that distro.
 */
export const ANY_FAMILIES: readonly Family[] = ['debian', 'ubuntu', 'rpm', 'amazonlinux', 'archlinux', 'kernel-source'];

/** A file the flow reads (not a command): found at one of its distro's paths. */
export type FileNeed = 'ca-certificates' | 'libelf-headers' | 'libssl-headers';

export type Need = { kind: 'command'; name: string; why: string } | { kind: 'file'; name: FileNeed; why: string };

const cmd = (name: string, why: string): Need => ({ kind: 'command', name, why });
const fileNeed = (name: FileNeed, why: string): Need => ({ kind: 'file', name, why });

/** Every kernel-module build, whatever the target: the container, sources, CMake, make and the module's checks. */
const KMOD_COMMON: Need[] = [
  cmd('/bin/bash', 'driverkit runs /bin/bash -l /driverkit/cmd.sh'),
  cmd('/bin/sleep', 'the container driverkit starts runs /bin/sleep while the scripts run'),
  cmd('chmod', 'cmd.sh makes the scripts executable'),
  cmd('mkdir', 'the scripts make their build and download directories'),
  cmd('rm', 'libs_download.sh clears its directories'),
  cmd('mv', 'libs_download.sh moves the unpacked sources into /tmp/driver'),
  cmd('curl', 'libs_download.sh and the headers scripts download over https'),
  fileNeed('ca-certificates', 'curl verifies the https downloads against them'),
  cmd('tar', 'the sources tarball is unpacked with tar -xzf'),
  cmd('gzip', 'tar -xzf runs gzip'),
  cmd('cmake', 'the driver is configured with cmake'),
  cmd('cc', "cmake's project() looks for the unversioned C compiler"),
  cmd('c++', "cmake's project() looks for the unversioned C++ compiler"),
  cmd('make', 'make CC=/usr/bin/gcc-X.Y.Z driver'),
  cmd('sed', "the cmake command line ends with a sed of driver_config.h; the headers scripts patch Makefiles"),
  cmd('sh', "the driver's configure probes run sh build.sh"),
  cmd('env', "the configure probes run under env -i"),
  cmd('uname', "libs' CMake runs uname -r"),
  cmd('readlink', 'the configure probes and headers scripts resolve paths with readlink -f'),
  cmd('dirname', 'the configure probes find their directory with dirname'),
  cmd('basename', "the driver's Makefile runs basename"),
  cmd('cat', 'the configure probes read their build.log with cat'),
  cmd('find', "the driver's Makefile and the headers scripts run find"),
  cmd('head', 'the headers scripts pick a directory with head -n 1'),
  cmd('xargs', 'the headers scripts run xargs readlink -f'),
  cmd('awk', "kbuild's module rules run awk"),
  cmd('ld', 'kbuild links the module with ld'),
  cmd('strip', 'strip -g on the built module'),
  cmd('modinfo', 'modinfo on the built module'),
];

const KMOD_FAMILY: Readonly<Record<Family, Need[]>> = {
  debian: [cmd('ar', 'debian_kernel.sh unpacks each .deb with ar x'), cmd('xz', 'tar -xf data.tar.xz runs xz')],
  ubuntu: [cmd('ar', 'ubuntu_kernel.sh unpacks each .deb with ar x'), cmd('xz', 'tar -xf data.tar.* runs xz for .xz'), cmd('zstd', 'tar -xf data.tar.* runs zstd for .zst (Ubuntu 21.10 and later)')],
  rpm: [cmd('rpm2cpio', 'the headers script unpacks kernel-devel with rpm2cpio'), cmd('cpio', 'rpm2cpio … | cpio --extract')],
  amazonlinux: [
    cmd('rpm2cpio', 'amazonlinux_kernel.sh unpacks each rpm with rpm2cpio'),
    cmd('cpio', 'rpm2cpio … | cpio --extract'),
    cmd('ld.bfd', 'amazonlinux.sh builds with LD=/usr/bin/ld.bfd'),
  ],
  archlinux: [cmd('xz', 'archlinux_kernel.sh unpacks the .pkg.tar.xz with tar -xf')],
  'kernel-source': [
    cmd('xz', 'the kernel source is unpacked with tar -Jxf'),
    cmd('cp', 'the kernel config is copied into place'),
    cmd('gcc', 'make oldconfig prepare modules_prepare builds the host tools with the plain gcc'),
    cmd('bc', 'make prepare runs bc'),
    cmd('flex', 'make oldconfig builds Kconfig with flex'),
    cmd('bison', 'make oldconfig builds Kconfig with bison'),
    fileNeed('libssl-headers', 'make prepare builds the signing tools against libssl'),
    fileNeed('libelf-headers', 'make prepare builds objtool and resolve_btfids against libelf'),
  ],
  redhat: [cmd('yum', 'redhat_kernel.sh downloads kernel-devel with yum'), cmd('rpm2cpio', 'the headers are unpacked with rpm2cpio'), cmd('cpio', 'rpm2cpio … | cpio --extract')],
  sles: [cmd('zypper', 'sles_kernel.sh downloads the headers with zypper'), cmd('rpm2cpio', 'the headers are unpacked with rpm2cpio'), cmd('cpio', 'rpm2cpio … | cpio --extract')],
};

const EBPF: Need[] = [cmd('clang', 'make bpf compiles the probe with clang'), cmd('llc', 'make bpf emits the probe object with llc')];

/** An image may declare its flows itself: `LABEL io.builder-images.flows="kmod ebpf"` (comma or space separated). */
export const LABEL_FLOWS = 'io.builder-images.flows';

/** The flows a label value names, or the reason it names none. */
export function parseFlowsLabel(value: string): { flows: Flow[] } | { error: string } {
  const names = value.split(/[\s,]+/).filter(Boolean);
  const unknown = names.filter((n) => !(FLOWS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length) {
    return { error: `the label ${LABEL_FLOWS}="${value}" must name flows from ${FLOWS.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}` };
  }
  return { flows: [...new Set(names as Flow[])] };
}

/** Which flows and families an image claims, as the config (and an image's label) choose them. */
export interface ContractChoice {
  contract: 'driverkit' | 'none';
  flows: Flow[];
  /** The families an `any` image serves. */
  anyFamilies: Family[];
}

export const DEFAULT_CONTRACT: ContractChoice = { contract: 'driverkit', flows: ['kmod'], anyFamilies: [...ANY_FAMILIES] };

/** One thing the contract needs, and every flow/family that needs it (`kmod`, `kmod/rpm`, `ebpf`). */
export interface ContractNeed {
  need: Need;
  for: string[];
}

/** The families a builder target stands for: its own, or the configured set for `any`; unknown targets: none. */
export function familiesOf(target: string | undefined, choice: ContractChoice): Family[] {
  if (target === undefined || target === 'any') return [...choice.anyFamilies];
  const family = TARGET_FAMILY[target];
  return family ? [family] : [];
}

/** The contract's needs for an image of `target`, each listed once, in the order the build meets them. */
export function contractNeeds(target: string | undefined, choice: ContractChoice): ContractNeed[] {
  if (choice.contract === 'none') return [];
  const byName = new Map<string, ContractNeed>();
  const add = (needs: Need[], label: string) => {
    for (const need of needs) {
      const key = `${need.kind}:${need.name}`;
      const seen = byName.get(key);
      if (seen) seen.for.push(label);
      else byName.set(key, { need, for: [label] });
    }
  };
  if (choice.flows.includes('kmod')) {
    add(KMOD_COMMON, 'kmod');
    for (const family of familiesOf(target, choice)) add(KMOD_FAMILY[family], `kmod/${family}`);
  }
  if (choice.flows.includes('ebpf')) add(EBPF, 'ebpf');
  return [...byName.values()];
}

// ---------------------------------------------------------------------------------------------------------------
// The image's distro, from /etc/os-release, and the packages that ship each need there

/** Where os-release lives (os-release(5)): /etc first, then /usr/lib. */
export const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'] as const;
/** os-release files are a few hundred bytes; what the check keeps of one. */
export const OS_RELEASE_MAX_BYTES = 4096;

export type DistroFamily = 'debian' | 'rpm' | 'suse' | 'arch';

export interface Distro {
  id: string;
  idLike: string[];
  versionId: string;
  /** PRETTY_NAME, or NAME and VERSION_ID. */
  name: string;
  /** The packaging family the package names follow; null when neither ID nor ID_LIKE is known. */
  family: DistroFamily | null;
}

/** Parse os-release(5): KEY=value lines, values optionally quoted with shell-like escapes; the rest ignored. */
export function parseOsRelease(text: string): Distro {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) fields.set(m[1]!, unquote(m[2]!.trim()));
  }
  const id = (fields.get('ID') ?? 'linux').toLowerCase();
  const idLike = (fields.get('ID_LIKE') ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const versionId = fields.get('VERSION_ID') ?? '';
  const name = fields.get('PRETTY_NAME') ?? [fields.get('NAME') ?? id, versionId].filter(Boolean).join(' ');
  return { id, idLike, versionId, name, family: distroFamily([id, ...idLike]) };
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
    const inner = value.slice(1, -1);
    return q === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
  }
  return value;
}

const FAMILY_OF_ID: Readonly<Record<string, DistroFamily>> = {
  debian: 'debian',
  ubuntu: 'debian',
  fedora: 'rpm',
  rhel: 'rpm',
  centos: 'rpm',
  rocky: 'rpm',
  almalinux: 'rpm',
  ol: 'rpm',
  amzn: 'rpm',
  alinux: 'rpm',
  photon: 'rpm',
  suse: 'suse',
  opensuse: 'suse',
  'opensuse-leap': 'suse',
  sles: 'suse',
  arch: 'arch',
};

function distroFamily(ids: string[]): DistroFamily | null {
  for (const id of ids) if (FAMILY_OF_ID[id]) return FAMILY_OF_ID[id];
  return null;
}

type PackageNames = Readonly<Record<DistroFamily, string>>;
const same = (name: string): PackageNames => ({ debian: name, rpm: name, suse: name, arch: name });

const COREUTILS = same('coreutils');
const BINUTILS = same('binutils');

/** The package that ships each need, per packaging family. */
const PACKAGES: Readonly<Record<string, PackageNames>> = {
  '/bin/bash': same('bash'),
  bash: same('bash'),
  '/bin/sleep': COREUTILS,
  chmod: COREUTILS,
  mkdir: COREUTILS,
  rm: COREUTILS,
  mv: COREUTILS,
  cp: COREUTILS,
  env: COREUTILS,
  uname: COREUTILS,
  readlink: COREUTILS,
  dirname: COREUTILS,
  basename: COREUTILS,
  cat: COREUTILS,
  head: COREUTILS,
  sh: { debian: 'dash', rpm: 'bash', suse: 'bash', arch: 'bash' },
  curl: same('curl'),
  tar: same('tar'),
  gzip: same('gzip'),
  cmake: same('cmake'),
  cc: same('gcc'),
  gcc: same('gcc'),
  'c++': { debian: 'g++', rpm: 'gcc-c++', suse: 'gcc-c++', arch: 'gcc' },
  make: same('make'),
  sed: same('sed'),
  find: same('findutils'),
  xargs: same('findutils'),
  awk: { debian: 'mawk', rpm: 'gawk', suse: 'gawk', arch: 'gawk' },
  ld: BINUTILS,
  'ld.bfd': BINUTILS,
  strip: BINUTILS,
  ar: BINUTILS,
  modinfo: same('kmod'),
  xz: { debian: 'xz-utils', rpm: 'xz', suse: 'xz', arch: 'xz' },
  zstd: same('zstd'),
  rpm2cpio: { debian: 'rpm2cpio', rpm: 'rpm', suse: 'rpm', arch: 'rpm-tools' },
  cpio: same('cpio'),
  bc: same('bc'),
  flex: same('flex'),
  bison: same('bison'),
  clang: same('clang'),
  llc: same('llvm'),
  yum: same('yum'),
  zypper: same('zypper'),
  'ca-certificates': same('ca-certificates'),
  'libelf-headers': { debian: 'libelf-dev', rpm: 'elfutils-libelf-devel', suse: 'libelf-devel', arch: 'libelf' },
  'libssl-headers': { debian: 'libssl-dev', rpm: 'openssl-devel', suse: 'libopenssl-devel', arch: 'openssl' },
};

/** Releases whose package differs from their family's: CentOS 7 and Amazon Linux 2 ship CMake 3 as cmake3. */
const RELEASE_PACKAGES: readonly { id: string; versionId: string; need: string; pkg: string }[] = [
  { id: 'centos', versionId: '7', need: 'cmake', pkg: 'cmake3 (EPEL; link /usr/bin/cmake to cmake3)' },
  { id: 'amzn', versionId: '2', need: 'cmake', pkg: 'cmake3 (link /usr/bin/cmake to cmake3)' },
];

/** The package that ships a need in this distro; undefined when the distro (or the need) is not known. */
export function packageFor(need: string, distro: Distro | null): string | undefined {
  if (!distro?.family) return undefined;
  const special = RELEASE_PACKAGES.find((r) => r.need === need && r.id === distro.id && (distro.versionId === r.versionId || distro.versionId.startsWith(`${r.versionId}.`)));
  return special?.pkg ?? PACKAGES[need]?.[distro.family];
}

/** Where each file need is looked for, per packaging family (null: the distro is not known, any of them). */
const FILE_PATHS: Readonly<Record<FileNeed, Readonly<Record<DistroFamily, readonly string[]>>>> = {
  'ca-certificates': {
    debian: ['/etc/ssl/certs/ca-certificates.crt'],
    rpm: ['/etc/pki/tls/certs/ca-bundle.crt', '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem'],
    suse: ['/etc/ssl/ca-bundle.pem'],
    arch: ['/etc/ssl/certs/ca-certificates.crt'],
  },
  'libelf-headers': { debian: ['/usr/include/libelf.h'], rpm: ['/usr/include/libelf.h'], suse: ['/usr/include/libelf.h'], arch: ['/usr/include/libelf.h'] },
  'libssl-headers': {
    debian: ['/usr/include/openssl/ssl.h'],
    rpm: ['/usr/include/openssl/ssl.h'],
    suse: ['/usr/include/openssl/ssl.h'],
    arch: ['/usr/include/openssl/ssl.h'],
  },
};

export const FILE_NEED_LABEL: Readonly<Record<FileNeed, string>> = {
  'ca-certificates': 'CA certificates',
  'libelf-headers': 'libelf headers',
  'libssl-headers': 'libssl headers',
};

/** The paths a file need may be at in this distro: its family's, or every family's when it is not known. */
export function filePaths(need: FileNeed, distro: Distro | null): string[] {
  const byFamily = FILE_PATHS[need];
  if (distro?.family) return [...byFamily[distro.family]];
  return [...new Set(Object.values(byFamily).flat())];
}
