/**
 * What verify runs in the image, per build kind, and what it needs on the host first:
 * - probe (default): the built-in Kbuild module, mounted read-only, the headers mounted read-only;
 * - module (`--module DIR|TARBALL|URL`): any out-of-tree module (Kbuild tree, or a CMake project with a `driver`
 *   target), mounted read-only as given, untarred inside the container;
 * - flow (`--flow driverkit`): the driver builder's own steps; the sources (a tarball) and the headers packages
 *   are served by a file server in a network namespace of its own, the only network the build reaches.
 * Every one runs sandboxed (adapters/engines/sandbox.ts); headers mount sources are checked for symlinks first.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { execa } from 'execa';
import { DRIVERKIT_FLOW_SCRIPT, flowEnv, type FlowPackaging } from '../core/driverkit-flow.js';
import { moduleMakeArgs } from '../core/kernel-headers.js';
import { MODULE_BUILD_SCRIPT, PROBE_CMAKE_FILES, PROBE_MODULE_FILES, PROBE_MODULE_NAME } from '../core/probe-module.js';
import { checkMountSource, stagedTreeOf, type Sandbox } from '../adapters/engines/sandbox.js';
import type { BindMount } from '../adapters/engines/run.js';
import { download, isSha256, sha256OfFile } from '../adapters/headers/download.js';
import { serveInFreshNetns, type LoopbackServer } from '../adapters/netns/file-server.js';
import type { StagedKernel } from '../adapters/headers/stage.js';
import type { Arch } from '../core/names.js';

/** A staged kernel with its arch known (app/verify.ts VerifyKernel). */
type VerifyKernel = StagedKernel & { arch: Arch };

/** A module source as given: a local directory or tarball, or an https URL (downloaded, optionally sha256-pinned). */
export interface ModuleSource {
  given: string;
  sha256?: string;
}

export type BuildSpec =
  | { kind: 'probe' }
  | { kind: 'module'; source: ModuleSource }
  | { kind: 'flow'; flow: 'driverkit'; source?: ModuleSource; driverName?: string; driverVersion?: string };

export function parseModuleSource(text: string): ModuleSource {
  const m = /^(.*)#sha256=(.*)$/.exec(text);
  if (!m) return { given: text };
  if (!isSha256(m[2]!)) throw new Error(`--module ${text}: the sha256 after "#sha256=" must be 64 lower-case hex digits`);
  return { given: m[1]!, sha256: m[2]! };
}

export interface HostPaths {
  cwd: string;
  /** The headers cache (.cache/headers): downloads and the staged trees the mounts come from. */
  cacheDir: string;
}

/** A source on the host: a directory, or a file (tarball). URLs are downloaded under the download discipline. */
export async function resolveModuleSource(source: ModuleSource, paths: HostPaths): Promise<{ path: string; isDir: boolean }> {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(source.given);
  const path = isUrl ? await download(source.given, { cacheDir: join(paths.cacheDir, 'modules'), sha256: source.sha256 }) : resolve(paths.cwd, source.given);
  const info = await stat(path).catch(() => undefined);
  if (!info || (!info.isDirectory() && !info.isFile())) throw new Error(`--module ${source.given}: no such directory or file`);
  if (info.isDirectory() && source.sha256) throw new Error(`--module ${source.given}: a directory has no sha256 to check`);
  if (!isUrl && source.sha256) {
    const actual = await sha256OfFile(path);
    if (actual !== source.sha256) throw new Error(`--module ${source.given}: sha256 is ${actual}, not the expected ${source.sha256}`);
  }
  return { path, isDir: info.isDirectory() };
}

/** Everything one run in the image needs. */
export interface PreparedBuild {
  argv: string[];
  mounts: BindMount[];
  containerEnv?: Record<string, string>;
  sandbox: Sandbox;
  /** What the progress line says is run. */
  describe: string;
  close(): Promise<void>;
}

export const OUT_IN = '/run/builder-images/out';
const MODULE_IN = '/run/builder-images/module';
const WORK_IN = '/tmp/builder-images-probe';

/**
 * The headers mounts, each source checked (no symlink on its way, inside its staged tree, or inside the headers
 * directory given) and read-only.
 */
export async function headersMounts(kernel: VerifyKernel, paths: HostPaths): Promise<BindMount[]> {
  const trees = join(paths.cacheDir, 'trees');
  const givenDirs = kernel.sources.map((s) => resolve(paths.cwd, s));
  const mounts: BindMount[] = [];
  for (const m of kernel.mounts) {
    const tree = (await stagedTreeOf(m.source, trees)) ?? givenDirs.find((d) => m.source === d || m.source.startsWith(d + sep));
    if (!tree) throw new Error(`mount source ${m.source} is neither in a staged headers tree nor in a headers directory given`);
    mounts.push({ source: await checkMountSource(m.source, tree), target: m.target, readonly: true });
  }
  return mounts;
}

/** The probe or `--module`: headers mounted, the source mounted read-only, built by MODULE_BUILD_SCRIPT. */
export async function prepareModuleBuild(kernel: VerifyKernel, gcc: string, spec: BuildSpec & { kind: 'probe' | 'module' }, work: string, paths: HostPaths): Promise<PreparedBuild> {
  let source: { path: string; isDir: boolean };
  if (spec.kind === 'probe') {
    const dir = join(work, 'module');
    await mkdir(dir);
    for (const [name, text] of Object.entries(PROBE_MODULE_FILES)) await writeFile(join(dir, name), text);
    source = { path: dir, isDir: true };
  } else {
    source = await resolveModuleSource(spec.source, paths);
  }
  const cc = `/usr/bin/gcc-${gcc}`;
  const make = moduleMakeArgs({ buildDir: kernel.buildDir, moduleDir: WORK_IN, cc, kernel: kernel.arch, image: kernel.arch }).filter((a) => !a.startsWith('M='));
  const inside = source.isDir ? MODULE_IN : `${MODULE_IN}.tar`;
  return {
    argv: ['/bin/sh', '-c', MODULE_BUILD_SCRIPT, 'verify', inside, WORK_IN, OUT_IN, kernel.buildDir, cc, ...make],
    mounts: [...(await headersMounts(kernel, paths)), { source: source.path, target: inside, readonly: true }, { source: join(work, 'out'), target: OUT_IN, readonly: false }],
    sandbox: { network: { kind: 'none' } },
    describe: spec.kind === 'probe' ? `make ${make.join(' ')} (probe ${PROBE_MODULE_NAME})` : `module ${spec.source.given} (Kbuild: make ${make.join(' ')}; CMake: cmake .. && make CC=${cc} driver)`,
    close: async () => undefined,
  };
}

/** The headers packages the flow downloads: the files the kernel was staged from (cached downloads, or paths). */
async function headersPackages(kernel: VerifyKernel, paths: HostPaths): Promise<{ packaging: FlowPackaging; files: string[] }> {
  if (kernel.packaging === 'other') throw new Error(`the driver builder's flow downloads headers packages (.deb or .rpm); ${kernel.sources.join(' + ')} is neither`);
  const files: string[] = [];
  for (const given of kernel.sources) {
    const m = /^(.*)#sha256=(.*)$/.exec(given);
    const location = m ? m[1]! : given;
    files.push(/^[a-z][a-z0-9+.-]*:\/\//i.test(location) ? await download(location, { cacheDir: paths.cacheDir, sha256: m?.[2] }) : resolve(paths.cwd, location));
  }
  return { packaging: kernel.packaging, files };
}

/** The module tarball the flow downloads: as given, a directory packed, or the built-in Falco-shaped tree. */
async function flowTarball(spec: BuildSpec & { kind: 'flow' }, work: string, paths: HostPaths): Promise<string> {
  const tarball = join(work, 'module.tar.gz');
  if (spec.source) {
    const source = await resolveModuleSource(spec.source, paths);
    if (!source.isDir) return source.path;
    await execa('tar', ['-czf', tarball, '-C', dirname(source.path), '--', basename(source.path)]);
    return tarball;
  }
  const top = join(work, 'driver-src', 'bi-probe-driver');
  for (const [name, text] of Object.entries(PROBE_CMAKE_FILES)) {
    await mkdir(dirname(join(top, name)), { recursive: true });
    await writeFile(join(top, name), text);
  }
  await execa('tar', ['-czf', tarball, '-C', dirname(top), '--', basename(top)]);
  return tarball;
}

/** The driver builder's flow: a file server for its downloads, its script at /driverkit/cmd.sh. */
export async function prepareFlow(kernel: VerifyKernel, gcc: string, spec: BuildSpec & { kind: 'flow' }, work: string, paths: HostPaths): Promise<PreparedBuild> {
  const [tarball, headers] = await Promise.all([flowTarball(spec, work, paths), headersPackages(kernel, paths)]);
  const served = headers.files.map((path, i) => ({ name: `${i}-${basename(path).replace(/[^A-Za-z0-9._+~-]/g, '_')}`, path }));
  const server: LoopbackServer = await serveInFreshNetns([{ name: 'module.tar.gz', path: tarball }, ...served]);
  try {
    const scripts = join(work, 'driverkit');
    await mkdir(scripts);
    await writeFile(join(scripts, 'cmd.sh'), DRIVERKIT_FLOW_SCRIPT, { mode: 0o755 });
    const driverName = spec.driverName ?? (spec.source ? 'falco' : PROBE_MODULE_NAME);
    const containerEnv = flowEnv({
      moduleUrl: `${server.baseUrl}/module.tar.gz`,
      kernelUrls: served.map((f) => `${server.baseUrl}/${f.name}`),
      packaging: headers.packaging,
      arch: kernel.arch,
      gcc,
      driverName,
      driverVersion: spec.driverVersion ?? '0.0.0+driver',
      deviceName: driverName,
      outDir: OUT_IN,
    });
    return {
      argv: ['/bin/bash', '-l', '/driverkit/cmd.sh'],
      mounts: [{ source: scripts, target: '/driverkit', readonly: true }, { source: join(work, 'out'), target: OUT_IN, readonly: false }],
      containerEnv,
      // tar and cpio restore owners and modes of what they unpack, as root: that needs these three, no more.
      sandbox: { network: { kind: 'netns', path: server.netnsPath }, capabilities: ['CHOWN', 'FOWNER', 'DAC_OVERRIDE'] },
      describe: `the driver builder's flow (curl from ${server.baseUrl}, cmake, make CC=/usr/bin/gcc-${gcc} driver, strip -g, modinfo)`,
      close: () => server.close(),
    };
  } catch (err) {
    await server.close();
    throw err;
  }
}
