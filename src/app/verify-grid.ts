/**
 * verify at the driver grid's scale: every kernel of a list that `select` sends to an image, cut into a shard,
 * headers staged once per kernel and shared by every image built for it, builds run `jobs` at a time, and the
 * pairs already proven for the same image digest, module and flow skipped (their records live beside the image in
 * the registry). The per-pair build is the caller's (app/verify's verifyOne): this file only plans and schedules.
 */
import pLimit from 'p-limit';
import { answeringSources } from '../adapters/kernels/kernel-list-source.js';
import type { RegistryClient } from '../adapters/registry/client.js';
import type { Subject } from '../adapters/registry/referrers.js';
import type { IndexEntry } from '../core/index-schema.js';
import { chooseHeaders, shardOf, type KernelListEntry, type Shard } from '../core/kernel-list.js';
import { pickForKernel } from '../core/kernel-picks.js';
import { recordKey, type VerificationRecord } from '../core/verify-record.js';
import { loadKernels, type Candidate, type VerifyKernel, type VerifyRow } from './verify.js';
import { readRecords, storeRecords, subjectOf } from './verify-records.js';

/** A kernel of the list with the image and GCC the driver builder sends it to. */
export interface GridPair {
  kernel: KernelListEntry;
  candidate: Candidate;
}

/** The key that puts a pair in exactly one shard: stable whatever the list's order. */
export const pairKey = (p: { kernel: KernelListEntry; candidate: { image: string } }) => `${p.kernel.arch} ${p.kernel.target} ${p.kernel.release} ${p.candidate.image}`;

export interface GridPlan {
  pairs: GridPair[];
  /** Kernels no image serves, or only without the GCC they want (with `exactOnly`), with why. */
  unserved: { kernel: KernelListEntry; why: string }[];
}

/**
 * The pairs to build: each kernel with the image select picks for it (index entries), narrowed to `images` when
 * given, then cut to the shard.
 */
export function planGrid(kernels: KernelListEntry[], entries: IndexEntry[], tag: string, options: { shard?: Shard; images?: (image: string) => boolean } = {}): GridPlan {
  const pairs: GridPair[] = [];
  const unserved: GridPlan['unserved'] = [];
  for (const kernel of kernels) {
    const pick = pickForKernel(entries, kernel, tag);
    if (!pick.image || !pick.gcc) {
      unserved.push({ kernel, why: pick.reason === 'bad-release' ? `kernel release "${kernel.release}" does not parse` : `no image for target ${kernel.target} (or any), arch ${kernel.arch}, tag ${tag}` });
      continue;
    }
    if (options.images && !options.images(pick.image)) continue;
    const why = `kernel ${kernel.release} wants GCC ${pick.wanted}; ${pick.reason}${pick.exact ? '' : ` gives ${pick.gcc}`}`;
    pairs.push({ kernel, candidate: { image: pick.image, gcc: pick.gcc, why } });
  }
  return { pairs: options.shard ? shardOf(pairs, options.shard, pairKey) : pairs, unserved };
}

export interface GridRecords {
  client: RegistryClient;
  /** sha256 of the module's sources, `sha256:<hex>`. */
  moduleSource: string;
  /** The flow's name in a record (`probe`, `driverkit`…, `+boot` when booted). */
  flow: string;
}

export interface GridOptions {
  jobs: number;
  cwd: string;
  cacheDir: string;
  onProgress?: (line: string) => void;
  /** Build one pair: the headers are staged, the candidate chosen. */
  runPair: (kernel: VerifyKernel, candidate: Candidate) => Promise<VerifyRow>;
  /** Read and write verification records in the registry; without it every pair is built. */
  records?: GridRecords;
  /** Probe headers URLs with HEAD as the driver builder does (default on). */
  probeUrls?: boolean;
}

export interface GridRow extends VerifyRow {
  /** Proven earlier for the same image digest, module and flow: not rebuilt. */
  cached?: boolean;
  /** The boot's verdict, when the module was booted (`loads`, `refused: …`). */
  boot?: string;
}

/**
 * Run a plan: kernels staged one at a time per job slot (each kernel's tree serves all of its pairs, then is
 * released), pairs built up to `jobs` at once, records read once per image before and written once per image after.
 */
export async function runGrid(plan: GridPlan, options: GridOptions): Promise<GridRow[]> {
  const byKernel = new Map<string, GridPair[]>();
  for (const p of plan.pairs) {
    const key = `${p.kernel.arch} ${p.kernel.target} ${p.kernel.release}`;
    byKernel.set(key, [...(byKernel.get(key) ?? []), p]);
  }
  const ledger = options.records ? await openLedger([...new Set(plan.pairs.map((p) => p.candidate.image))], options.records, options.onProgress) : undefined;
  const limit = pLimit(Math.max(1, options.jobs));
  const gated = { ...options, runPair: firstAlone(options.runPair) };
  const rows: GridRow[] = [];
  let done = 0;
  const total = plan.pairs.length;
  await Promise.all(
    [...byKernel.values()].map((pairs) =>
      limit(async () => {
        const todo = pairs.filter((p) => !ledger?.isProven(p));
        for (const p of pairs.filter((q) => !todo.includes(q))) rows.push(cachedRow(p));
        if (todo.length) rows.push(...(await buildKernel(todo, gated, ledger)));
        done += pairs.length;
        options.onProgress?.(`verify: ${done}/${total} pair(s) done (${pairs[0]!.kernel.release}, ${pairs[0]!.kernel.arch})`);
      }),
    ),
  );
  if (ledger) await ledger.flush(options.onProgress);
  const order = new Map(plan.pairs.map((p, i) => [pairKey(p), i]));
  return rows.sort((a, b) => (order.get(rowKey(a)) ?? 0) - (order.get(rowKey(b)) ?? 0));
}

/**
 * The first build with an image runs alone, the others with it wait for it: the engine pulls the image once,
 * instead of `jobs` pulls of one image racing in one storage.
 */
function firstAlone(runPair: GridOptions['runPair']): GridOptions['runPair'] {
  const first = new Map<string, Promise<VerifyRow>>();
  return async (kernel, candidate) => {
    const prior = first.get(candidate.image);
    if (prior) {
      await prior.catch(() => undefined);
      return runPair(kernel, candidate);
    }
    const run = runPair(kernel, candidate);
    first.set(candidate.image, run);
    return run;
  };
}

const rowKey = (r: VerifyRow) => `${r.arch} ${r.target} ${r.kernel} ${r.image}`;

function cachedRow(p: GridPair): GridRow {
  return { kernel: p.kernel.release, arch: p.kernel.arch, target: p.kernel.target, image: p.candidate.image, gcc: p.candidate.gcc, verdict: 'pass', seconds: 0, message: 'proven earlier for this image digest, module and flow (verification record in the registry): not rebuilt', errors: [], why: p.candidate.why, headers: p.kernel.headers.map((h) => h.source), cached: true };
}

function failedRow(p: GridPair, message: string): GridRow {
  return { kernel: p.kernel.release, arch: p.kernel.arch, target: p.kernel.target, image: p.candidate.image, gcc: p.candidate.gcc, verdict: 'fail', seconds: 0, message, errors: [], why: p.candidate.why, headers: p.kernel.headers.map((h) => h.source) };
}

/** Stage one kernel's headers (the URLs that answer, as the driver builder keeps them) and build all its pairs. */
async function buildKernel(pairs: GridPair[], options: GridOptions, ledger: Ledger | undefined): Promise<GridRow[]> {
  const kernel = pairs[0]!.kernel;
  let staged: Awaited<ReturnType<typeof loadKernels>>;
  try {
    const answering = options.probeUrls === false ? undefined : await answeringSources(kernel.headers.map((h) => h.source), options.cwd);
    const chosen = chooseHeaders(kernel, answering ? (s) => answering.has(s) : undefined);
    if (chosen.length === 0) return pairs.map((p) => failedRow(p, `no headers package of kernel ${kernel.release} answers (HEAD): ${kernel.headers.length} listed`));
    staged = await loadKernels(chosen.map((h) => ({ location: h.source, sha256: h.sha256 })), { release: kernel.release, arch: kernel.arch, target: kernel.target }, { cwd: options.cwd, cacheDir: options.cacheDir, onProgress: options.onProgress });
  } catch (err) {
    return pairs.map((p) => failedRow(p, `headers of ${kernel.release}: ${(err as Error).message}`));
  }
  try {
    const tree = staged.kernels.find((k) => k.arch === kernel.arch);
    if (!tree) return pairs.map((p) => failedRow(p, `the headers of ${kernel.release} hold no ${kernel.arch} kernel`));
    const rows: GridRow[] = [];
    for (const p of pairs) {
      const row = await options.runPair(tree, p.candidate);
      ledger?.add(p, row);
      rows.push(row);
    }
    return rows;
  } finally {
    await staged.cleanup();
  }
}

interface Ledger {
  isProven(p: GridPair): boolean;
  add(p: GridPair, row: VerifyRow): void;
  flush(onProgress?: (line: string) => void): Promise<void>;
}

/** Each image's records, read once; new ones kept per image and written once at the end. */
async function openLedger(images: string[], records: GridRecords, onProgress?: (line: string) => void): Promise<Ledger> {
  const subjects = new Map<string, { subject: Subject; proven: Set<string>; fresh: VerificationRecord[] }>();
  for (const image of images) {
    try {
      const subject = await subjectOf(records.client, image);
      const read = await readRecords(records.client, subject);
      subjects.set(image, { subject, proven: read.proven, fresh: [] });
      onProgress?.(`verify: ${image}: ${read.proven.size} pair(s) proven earlier for ${subject.digest.slice(0, 19)}`);
    } catch (err) {
      // A local image, or a registry that refuses: build everything for it, say why.
      onProgress?.(`verify: ${image}: no verification records (${(err as Error).message.split('\n')[0]}): every pair is built`);
    }
  }
  const keyOf = (p: GridPair, digest: string) => recordKey({ imageDigest: digest, release: p.kernel.release, arch: p.kernel.arch, moduleSource: records.moduleSource, flow: records.flow });
  return {
    isProven: (p) => {
      const s = subjects.get(p.candidate.image);
      return s !== undefined && s.proven.has(keyOf(p, s.subject.digest));
    },
    add: (p, row) => {
      const s = subjects.get(p.candidate.image);
      if (!s || row.verdict === 'skipped') return;
      const boot = (row as GridRow).boot;
      s.fresh.push({ imageDigest: s.subject.digest, release: p.kernel.release, arch: p.kernel.arch, moduleSource: records.moduleSource, flow: records.flow, verdict: row.verdict, ...(boot ? { boot } : {}), ...(row.vermagic ? { vermagic: row.vermagic } : {}), message: row.message.slice(0, 4096), at: new Date().toISOString() });
    },
    flush: async (progress) => {
      for (const [image, s] of subjects) {
        if (s.fresh.length === 0) continue;
        try {
          const digest = await storeRecords(records.client, s.subject, s.fresh);
          progress?.(`verify: ${image}: ${s.fresh.length} verification record(s) stored as ${digest?.slice(0, 19)}`);
        } catch (err) {
          progress?.(`verify: ${image}: could not store verification records: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    },
  };
}
