/**
 * Check images: stream every layer once into a metadata tree, apply the check rules, and optionally run the
 * compilers for real (--exec). Works on any image source.
 */
import { checkTree, type CheckReport } from '../core/check-rules.js';
import { checkContract } from '../core/contract-rules.js';
import { DEFAULT_CONTRACT, LABEL_FLOWS, parseFlowsLabel, type ContractChoice } from '../core/driver-contract.js';
import { FileTree, TreeError, type LayerEntry, type TreeView } from '../core/filetree.js';
import { archOfPlatform, formatArchTag, parseImageTag, platformOfArch, platformString, type Arch, type BuilderName } from '../core/names.js';
import { tryParseReference } from '../core/reference.js';
import { formatPlatform, platformMatches, type Platform } from '../core/oci.js';
import { parseGccVersion } from '../core/version.js';
import type { Readable } from 'node:stream';
import { LayerError, readLayer, type LayerRead } from '../adapters/layers/read-layer.js';
import { openImageSource, type ImageSource, type SourceImage } from '../adapters/sources/index.js';
import { RegistrySource } from '../adapters/sources/registry.js';
import type { RegistryClient } from '../adapters/registry/index.js';
import { builderImages } from '../adapters/fs/images-dir.js';
import { UsageError } from '../errors.js';
import type { Repo } from './repo.js';
import { emulationFor, type EngineName } from '../adapters/engines/detect.js';
import { runInImage } from '../adapters/engines/run.js';

export interface Expectation {
  gccVersions: string[];
  /** The arch the name promises; when absent, the image's own platform decides. */
  arch?: Arch;
  /** The target (distro) the name promises, when a name says it: it picks the Dockerfile the image came from. */
  target?: string;
  /** The driver builder's contract to prove (default: driverkit's kernel-module flow). */
  contract?: ContractChoice;
}

/** What the check reads from an image's config besides its layers. */
export interface ImageSettings {
  env?: readonly string[] | null;
  labels?: Readonly<Record<string, string>> | null;
}

/** One thing to check: where the image is, what it must hold, and the Dockerfile that made it. */
export interface CheckTarget {
  spec: string;
  expect: Expectation;
  dockerfile?: string;
}

/** A target's checks (one per platform checked), or the error that stopped it. */
export interface TargetCheck extends ImageCheck {
  dockerfile?: string;
  error?: string;
  /** The error behind `error`, for the command to word a hint from its data. */
  failure?: unknown;
}

export interface ExecResult {
  gcc: string;
  verdict: 'ok' | 'error' | 'skipped';
  version?: string;
  message: string;
}

export interface ImageCheck {
  source: string;
  description: string;
  digest: string;
  platform: string;
  report: CheckReport;
  exec?: ExecResult[];
  layers: number;
  compressedBytes: number;
  ok: boolean;
}

/** Layers read at once: zlib runs on the thread pool, so two use both cores of a small runner. */
const LAYER_READS = 2;
/** Entries a layer read ahead of its turn may hold before it waits (bounds the memory of the read-ahead). */
const READ_AHEAD_ENTRIES = 50_000;
export const DEFAULT_MAX_ENTRIES = 2_000_000;

export interface TreeLimits {
  /** Entries per image (every layer's together); default 2 million. */
  maxEntries?: number;
  /** Largest zstd window accepted, in bytes; default 128 MiB. */
  maxZstdWindow?: number;
}

/**
 * A layer's entries on their way to the tree. The layer whose turn it is applies them as they stream; the next
 * one reads ahead, holding at most READ_AHEAD_ENTRIES before it waits for its turn.
 */
class LayerFeed {
  private queued: LayerEntry[][] = [];
  private count = 0;
  private apply: ((entries: LayerEntry[]) => void) | undefined;
  private resume: ((err?: Error) => void) | undefined;
  private cancelled: Error | undefined;

  push(entries: LayerEntry[]): void | Promise<void> {
    if (this.cancelled) throw this.cancelled;
    if (this.apply) return this.apply(entries);
    this.queued.push(entries);
    this.count += entries.length;
    if (this.count >= READ_AHEAD_ENTRIES) return new Promise<void>((resolve, reject) => (this.resume = (err) => (err ? reject(err) : resolve())));
  }

  /** An earlier layer failed: the read ahead stops (and its decompressor with it) instead of waiting forever. */
  cancel(): void {
    this.cancelled = new Error('cancelled: an earlier layer failed');
    this.queued = [];
    this.resume?.(this.cancelled);
  }

  /** Its turn: apply what was read ahead, then every batch as it comes. */
  start(apply: (entries: LayerEntry[]) => void): void {
    for (const batch of this.queued) apply(batch);
    this.queued = [];
    this.apply = apply;
    this.resume?.();
  }
}

/** Merge an image's layers into a tree, each layer streamed once and applied in order as it streams. */
export async function readImageTree(image: SourceImage, onLayer?: (index: number, total: number) => void, limits: TreeLimits = {}): Promise<{ tree: FileTree; compressedBytes: number }> {
  const layers = image.manifest.layers;
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const feeds = layers.map(() => new LayerFeed());
  const blobs: Readable[] = [];
  const reads: Promise<LayerRead>[] = [];
  const startRead = (i: number) => {
    if (i >= layers.length || reads[i]) return;
    const layer = layers[i]!;
    const blob = image.openLayer(layer, i);
    blobs[i] = blob;
    reads[i] = readLayer(blob, {
      digest: image.verifiesLayers || !layer.digest ? undefined : layer.digest,
      what: `layer ${i + 1} of ${image.description}`,
      zstd: { maxWindow: limits.maxZstdWindow },
      onEntries: (entries) => feeds[i]!.push(entries),
    });
    reads[i]!.catch(() => {}); // awaited in its turn; a read ahead must not fail unobserved meanwhile
  };
  const tree = new FileTree();
  let entries = 0;
  let compressedBytes = 0;
  try {
    for (let i = 0; i < layers.length; i++) {
      for (let j = i; j < i + LAYER_READS; j++) startRead(j);
      onLayer?.(i, layers.length);
      tree.beginLayer();
      feeds[i]!.start((batch) => {
        entries += batch.length;
        if (entries > maxEntries) {
          throw new LayerError(`layer ${i + 1} of ${image.description}: the image has more than ${maxEntries} entries, the limit (raise it with --max-entries if the image is trusted)`);
        }
        try {
          for (const e of batch) tree.add(e);
        } catch (err) {
          if (err instanceof TreeError) throw new LayerError(`layer ${i + 1} of ${image.description} cannot be applied: ${err.message}`, { cause: err });
          throw err;
        }
      });
      compressedBytes += (await reads[i]!).compressedBytes;
    }
  } catch (err) {
    for (const feed of feeds) feed.cancel();
    for (const blob of blobs) blob?.destroy();
    await Promise.allSettled(reads);
    throw err;
  }
  return { tree, compressedBytes };
}

export interface CheckOptions extends TreeLimits {
  platform?: Platform;
  onProgress?: (line: string) => void;
}

export async function checkSource(source: ImageSource, expect: Expectation, options: CheckOptions = {}): Promise<ImageCheck[]> {
  const wanted = options.platform ?? (expect.arch ? platformOfArch(expect.arch) : undefined);
  const images = await source.images(wanted);
  // An index gives the platform asked for; a single-platform image must be it, or the check would silently
  // judge another platform than the one named.
  const other = options.platform && images.find((image) => !platformMatches(image.platform, options.platform!));
  if (other) throw new Error(`${source.label} is a single-platform ${formatPlatform(other.platform)} image, not ${formatPlatform(options.platform!)} as --platform asks`);
  const results: ImageCheck[] = [];
  for (const image of images) {
    options.onProgress?.(`checking ${image.description}`);
    const { tree, compressedBytes } = await readImageTree(image, (i, n) => options.onProgress?.(`  layer ${i + 1}/${n}`), options);
    const report = judgeTree(tree, image.platform, expect, { env: image.config.config?.Env, labels: image.config.config?.Labels });
    results.push({
      source: source.label,
      description: image.description,
      digest: image.digest,
      platform: formatPlatform(image.platform),
      report,
      layers: image.manifest.layers.length,
      compressedBytes,
      ok: report.ok,
    });
  }
  return results;
}

/** The check rules on an image's file system (merged from layers, or a mounted root), platform included. */
export function judgeTree(tree: TreeView, platform: Platform, expect: Expectation, settings: ImageSettings = {}): CheckReport {
  const imageArch = archOfPlatform(platform.architecture);
  const arch = expect.arch ?? imageArch;
  const report: CheckReport = arch ? checkTree(tree, { arch, gccVersions: expect.gccVersions }) : { arch: null, platform: formatPlatform(platform), gccs: [], extra: [], ok: false };
  if (!arch) report.extra.push({ path: '/', message: `the image is ${formatPlatform(platform)}, which no builder arch (x86_64, aarch64) matches` });
  else if (imageArch !== arch) {
    report.extra.push({ path: '/', message: `the image is ${formatPlatform(platform)} but its name says ${arch} (${platformString(arch)}): build it with --platform ${platformString(arch)}` });
    report.ok = false;
  }
  if (arch) {
    const choice = imageChoice(expect.contract ?? DEFAULT_CONTRACT, settings.labels, report);
    report.contract = checkContract(tree, { arch, target: expect.target, choice, env: settings.env ?? undefined });
    if (report.contract && !report.contract.ok) report.ok = false;
  }
  return report;
}

/** The configured contract, with the flows an image's own label declares. A bad label is an error of the image. */
function imageChoice(choice: ContractChoice, labels: ImageSettings['labels'], report: CheckReport): ContractChoice {
  const value = labels?.[LABEL_FLOWS];
  if (value === undefined || choice.contract === 'none') return choice;
  const parsed = parseFlowsLabel(value);
  if ('error' in parsed) {
    report.extra.push({ path: '/', message: parsed.error });
    report.ok = false;
    return choice;
  }
  return { ...choice, flows: parsed.flows };
}

/** A report's errors as sentences (empty when it passed): the GCC links first, then the contract's findings. */
export function reportProblems(report: CheckReport): string[] {
  return [
    ...report.gccs.filter((g) => g.verdict === 'error').map((g) => g.message ?? `gcc ${g.gcc}: error`),
    ...report.extra.map((e) => e.message),
    ...(report.contract?.findings ?? []).filter((f) => f.verdict === 'error').map((f) => f.message ?? `${f.need}: error`),
  ];
}

/**
 * Run `gcc-X.Y.Z -dumpfullversion` in the image through an engine. The major must match the name, and the
 * minor too where the name's minor is not 0. A foreign arch without qemu binfmt is skipped, saying why.
 */
async function execCheck(engine: EngineName, imageRef: string, arch: Arch, gccVersions: string[], insecureRegistries: string[] = []): Promise<ExecResult[]> {
  const emulation = emulationFor(arch);
  if (emulation.mode === 'none') {
    return gccVersions.map((gcc) => ({ gcc, verdict: 'skipped' as const, message: `not run: ${platformString(arch)} cannot execute here (${emulation.detail})` }));
  }
  const results: ExecResult[] = [];
  for (const gcc of gccVersions) {
    const r = await runInImage(engine, imageRef, platformString(arch), [`/usr/bin/gcc-${gcc}`, '-dumpfullversion'], { insecureRegistries });
    const version = r.stdout.trim().split('\n').pop() ?? '';
    if (r.exitCode !== 0) {
      results.push({ gcc, verdict: 'error', message: `gcc-${gcc} -dumpfullversion failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop() ?? ''}` });
      continue;
    }
    const want = parseGccVersion(gcc)!;
    const got = version.split('.').map(Number);
    const majorOk = got[0] === want.major;
    const minorOk = want.minor === 0 || got[1] === want.minor;
    results.push(
      majorOk && minorOk
        ? { gcc, verdict: 'ok', version, message: `runs as GCC ${version} (${emulation.detail})` }
        : { gcc, verdict: 'error', version, message: `gcc-${gcc} reports version ${version}: the name promises ${want.minor === 0 ? `GCC ${want.major}` : `GCC ${want.major}.${want.minor}`}` },
    );
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// The check command's use case: which images, and each one checked (and run, with an engine)

/** Every image images/ defines, under a repository and version tag. */
export function allTargets(repo: Repo, repository: string, version: string): CheckTarget[] {
  return builderImages(repo.files).map((f) => ({
    spec: `${repository}:${formatArchTag(f.name as BuilderName, version)}`,
    expect: { gccVersions: f.name.gccVersions, arch: f.name.arch, target: f.name.target, contract: repo.config.check },
    dockerfile: f.path,
  }));
}

/**
 * One image named on the command line. What it must hold comes from `expect` (flags) or else from its builder
 * tag; its Dockerfile is the one with the same target, GCCs and arch (none when the target is not known).
 */
export function explicitTarget(repo: Repo, spec: string, expect: Expectation | undefined): CheckTarget {
  const tag = parseImageTag(tryParseReference(spec)?.tag ?? '');
  const named = expect ?? (tag ? { gccVersions: tag.gccVersions, arch: tag.arch, target: tag.target } : undefined);
  if (!named) throw new UsageError(`cannot tell which GCCs ${spec} must hold: its tag is not a builder tag; pass --name or --gcc`);
  const resolved: Expectation = { ...named, contract: named.contract ?? repo.config.check };
  const file = resolved.target
    ? builderImages(repo.files).find(
        (f) => f.name.target === resolved.target && f.name.gccVersions.join() === resolved.gccVersions.join() && (!resolved.arch || f.name.arch === resolved.arch),
      )
    : undefined;
  return { spec, expect: resolved, dockerfile: file?.path };
}

export interface CheckTargetsOptions {
  client: RegistryClient;
  cwd: string;
  /** Which platform of a multi-arch index to check. */
  platform?: Platform;
  /** Run the compilers too (--exec) through this engine. */
  engine?: EngineName;
  insecureRegistries?: string[];
  onProgress?: (line: string) => void;
  /** Bounds on what a layer may hold (--max-entries, --zstd-window-mib). */
  limits?: TreeLimits;
}

/** Check every target; a target that cannot be read is a failed check saying why, and the others still run. */
export async function checkTargets(targets: CheckTarget[], options: CheckTargetsOptions): Promise<TargetCheck[]> {
  const checks: TargetCheck[] = [];
  for (const target of targets) {
    const source = openImageSource(target.spec, options.client, options.cwd);
    try {
      for (const r of await checkSource(source, target.expect, { platform: options.platform, onProgress: options.onProgress, ...options.limits })) {
        if (options.engine) {
          r.exec = await execTarget(target, source, r.report.arch, options.engine, options.insecureRegistries);
          if (r.exec.some((e) => e.verdict === 'error')) r.ok = false;
        }
        checks.push({ ...r, dockerfile: target.dockerfile });
      }
    } catch (err) {
      // A source the user named wrongly (no such image in a layout, not an archive…) is theirs to fix: exit 2.
      if (err instanceof UsageError) throw err;
      const report: CheckReport = { arch: null, platform: '', gccs: [], extra: [], ok: false };
      checks.push({ source: target.spec, description: target.spec, digest: '', platform: '', layers: 0, compressedBytes: 0, ok: false, report, dockerfile: target.dockerfile, error: (err as Error).message, failure: err });
    } finally {
      await source.close?.();
    }
  }
  return checks;
}

/** --exec of one checked image: skipped, saying why, when no engine can run it or its arch is not a builder's. */
async function execTarget(target: CheckTarget, source: ImageSource, arch: Arch | null, engine: EngineName, insecureRegistries: string[] = []): Promise<ExecResult[]> {
  const skip = (message: string) => target.expect.gccVersions.map((gcc) => ({ gcc, verdict: 'skipped' as const, message }));
  const runnable = runnableImage(target.spec, source, engine);
  if (!runnable) return skip('--exec needs a registry reference or an engine image (docker:/podman:/buildah:IMAGE)');
  if (!arch) return skip('not run: the image is for no builder arch (x86_64, aarch64)');
  return execCheck(runnable.engine, runnable.image, arch, target.expect.gccVersions, insecureRegistries);
}

/** What an engine can run: a registry reference (pulled), or an image already in that engine. */
function runnableImage(spec: string, source: ImageSource, engine: EngineName): { engine: EngineName; image: string } | undefined {
  if (source instanceof RegistrySource) return { engine, image: spec };
  const local = /^(docker|podman|buildah):(.+)$/.exec(spec);
  return local ? { engine: local[1] as EngineName, image: local[2]! } : undefined;
}
