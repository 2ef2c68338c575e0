import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { makeBuilderRepo } from '../support/builder-repo.js';
import { fakeApt, type FakeApt } from '../support/fake-apt.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const PROJECT = join(import.meta.dirname, '../..');

/** `make` in this project with stand-ins for apt-get, apt-cache, dpkg and sudo first on PATH. */
function make(args: string[], apt: FakeApt) {
  const r = spawnSync('make', ['--no-print-directory', '-C', PROJECT, ...args], { encoding: 'utf8', env: { ...process.env, PATH: `${apt.bin}:${process.env.PATH}` }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('make push needs Node and the engine only', () => {
  let reg: TestRegistry;
  let apt: FakeApt;
  let root: string;
  let cleanup: () => void;

  beforeAll(async () => {
    reg = await startRegistry();
    apt = fakeApt({ aptGetExit: 97 });
    ({ root, cleanup } = makeBuilderRepo(`${reg.host}/builders`));
  });
  afterAll(async () => {
    cleanup?.();
    apt?.cleanup();
    await reg?.stop();
  });

  it('its whole chain (make -n -B: every prerequisite remade) runs npm, the engine check and the CLI, no system installer', () => {
    const r = make(['-n', '-B', 'push', 'ENGINE=buildah'], apt);
    expect(r.code).toBe(0);
    const commands = r.stdout.trim().split('\n');
    expect(commands).toEqual([
      'npm ci --no-audit --no-fund',
      'touch node_modules/.package-lock.json',
      'npm run build --silent',
      'bash scripts/require-engine.sh buildah',
      expect.stringMatching(/^node bin\/builder-images\.js push\s+--engine buildah/),
    ]);
    // The targets that run tools do install them.
    expect(make(['-n', '-B', 'test'], apt).stdout).toMatch(/ensure-system-deps\.sh test/);
  });

  it('pushes to a loopback registry with buildah and never calls ensure-system-deps or apt', async () => {
    // npm ci and the bundle are the global setup's (this run's dist/); -o keeps make from redoing them mid-run.
    const r = make(
      ['--trace', '-o', 'node_modules/.package-lock.json', '-o', 'build', 'push', `REGISTRY=${reg.host}/builders`, 'ENGINE=buildah', `PUSH_FLAGS=--cwd ${root} builder-any-x86_64_gcc12.0.0.Dockerfile`],
      apt,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 built and pushed, 0 skipped \(up to date\), 0 failed/);
    expect(r.stdout + r.stderr).not.toMatch(/ensure-system-deps|apt-get/);
    expect(apt.calls()).toEqual([]);
    const tags = await new RegistryClient().listTags({ registry: reg.host, repository: 'builders' });
    expect(tags).toContain('any-x86_64_gcc12.0.0-latest');
  });
});
