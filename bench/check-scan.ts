/**
 * check's layer scan on an image of 1 GiB uncompressed in 4 gzip layers, in the local registry:
 *  - vs `gzip -dc` of the same blobs (the decompression limit): target at least 80% of its throughput;
 *  - vs `skopeo copy` to an OCI dir + `umoci unpack` + `find`: target at least 3x faster;
 *  - peak RSS of the scan under 150 MB (a separate process, measured by GNU time).
 * The same layers as zstd (level 3), another image:
 *  - vs `zstd -dc` of the same blobs: target at least 80% of its throughput, peak RSS under 150 MB;
 *  - fzstd (the fallback decoder when no `zstd` binary is installed) on one layer, for the record: the
 *    measurement that chose the binary as the default decoder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { MediaType, sha256Digest, type Descriptor } from '../src/core/oci.js';
import { parseReference } from '../src/core/reference.js';
import { RegistryClient } from '../src/adapters/registry/index.js';
import { startRegistry } from '../test/support/registry.js';
import { elfHeader } from '../test/support/elf.js';
import { peakRssMiB, row, run, timeIt, verdict } from './lib.js';

const LAYERS = 4;
const LAYER_BYTES = Number(process.env.BENCH_LAYER_MB ?? 256) * 1024 * 1024;
const FILE_BYTES = 256 * 1024;
const reg = await startRegistry();
const work = mkdtempSync(join(tmpdir(), 'bench-scan-'));
const client = new RegistryClient();

/** Text-like content that compresses about 3:1, like real binaries and headers. */
function fileContent(seed: number): Buffer {
  const words = ['gcc', 'linux', 'kernel', 'module', 'include', 'static', 'struct', 'return', 'const', 'unsigned', 'void', 'int'];
  const parts: string[] = [];
  let x = seed * 2654435761;
  let size = 0;
  while (size < FILE_BYTES) {
    x = (x * 1103515245 + 12345) >>> 0;
    const w = `${words[x % words.length]}${x % 977} `;
    parts.push(w);
    size += w.length;
  }
  return Buffer.from(parts.join('').slice(0, FILE_BYTES));
}

async function layerTar(index: number): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  const files = LAYER_BYTES / FILE_BYTES;
  for (let i = 0; i < files; i++) {
    const exec = i % 50 === 0;
    pack.entry({ name: `usr/lib/bench${index}/f${i}${exec ? '.bin' : '.txt'}`, mode: exec ? 0o755 : 0o644 }, exec ? Buffer.concat([elfHeader(62), fileContent(i).subarray(64)]) : fileContent(i));
  }
  if (index === LAYERS - 1) {
    pack.entry({ name: 'usr/bin/x86_64-linux-gnu-gcc-12', mode: 0o755 }, elfHeader(62));
    pack.entry({ name: 'usr/bin/gcc-12.0.0', type: 'symlink', linkname: 'x86_64-linux-gnu-gcc-12' });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

try {
  const ref = parseReference(`${reg.host}/bench/scan:any-x86_64_gcc12.0.0-latest`);
  const repo = { registry: ref.registry, repository: ref.repository };
  const zref = parseReference(`${reg.host}/bench/scan:zstd-x86_64_gcc12.0.0-latest`);
  const layers: Descriptor[] = [];
  const zlayers: Descriptor[] = [];
  const files: string[] = [];
  const zfiles: string[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < LAYERS; i++) {
    const raw = await layerTar(i);
    diffIds.push(sha256Digest(raw));
    const gz = gzipSync(raw, { level: 6 });
    const file = join(work, `layer${i}.gz`);
    writeFileSync(file, gz);
    files.push(file);
    layers.push(await client.pushBlob(repo, gz, MediaType.OciLayerGzip));
    const zst = execFileSync('zstd', ['-q', '-c', '-3'], { input: raw, maxBuffer: 1 << 30 });
    const zfile = join(work, `layer${i}.zst`);
    writeFileSync(zfile, zst);
    zfiles.push(zfile);
    zlayers.push(await client.pushBlob(repo, zst, MediaType.OciLayerZstd));
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configDesc = await client.pushBlob(repo, config, MediaType.OciConfig);
  const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers };
  await client.putManifest(ref, Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest);
  const zmanifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: zlayers };
  await client.putManifest(zref, Buffer.from(JSON.stringify(zmanifest)), MediaType.OciManifest);
  const compressed = layers.reduce((n, l) => n + l.size, 0);
  const total = LAYERS * LAYER_BYTES;
  console.log(`image: ${LAYERS} gzip layers, ${(total / 2 ** 30).toFixed(2)} GiB uncompressed, ${(compressed / 2 ** 20).toFixed(0)} MiB compressed, ${(LAYERS * LAYER_BYTES) / FILE_BYTES} files`);

  const gzip = await timeIt(() => {
    for (const f of files) run('sh', ['-c', 'gzip -dc "$1" > /dev/null', 'sh', f]);
  });
  const cli = join(import.meta.dirname, '../bin/builder-images.js');
  const ours = peakRssMiB('node', [cli, 'check', '--quiet', `${ref.registry}/${ref.repository}:${ref.tag}`]);
  if (!ours.stdout.includes('1 ok')) throw new Error(`check did not pass:\n${ours.stdout}`);
  const unpack = await timeIt(() => {
    const oci = join(work, 'oci');
    run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/bench/scan:any-x86_64_gcc12.0.0-latest`, `oci:${oci}:x`]);
    run('umoci', ['unpack', '--rootless', '--image', `${oci}:x`, join(work, 'bundle')]);
    run('find', [join(work, 'bundle'), '-type', 'f', '-name', 'gcc-*']);
  });
  const mbps = (ms: number) => `${(total / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s uncompressed`;
  row('gzip -dc of the same blobs (peer)', gzip.ms, mbps(gzip.ms));
  row('skopeo copy + umoci unpack + find (peer)', unpack.ms, mbps(unpack.ms));
  row('builder-images check (whole CLI run)', ours.ms, `${mbps(ours.ms)}, peak RSS ${ours.rssMiB.toFixed(0)} MiB`);
  verdict('at least 80% of gzip -dc throughput', gzip.ms / ours.ms >= 0.8, `${((gzip.ms / ours.ms) * 100).toFixed(0)}%`);
  verdict('at least 3x faster than the unpack route', unpack.ms / ours.ms >= 3, `${(unpack.ms / ours.ms).toFixed(1)}x`);
  verdict('peak RSS under 150 MB', ours.rssMiB * 1.048576 < 150, `${(ours.rssMiB * 1.048576).toFixed(0)} MB`);

  const zcompressed = zlayers.reduce((n, l) => n + l.size, 0);
  console.log(`zstd image: the same ${LAYERS} layers at zstd -3, ${(zcompressed / 2 ** 20).toFixed(0)} MiB compressed`);
  const zstdDc = await timeIt(() => {
    for (const f of zfiles) run('sh', ['-c', 'zstd -dc "$1" > /dev/null', 'sh', f]);
  });
  const zours = peakRssMiB('node', [cli, 'check', '--quiet', `${zref.registry}/${zref.repository}:${zref.tag}`]);
  if (!zours.stdout.includes('1 ok')) throw new Error(`check (zstd) did not pass:\n${zours.stdout}`);
  // fzstd on one layer only: at its speed the whole image would take minutes.
  const fzstd = await timeIt(async () => {
    const { zstdDecompress } = await import('../src/adapters/compress/zstd.js');
    const { createReadStream } = await import('node:fs');
    for await (const chunk of zstdDecompress(createReadStream(zfiles[0]!) as AsyncIterable<Buffer>, { decoder: 'fzstd' }).output) void chunk;
  });
  const zstdOne = await timeIt(() => run('sh', ['-c', 'zstd -dc "$1" > /dev/null', 'sh', zfiles[0]!]));
  row('zstd -dc of the same blobs (peer)', zstdDc.ms, mbps(zstdDc.ms));
  row('builder-images check, zstd (whole CLI run)', zours.ms, `${mbps(zours.ms)}, peak RSS ${zours.rssMiB.toFixed(0)} MiB`);
  const layerMbps = (ms: number) => `${(LAYER_BYTES / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s`;
  row('fzstd decode of one layer (fallback decoder)', fzstd.ms, `${layerMbps(fzstd.ms)} vs zstd -dc ${layerMbps(zstdOne.ms)}: ${(fzstd.ms / zstdOne.ms).toFixed(0)}x slower`);
  verdict('zstd: at least 80% of zstd -dc throughput', zstdDc.ms / zours.ms >= 0.8, `${((zstdDc.ms / zours.ms) * 100).toFixed(0)}%`);
  verdict('zstd: peak RSS under 150 MB', zours.rssMiB * 1.048576 < 150, `${(zours.rssMiB * 1.048576).toFixed(0)} MB`);
} finally {
  await reg.stop();
  rmSync(work, { recursive: true, force: true });
}
