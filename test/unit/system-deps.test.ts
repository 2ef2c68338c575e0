import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeApt, type FakeApt } from '../support/fake-apt.js';

const SCRIPTS = join(import.meta.dirname, '../../scripts');
const BASH = '/bin/bash';

/** Run a script with only `dirs` on PATH: every tool the script looks for is missing unless a stand-in has it. */
function run(script: string, args: string[], dirs: string[], env: Record<string, string> = {}) {
  const r = spawnSync(BASH, [join(SCRIPTS, script), ...args], { encoding: 'utf8', env: { PATH: dirs.join(':'), ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/ensure-system-deps.sh', () => {
  let apt: FakeApt | undefined;
  const missingPolicy = { CONTAINERS_POLICY_JSON: '/nonexistent/containers/policy.json' };
  afterEach(() => apt?.cleanup());

  const aptGet = (verb: string) => apt!.calls().filter((c) => c.startsWith('apt-get ') && c.split(' ').includes(verb));
  const installed = () => aptGet('install').map((c) => c.split(' ').slice(c.split(' ').indexOf('--no-install-recommends') + 1));

  it('installs only what the profile uses: test tools, no debootstrap or qemu', () => {
    apt = fakeApt({ known: ['containers-common'] });
    const r = run('ensure-system-deps.sh', ['test'], [apt.bin], missingPolicy);
    expect(r.code).toBe(0);
    expect(installed()).toHaveLength(1);
    expect(installed()[0]!.sort()).toEqual(['apache2-utils', 'buildah', 'busybox-static', 'containers-common', 'docker-registry', 'docker.io', 'gpg', 'iproute2', 'make', 'openssl', 'podman', 'qemu-system-arm', 'qemu-system-x86', 'runc', 'skopeo', 'umoci', 'xz-utils', 'zstd']);
    expect(installed()[0]).not.toContain('qemu-user-static');
    expect(installed()[0]).not.toContain('debootstrap');
  });

  it('update and install wait for a held dpkg lock: DPkg::Lock::Timeout from APT_LOCK_TIMEOUT, default 600 s', () => {
    apt = fakeApt({ known: ['containers-common'] });
    expect(run('ensure-system-deps.sh', ['test'], [apt.bin], missingPolicy).code).toBe(0);
    for (const verb of ['update', 'install']) expect(aptGet(verb)[0]).toMatch(/^apt-get -o DPkg::Lock::Timeout=(600|599) /);
    apt.cleanup();
    apt = fakeApt({ known: [] });
    expect(run('ensure-system-deps.sh', ['test'], [apt.bin], { ...missingPolicy, APT_LOCK_TIMEOUT: '42' }).code).toBe(0);
    expect(aptGet('install')[0]).toMatch(/^apt-get -o DPkg::Lock::Timeout=(42|41) /);
  });

  it('an apt failure that is not a lock is not retried: its message and exit code', () => {
    apt = fakeApt({ known: [], aptGetExit: 100 });
    const r = run('ensure-system-deps.sh', ['test'], [apt.bin], missingPolicy);
    expect(r.code).toBe(100);
    expect(aptGet('update')).toHaveLength(1);
    expect(aptGet('install')).toEqual([]);
  });

  it('e2e and bench add their own tools, each package once', () => {
    apt = fakeApt({ known: ['containers-common'] });
    expect(run('ensure-system-deps.sh', ['e2e', 'bench'], [apt.bin], missingPolicy).code).toBe(0);
    const pkgs = installed()[0]!;
    expect(pkgs).toEqual(expect.arrayContaining(['debootstrap', 'qemu-user-static', 'skopeo', 'umoci', 'curl']));
    expect(new Set(pkgs).size).toBe(pkgs.length);
    expect(pkgs).not.toContain('podman');
  });

  it('Debian 12 (no containers-common): policy.json comes from golang-github-containers-common, not -image', () => {
    apt = fakeApt({ known: ['golang-github-containers-common', 'golang-github-containers-image'] });
    run('ensure-system-deps.sh', ['test'], [apt.bin], missingPolicy);
    expect(apt.calls()).toContain('apt-cache show containers-common');
    expect(installed()[0]).toContain('golang-github-containers-common');
    expect(installed()[0]).not.toContain('golang-github-containers-image');
  });

  it('neither package known: says so and still installs the tools', () => {
    apt = fakeApt({ known: [] });
    const r = run('ensure-system-deps.sh', ['test'], [apt.bin], missingPolicy);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no package here ships \/nonexistent\/containers\/policy\.json \(tried containers-common, golang-github-containers-common\)/);
    expect(installed()[0]).toContain('buildah');
  });

  it('everything present: touches apt not at all', () => {
    apt = fakeApt();
    const tools = mkdtempSync(join(tmpdir(), 'bi-tools-'));
    try {
      for (const t of ['docker-registry', 'htpasswd', 'buildah', 'podman', 'openssl', 'zstd', 'dockerd', 'skopeo', 'umoci', 'xz', 'qemu-system-x86_64', 'qemu-system-aarch64', 'gpg', 'runc', 'ip', 'busybox', 'make']) writeFileSync(join(tools, t), '', { mode: 0o755 });
      const policy = join(tools, 'policy.json');
      writeFileSync(policy, '{}');
      const r = run('ensure-system-deps.sh', ['test'], [apt.bin, tools], { CONTAINERS_POLICY_JSON: policy });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(apt.calls()).toEqual([]);
    } finally {
      rmSync(tools, { recursive: true, force: true });
    }
  });

  it('without apt: names what is missing and fails', () => {
    const empty = mkdtempSync(join(tmpdir(), 'bi-empty-'));
    try {
      const r = run('ensure-system-deps.sh', ['bench'], [empty], missingPolicy);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/missing system packages: .*skopeo.*umoci/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses an unknown profile (exit 2)', () => {
    const r = run('ensure-system-deps.sh', ['everything'], ['/nonexistent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown profile "everything"/);
  });
});

describe('scripts/require-engine.sh', () => {
  it('names the missing engine and how to install it', () => {
    const r = run('require-engine.sh', ['podman'], ['/nonexistent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the podman engine is not installed \(ENGINE=podman\)\. Install it \(Debian\/Ubuntu: apt-get install podman\)/);
  });

  it('auto: any installed engine will do; none gives one clear message', () => {
    const tools = mkdtempSync(join(tmpdir(), 'bi-tools-'));
    try {
      expect(run('require-engine.sh', [], [tools]).stderr).toMatch(/no build engine is installed \(looked for docker, podman, buildah\)/);
      writeFileSync(join(tools, 'buildah'), '', { mode: 0o755 });
      expect(run('require-engine.sh', ['auto'], [tools]).code).toBe(0);
      expect(run('require-engine.sh', ['buildah'], [tools]).code).toBe(0);
    } finally {
      rmSync(tools, { recursive: true, force: true });
    }
  });
});
