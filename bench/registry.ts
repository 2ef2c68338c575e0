/**
 * Registry client against skopeo, on the real registry:
 *  - resolve the digests of 500 tags: ours (bounded concurrency) vs a serial `skopeo inspect --raw` loop and vs
 *    skopeo run with the same concurrency. Target: at least 5x faster than the serial loop.
 *  - copy a ~200 MB multi-layer image to another repository of the same registry: ours (blob mount) vs
 *    `skopeo copy`. Target: not slower than skopeo; a second copy moves no blob bytes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pLimit from 'p-limit';
import { MediaType } from '../src/core/oci.js';
import { parseReference } from '../src/core/reference.js';
import { RegistryClient } from '../src/adapters/registry/index.js';
import { startRegistry } from '../test/support/registry.js';
import { pushRandomImage } from '../test/support/synthetic-images.js';
import { row, timeIt, verdict } from './lib.js';

const run = promisify(execFile);
const TAGS = Number(process.env.BENCH_TAGS ?? 500);
const CONCURRENCY = 8;
const reg = await startRegistry();
const client = new RegistryClient({ concurrency: CONCURRENCY });
try {
  const base = parseReference(`${reg.host}/bench/tags:seed`);
  const seed = await pushRandomImage(client, base);
  const tags = Array.from({ length: TAGS }, (_, i) => `t${i}`);
  await Promise.all(tags.map((tag) => client.putManifest({ ...base, tag }, seed.bytes, MediaType.OciManifest)));
  const skopeo = (tag: string) => run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/bench/tags:${tag}`]);

  const ours = await timeIt(() => Promise.all(tags.map((tag) => client.headManifest({ ...base, tag }))));
  if (!ours.value.every((h) => h.digest === seed.digest)) throw new Error('a digest was wrong');
  const serial = await timeIt(async () => {
    for (const tag of tags) await skopeo(tag);
  });
  const limit = pLimit(CONCURRENCY);
  const parallel = await timeIt(() => Promise.all(tags.map((tag) => limit(() => skopeo(tag)))));
  console.log(`resolve ${TAGS} tag digests (concurrency ${CONCURRENCY})`);
  row('skopeo inspect --raw, serial loop (peer)', serial.ms);
  row(`skopeo inspect --raw, ${CONCURRENCY} at a time (peer)`, parallel.ms);
  row('builder-images client', ours.ms, `${(serial.ms / ours.ms).toFixed(1)}x faster than serial, ${(parallel.ms / ours.ms).toFixed(1)}x than parallel skopeo`);
  verdict('at least 5x faster than the serial loop', serial.ms / ours.ms >= 5, `${(serial.ms / ours.ms).toFixed(1)}x`);

  // ~200 MB in 8 layers of incompressible data.
  const src = parseReference(`${reg.host}/bench/big:1`);
  await pushRandomImage(client, src, { layers: 8, layerSize: 25 * 1024 * 1024 });
  const skopeoCopy = await timeIt(() => run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg.host}/bench/big:1`, `docker://${reg.host}/bench/skopeo-copy:1`]));
  const ourCopy = await timeIt(() => client.copy(src, parseReference(`${reg.host}/bench/our-copy:1`)));
  const again = await timeIt(() => client.copy(src, parseReference(`${reg.host}/bench/our-copy:1`)));
  console.log('\ncopy a 200 MB, 8-layer image to another repository of the same registry');
  row('skopeo copy (peer)', skopeoCopy.ms);
  row('builder-images copy (mount)', ourCopy.ms, `${(skopeoCopy.ms / ourCopy.ms).toFixed(1)}x skopeo; ${ourCopy.value.blobsMounted} mounted, ${ourCopy.value.bytesCopied} bytes moved`);
  row('builder-images copy again', again.ms, `${again.value.bytesCopied} bytes moved, ${again.value.blobsSkipped} blobs present`);
  verdict('not slower than skopeo copy', ourCopy.ms <= skopeoCopy.ms, `${ourCopy.ms.toFixed(0)} ms vs ${skopeoCopy.ms.toFixed(0)} ms`);
  verdict('a second copy moves no blob bytes', again.value.bytesCopied === 0, `${again.value.bytesCopied} bytes`);
} finally {
  await reg.stop();
}
