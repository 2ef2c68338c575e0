/**
 * The driver builder's own view, modelled from driverkit's source (test/support/driverkit.ts), over this
 * repository's generated index and over a real registry's tags, against `select`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/core/oci.js';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { runCli } from '../support/cli.js';
import { buildFromFlags, chooseImage, DriverkitPanic, imagesMap, loadAll, loadIndexFile, loadRepositoryTags, type DriverkitBuild } from '../support/driverkit.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushRandomImage } from '../support/synthetic-images.js';

const PROJECT = resolve(import.meta.dirname, '../..');
/** What a stock driverkit build uses as its builder image tag: its own commit. */
const DRIVERKIT_COMMIT = '6fb8f04';

interface MatrixRow {
  target: string;
  arch: string;
  kernel: string;
  wanted: string;
  image: string | null;
  gcc: string | null;
}

describe("the driver builder's view of our index and registry equals select's", () => {
  let reg: TestRegistry;
  let dir: string;
  let indexFile: string;
  let repository: string;
  const client = new RegistryClient();
  const tagsOf: Record<string, string[]> = {};

  /** Put one small image under every tag given. */
  async function tagAll(repo: string, tags: string[]): Promise<void> {
    const image = await pushRandomImage(client, parseReference(`${repo}:seed`));
    for (const tag of tags) await client.putManifest(parseReference(`${repo}:${tag}`), image.bytes, MediaType.OciManifest);
    tagsOf[repo] = await client.listTags(parseReference(repo));
  }

  beforeAll(async () => {
    reg = await startRegistry();
    dir = mkdtempSync(join(tmpdir(), 'bi-driverkit-'));
    repository = `${reg.host}/builders`;
    const generated = await runCli(['index', '--stdout', '--repo', repository], PROJECT);
    expect(generated.code, generated.stderr).toBe(0);
    indexFile = join(dir, 'index.yaml');
    writeFileSync(indexFile, generated.stdout);
    const perArch = (parse(generated.stdout) as { images: { name: string }[] }).images.map((i) => i.name.split(':').pop()!);
    // The per-arch tags, and what a push also leaves: content tags, multi-arch index tags, another version.
    const noise = perArch.flatMap((t) => [t.replace(/-latest$/, '-0123456789abcdef'), t.replace(/-latest$/, '-main'), t.replace(/-(x86_64|aarch64)_/, '_')]);
    await tagAll(repository, [...perArch, ...noise]);
    // A stale image of an earlier layout, still tagged latest, that sorts before the current GCC 12 image.
    await tagAll(`${reg.host}/stale`, [...perArch, 'any-x86_64_gcc12.0.0-latest']);
    await tagAll(`${reg.host}/hostile`, [...perArch, 'any-x86_64_gcc4x9x0-latest']);
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await reg?.stop();
  });

  async function matrix(source: string[]): Promise<MatrixRow[]> {
    const rows: MatrixRow[] = [];
    for (const extra of [[], ['--target', 'debian']]) {
      const out = await runCli(['select', '--matrix', '--json', ...source, ...extra], PROJECT);
      expect(out.code, out.stderr).toBe(0);
      rows.push(...(JSON.parse(out.stdout) as MatrixRow[]));
    }
    return rows;
  }

  function driverkitPick(row: MatrixRow, load: (build: DriverkitBuild) => ReturnType<typeof loadIndexFile>) {
    const build: DriverkitBuild = { target: row.target, arch: row.arch, imageTag: 'latest' };
    return chooseImage(imagesMap([load(build)], build), build, row.wanted);
  }

  it('index file: every pick of select --matrix is the one driverkit makes from the file', async () => {
    const text = (await import('node:fs')).readFileSync(indexFile, 'utf8');
    const rows = await matrix(['--index', indexFile]);
    expect(rows.length).toBe(4 * 2 * 20);
    expect(rows.some((r) => r.wanted === '4.9.0' && r.gcc === '4.9.0')).toBe(true);
    for (const row of rows) {
      expect(driverkitPick(row, (b) => loadIndexFile(text, b)), `${row.target} ${row.arch} ${row.kernel}`).toEqual({ name: row.image, gcc: row.gcc });
    }
  });

  it('registry: select --from-registry makes driverkit\'s pick from the tag list, and the same as from the index', async () => {
    const fromIndex = await matrix(['--index', indexFile]);
    const rows = await matrix(['--from-registry', repository]);
    expect(rows).toEqual(fromIndex);
    for (const row of rows) {
      expect(driverkitPick(row, (b) => loadRepositoryTags(repository, tagsOf[repository]!, b)), `${row.target} ${row.arch} ${row.kernel}`).toEqual({ name: row.image, gcc: row.gcc });
    }
  });

  it('registry with a stale tag: both take the tag the registry lists first, as driverkit does', async () => {
    const stale = `${reg.host}/stale`;
    const rows = await matrix(['--from-registry', stale]);
    const gcc12 = rows.find((r) => r.target === 'debian' && r.arch === 'x86_64' && r.kernel === '6.1.0')!;
    // The registry's listing order (not sorted by this registry) decides between two images with GCC 12.
    const first = tagsOf[stale]!.find((t) => t === 'any-x86_64_gcc12.0.0-latest' || t === 'any-x86_64_gcc14.0.0_gcc13.0.0_gcc12.0.0-latest');
    expect(gcc12.image).toBe(`${stale}:${first}`);
    for (const row of rows) {
      expect(driverkitPick(row, (b) => loadRepositoryTags(stale, tagsOf[stale]!, b))).toEqual({ name: row.image, gcc: row.gcc });
    }
    // And --from-registry --check names the stale tag as served but not declared.
    const diff = await runCli(['index', '--from-registry', stale, '--check'], PROJECT);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(`+  - name: ${stale}:any-x86_64_gcc12.0.0-latest`);
    expect(diff.stderr).toMatch(/warning: GCC 12\.0\.0 for any\/x86_64, tag latest is served by \S+ and \S+: the driver builder takes whichever the registry lists first/);
  });

  it('a tag driverkit matches but panics on is reported, not listed', async () => {
    const hostile = `${reg.host}/hostile`;
    expect(() => loadRepositoryTags(hostile, tagsOf[hostile]!, { target: 'debian', arch: 'x86_64', imageTag: 'latest' })).toThrow(DriverkitPanic);
    const out = await runCli(['index', '--from-registry', hostile], PROJECT);
    expect(out.stderr).toContain(`${hostile}:any-x86_64_gcc4x9x0-latest: GCC "4x9x0" is not X.Y.Z`);
    expect(out.stdout).not.toContain('4x9x0');
  });

  it.each([
    ['centos', 'x86_64', '3.10.0-1160.el7.x86_64'],
    ['debian', 'aarch64', '3.16.0-4-arm64'],
    ['amazonlinux2', 'aarch64', '5.10.215-203.850.amzn2.aarch64'],
  ])('the driverkit flags select prints make driverkit pick the same image (%s %s %s)', async (target, arch, kernel) => {
    const out = await runCli(['select', '--index', indexFile, '--target', target, '--arch', arch, '--kernel-release', kernel, '--json'], PROJECT);
    const pick = JSON.parse(out.stdout) as { image: string; gcc: string; targetGcc: string; driverkit: { index: string[]; registry: string[] } };
    const viaIndex = pick.image;
    for (const flags of [pick.driverkit.index, pick.driverkit.registry]) {
      const { build, builderRepos } = buildFromFlags(flags, DRIVERKIT_COMMIT);
      const loaded = loadAll(builderRepos, build, (r) => tagsOf[r]!, PROJECT);
      expect(chooseImage(imagesMap(loaded, build), build, pick.targetGcc), flags.join(' ')).toEqual({ name: viaIndex, gcc: pick.gcc });
      // Without --builderimage auto:<tag>, a stock driverkit looks for tags of its own commit and finds nothing.
      const stock = buildFromFlags(flags.slice(0, -2), DRIVERKIT_COMMIT);
      expect(() => imagesMap(loadAll(stock.builderRepos, stock.build, (r) => tagsOf[r]!, PROJECT), stock.build)).toThrow(/Could not load any builder image/);
    }
  });

  it('every value of the generated index is a string to a YAML 1.1 reader too', async () => {
    const text = (await import('node:fs')).readFileSync(indexFile, 'utf8');
    const strict = parse(text, { version: '1.1' }) as { images: Record<string, unknown>[] };
    for (const image of strict.images) {
      for (const key of ['name', 'target', 'arch', 'tag']) expect(typeof image[key]).toBe('string');
      expect((image.gcc_versions as unknown[]).every((g) => typeof g === 'string')).toBe(true);
    }
  });
});
