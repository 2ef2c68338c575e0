import { describe, expect, it } from 'vitest';
import { DRIVERKIT_FLOW_SCRIPT, flowEnv, type DriverkitFlowValues } from '../../src/core/driverkit-flow.js';
import { MODULE_BUILD_SCRIPT } from '../../src/core/probe-module.js';
import { buildSpec } from '../../src/commands/verify.js';

const values: DriverkitFlowValues = {
  moduleUrl: 'http://127.0.0.1:4000/module.tar.gz',
  kernelUrls: ['http://127.0.0.1:4000/0-linux-headers-6.1.0-57-amd64_6.1.192-3_amd64.deb', 'http://127.0.0.1:4000/1-linux-kbuild-6.1_6.1.192-3_amd64.deb'],
  packaging: 'deb',
  arch: 'x86_64',
  gcc: '12.2.0',
  driverName: 'falco',
  driverVersion: '10.2.0+driver',
  deviceName: 'falco',
  outDir: '/run/builder-images/out',
};

describe('the driver builder flow as data', () => {
  it('passes every value through the environment, with driverkit\'s Debian headers pattern per arch', () => {
    expect(flowEnv(values)).toEqual({
      BI_MODULE_URL: values.moduleUrl,
      BI_KERNEL_URLS: values.kernelUrls.join(' '),
      BI_PACKAGING: 'deb',
      BI_HEADERS_PATTERN: 'linux-headers-*amd64',
      BI_GCC: '12.2.0',
      BI_DRIVER_NAME: 'falco',
      BI_DRIVER_VERSION: '10.2.0+driver',
      BI_DEVICE_NAME: 'falco',
      BI_OUT: '/run/builder-images/out',
    });
    expect(flowEnv({ ...values, arch: 'aarch64' }).BI_HEADERS_PATTERN).toBe('linux-headers-*arm64');
  });

  it.each([
    ['URL', { moduleUrl: 'http://127.0.0.1:4000/m.tar.gz;rm -rf /' }],
    ['URL', { kernelUrls: ['http://127.0.0.1:4000/a b.deb'] }],
    ['URL', { kernelUrls: ['file:///etc/shadow'] }],
    ['GCC version', { gcc: '12.2.0$(id)' }],
    ['driver name', { driverName: 'falco"; id; "' }],
    ['device name', { deviceName: '../x' }],
    ['driver version', { driverVersion: '1.0 ; id' }],
    ['out dir', { outDir: 'relative' }],
  ])('refuses a %s the script would misread', (what, bad) => {
    expect(() => flowEnv({ ...values, ...bad })).toThrow(new RegExp(`driver builder flow: ${what} ".*" is not allowed`));
  });

  it('refuses a flow with no headers to download', () => {
    expect(() => flowEnv({ ...values, kernelUrls: [] })).toThrow(/no headers package/);
  });

  it('runs the driver builder\'s steps in its order, reading values only as quoted variables', () => {
    const steps = ['curl --silent -SL "$BI_MODULE_URL" | tar -xzf -', 'ar x kernel.deb', 'tar -xf data.tar.xz', "sed -i 's/\\/usr\\/src/../g'", 'export KERNELDIR=$sourcedir', 'rpm2cpio kernel-devel.rpm | cpio', 'cmake -Wno-dev', '-DUSE_BUNDLED_DEPS=On', '-DBUILD_LIBSCAP_MODERN_BPF=Off', '-DDRIVER_NAME="$BI_DRIVER_NAME"', 'make CC="/usr/bin/gcc-$BI_GCC" driver', 'strip -g "driver/$BI_DRIVER_NAME.ko"', 'modinfo "driver/$BI_DRIVER_NAME.ko"', 'cp "driver/$BI_DRIVER_NAME.ko" "$BI_OUT/"'];
    let at = 0;
    for (const step of steps) {
      const i = DRIVERKIT_FLOW_SCRIPT.indexOf(step, at);
      expect(i, step).toBeGreaterThan(-1);
      at = i;
    }
    // Every use of a value is quoted, except the URL list, which is split on purpose (checked: no spaces in a URL).
    for (const m of DRIVERKIT_FLOW_SCRIPT.matchAll(/\$\{?BI_[A-Z_]+/g)) {
      const before = DRIVERKIT_FLOW_SCRIPT.slice(0, m.index);
      const quoted = (before.match(/"/g) ?? []).length % 2 === 1;
      expect(quoted || m[0] === '$BI_KERNEL_URLS', `${m[0]} at ${m.index}`).toBe(true);
    }
    expect(DRIVERKIT_FLOW_SCRIPT).toMatch(/^set -xeuo pipefail$/m);
  });

  it('builds a CMake project\'s driver target or a Kbuild tree, after one top directory', () => {
    expect(MODULE_BUILD_SCRIPT).toMatch(/if \[ -f CMakeLists\.txt \]; then[\s\S]*cmake -Wno-dev \.\. && make CC="\$cc" driver/);
    expect(MODULE_BUILD_SCRIPT).toMatch(/make "\$@" M="\$PWD"/);
    expect(MODULE_BUILD_SCRIPT).toContain('make not found in the image');
  });
});

describe('verify flags: what to build', () => {
  it('is the probe by default, a module with --module, the flow with --flow', () => {
    expect(buildSpec({})).toEqual({ kind: 'probe' });
    expect(buildSpec({ module: 'libs.tar.gz' })).toEqual({ kind: 'module', source: { given: 'libs.tar.gz' } });
    const sha = 'a'.repeat(64);
    expect(buildSpec({ flow: 'driverkit', module: `https://example.org/x.tar.gz#sha256=${sha}`, driverName: 'falco' })).toEqual({
      kind: 'flow',
      flow: 'driverkit',
      source: { given: 'https://example.org/x.tar.gz', sha256: sha },
      driverName: 'falco',
      driverVersion: undefined,
    });
  });

  it('refuses a bad sha256 and driver flags without the flow', () => {
    expect(() => buildSpec({ module: 'x#sha256=abc' })).toThrow(/64 lower-case hex/);
    expect(() => buildSpec({ driverName: 'falco' })).toThrow(/go with --flow driverkit/);
  });
});
