/**
 * scripts/ensure-system-deps.sh against the real apt-get while another apt holds its locks (a fresh VM's boot-time
 * apt): it waits and then installs, instead of dying with "Could not get lock". apt runs on a private state
 * (test/support/apt-sandbox.ts), so the machine's own apt is never locked or changed.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { aptSandbox, haveApt, type AptSandbox } from '../support/apt-sandbox.js';

const SCRIPT = join(import.meta.dirname, '../../scripts/ensure-system-deps.sh');
// What `ensure-system-deps.sh e2e` installs when none of its tools is on PATH (policy.json present).
const E2E_PACKAGES = ['apache2-utils', 'buildah', 'curl', 'debootstrap', 'docker-registry', 'gpg', 'iproute2', 'openssl', 'qemu-system-arm', 'qemu-system-x86', 'qemu-user-static', 'runc', 'skopeo', 'xz-utils'];

describe.skipIf(!haveApt)('ensure-system-deps.sh with a held apt lock (real apt-get)', () => {
  let apt: AptSandbox | undefined;
  afterEach(() => apt?.cleanup());

  const ensure = (env: Record<string, string> = {}) =>
    execa('/bin/bash', [SCRIPT, 'e2e'], {
      reject: false,
      env: { PATH: apt!.bin, CONTAINERS_POLICY_JSON: SCRIPT, ...apt!.env, ...env },
      extendEnv: false,
      timeout: 60_000,
    });

  it('apt-get update waits for the lists lock (apt has no timeout for it) and then installs', async () => {
    apt = aptSandbox(E2E_PACKAGES);
    await apt.holdLock(join(apt.lists, 'lock'), 3);
    const r = await ensure();
    expect(r.stderr).toMatch(/waiting up to \d+s for another apt to finish \(E: Could not get lock .*lists\/lock\. It is held by process \d+ \(perl\)\)/);
    expect(r.exitCode).toBe(0);
    expect(apt.unpacked().map((u) => u.packages.sort())).toEqual([E2E_PACKAGES]);
  });

  it('apt-get install waits for the dpkg frontend lock (DPkg::Lock::Timeout reaches apt-get)', async () => {
    apt = aptSandbox(E2E_PACKAGES);
    await apt.holdLock(join(apt.dpkgState, 'lock-frontend'), 3);
    const r = await ensure();
    expect(r.exitCode).toBe(0);
    const [install] = apt.unpacked();
    expect(install?.packages.sort()).toEqual(E2E_PACKAGES);
    expect(install?.afterRelease).toBe(true);
  });

  it('apt-get install waits for the archives lock (downloads) too', async () => {
    apt = aptSandbox(E2E_PACKAGES);
    await apt.holdLock(join(apt.archives, 'lock'), 3);
    const r = await ensure();
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/Could not get lock .*archives\/lock/);
    expect(apt.unpacked()[0]?.afterRelease).toBe(true);
  });

  it('gives up after APT_LOCK_TIMEOUT with apt\'s own error and exit code, installing nothing', async () => {
    apt = aptSandbox(E2E_PACKAGES);
    await apt.holdLock(join(apt.dpkgState, 'lock-frontend'), 30);
    const r = await ensure({ APT_LOCK_TIMEOUT: '1' });
    expect(r.exitCode).toBe(100);
    expect(r.stderr).toMatch(/Unable to acquire the dpkg frontend lock \(.*\/dpkg\/lock-frontend\)/);
    expect(apt.unpacked()).toEqual([]);
  });

  it('refuses an APT_LOCK_TIMEOUT that is not a number of seconds', async () => {
    apt = aptSandbox([]);
    const r = await ensure({ APT_LOCK_TIMEOUT: '5m' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/APT_LOCK_TIMEOUT must be a number of seconds, not "5m"/);
  });
});
