/**
 * build --reproduce: an image built twice from the same tree (the second without any layer cache) and the two
 * results compared. The same manifest digest is the proof; otherwise the config keys and the files that
 * differ, read from both builds' layers the way check reads them (mtime and a hash of every file's content).
 */
import { cleanPath, diffConfigs, diffLayer, type FileDifference, type FileFacts } from '../core/reproduce.js';
import type { LayerEntry } from '../core/filetree.js';
import { OciLayoutSource } from '../adapters/sources/oci-layout.js';
import type { SourceImage } from '../adapters/sources/types.js';
import { readImageTree } from './check.js';
import { buildImage, type BuildImageOptions, type BuiltImage } from './build-image.js';
import type { Repo } from './repo.js';
import type { ImageTags } from './tags.js';

export interface Comparison {
  reproducible: boolean;
  digests: [string, string];
  /** Config keys that differ (`created`, `history`, `config.Labels`…). */
  config: string[];
  /** Layer counts when they differ. */
  layerCounts?: [number, number];
  /** Layers (1-based) whose digests differ. */
  layers: number[];
  files: FileDifference[];
}

/** The two layouts' images compared, down to the files of every layer whose digest differs. */
export async function compareLayouts(first: string, second: string): Promise<Comparison> {
  const [a] = await new OciLayoutSource(first).images();
  const [b] = await new OciLayoutSource(second).images();
  if (!a || !b) throw new Error(`${a ? second : first}: the build output holds no image`);
  const digests: [string, string] = [a.digest, b.digest];
  if (a.digest === b.digest) return { reproducible: true, digests, config: [], layers: [], files: [] };
  const config = diffConfigs(a.config as Record<string, unknown>, b.config as Record<string, unknown>);
  const la = a.manifest.layers;
  const lb = b.manifest.layers;
  const layers = la.map((l, i) => (l.digest === lb[i]?.digest ? 0 : i + 1)).filter((n) => n > 0);
  const [filesA, filesB] = await Promise.all([layerFiles(a), layerFiles(b)]);
  const files = layers.filter((n) => n <= lb.length).flatMap((n) => diffLayer(n, filesA[n - 1]!, filesB[n - 1]!));
  const out: Comparison = { reproducible: false, digests, config, layers, files };
  if (la.length !== lb.length) out.layerCounts = [la.length, lb.length];
  return out;
}

/** Every layer's entries by clean path, with mtime and content hash (later entries of one layer win). */
async function layerFiles(image: SourceImage): Promise<Map<string, FileFacts>[]> {
  const layers: Map<string, FileFacts>[] = image.manifest.layers.map(() => new Map());
  const observe = (layer: number, entries: LayerEntry[]) => {
    for (const e of entries) {
      const facts: FileFacts = { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, size: e.size };
      if (e.mtime !== undefined) facts.mtime = e.mtime;
      if (e.sha256 !== undefined) facts.sha256 = e.sha256;
      if (e.linkname !== undefined) facts.linkname = e.linkname;
      layers[layer]!.set(cleanPath(e.path), facts);
    }
  };
  await readImageTree(image, undefined, { details: { hash: true }, observe });
  return layers;
}

export interface ReproduceOutcome extends Comparison {
  first: BuiltImage;
}

/** Build `t` twice, into `firstDir` and (afresh) `secondDir`, and compare them. */
export async function reproduceImage(repo: Repo, t: ImageTags, dirs: { first: string; second: string }, options: Omit<BuildImageOptions, 'layoutDir'>): Promise<ReproduceOutcome> {
  const log = options.onProgress;
  log?.('reproduce: first build');
  const first = await buildImage(repo, t, { ...options, layoutDir: dirs.first });
  log?.('reproduce: second build, without cache');
  await buildImage(repo, t, { ...options, layoutDir: dirs.second, check: false, keep: false, noCache: true });
  log?.('reproduce: comparing the two builds');
  return { ...(await compareLayouts(dirs.first, dirs.second)), first };
}
