/**
 * `plan` over a repository of 1,000 builder Dockerfiles against a local registry holding 1,000 tags (half of them
 * the content tags of the first 500 images, so half the images count as built), next to `skopeo list-tags` of the
 * same repository (one registry round trip and a process start; the floor for any CLI that asks the registry).
 * Target: plan under 3 s.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { MediaType } from '../src/core/oci.js';
import { parseReference } from '../src/core/reference.js';
import { RegistryClient } from '../src/adapters/registry/index.js';
import { startRegistry } from '../test/support/registry.js';
import { pushRandomImage } from '../test/support/synthetic-images.js';
import { median, row, run, verdict } from './lib.js';

const COUNT = Number(process.env.BENCH_IMAGES ?? 1000);
const root = mkdtempSync(join(tmpdir(), 'bench-plan-'));
const cli = join(import.meta.dirname, '../bin/builder-images.js');
const reg = await startRegistry();
try {
  const repository = `${reg.host}/bench/builders`;
  mkdirSync(join(root, 'images'));
  writeFileSync(join(root, 'builder-images.yaml'), `repositories: [${repository}]\n`);
  const digest = `sha256:${'ab'.repeat(32)}`;
  for (let i = 0; i < COUNT; i++) {
    const arch = i % 2 === 0 ? 'x86_64' : 'aarch64';
    writeFileSync(
      join(root, 'images', `builder-t${Math.floor(i / 2)}-${arch}_gcc${(i % 9) + 4}.0.0.Dockerfile`),
      `ARG BASE_IMAGE=debian:bookworm@${digest}\nFROM \${BASE_IMAGE}\nRUN echo ${i}\n`,
    );
  }
  run('git', ['init', '-q'], { cwd: root });
  run('git', ['add', '-A'], { cwd: root });
  run('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'bench'], { cwd: root });

  const tagged = JSON.parse(run('node', [cli, 'tag', '--json'], { cwd: root })) as { contentTag: string }[];
  const client = new RegistryClient({ concurrency: 16 });
  const seed = await pushRandomImage(client, parseReference(`${repository}:seed`));
  const tags = [...tagged.slice(0, COUNT / 2).map((t) => t.contentTag), ...Array.from({ length: COUNT / 2 - 1 }, (_, i) => `other-${i}`)];
  const limit = pLimit(16);
  await Promise.all(tags.map((tag) => limit(() => client.putManifest(parseReference(`${repository}:${tag}`), seed.bytes, MediaType.OciManifest))));

  const planned = JSON.parse(run('node', [cli, 'plan', '--format', 'json'], { cwd: root })) as unknown[];
  if (planned.length !== COUNT / 2) throw new Error(`plan listed ${planned.length} images to build, expected ${COUNT / 2}`);

  const peer = await median(5, () => run('skopeo', ['list-tags', '--tls-verify=false', `docker://${repository}`]));
  const plan = await median(5, () => run('node', [cli, 'plan', '--format', 'github-matrix'], { cwd: root }));
  console.log(`${COUNT} images, ${COUNT} tags in the registry, median of 5 runs (process start included)`);
  row('skopeo list-tags (peer)', peer);
  row('builder-images plan --format github-matrix', plan, `${(plan / peer).toFixed(1)}x skopeo list-tags`);
  verdict('plan under 3 s', plan < 3000, `${(plan / 1000).toFixed(2)} s`);
} finally {
  await reg.stop();
  rmSync(root, { recursive: true, force: true });
}
