import { describe, expect, it } from 'vitest';
import { checkKernelImage, kernelImageKind, kernelImageMember, kernelImagePackageUrls } from '../../src/core/kernel-image.js';
import { qemuArgs } from '../../src/core/boot-machine.js';

const SEC = 'https://deb.debian.org/debian-security/pool/updates/main/l';

describe('kernelImagePackageUrls', () => {
  it('Debian: -unsigned, then signed, next to the headers package, then the signed source package', () => {
    const urls = kernelImagePackageUrls(
      [`${SEC}/linux/linux-headers-6.1.0-56-common_6.1.192-2_all.deb`, `${SEC}/linux/linux-headers-6.1.0-56-amd64_6.1.192-2_amd64.deb`, `${SEC}/linux/linux-kbuild-6.1_6.1.192-2_amd64.deb`],
      '6.1.0-56-amd64',
    );
    expect(urls).toEqual([
      `${SEC}/linux/linux-image-6.1.0-56-amd64-unsigned_6.1.192-2_amd64.deb`,
      `${SEC}/linux/linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb`,
      `${SEC}/linux-signed-amd64/linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb`,
    ]);
    expect(kernelImagePackageUrls([`${SEC}/linux-6.12/linux-headers-6.12.107+deb12-arm64_6.12.107-1~deb12u1_arm64.deb`], '6.12.107+deb12-arm64')[0]).toBe(
      `${SEC}/linux-6.12/linux-image-6.12.107+deb12-arm64-unsigned_6.12.107-1~deb12u1_arm64.deb`,
    );
  });

  it('RPM: kernel-core then kernel, next to kernel-devel and in BaseOS for AppStream; nothing from paths or other releases', () => {
    const base = 'https://mirror.example/9/AppStream/x86_64/os/Packages/k/';
    expect(kernelImagePackageUrls([`${base}kernel-devel-5.14.0-427.el9.x86_64.rpm`], '5.14.0-427.el9.x86_64')).toEqual([
      `${base}kernel-core-5.14.0-427.el9.x86_64.rpm`,
      `${base}kernel-5.14.0-427.el9.x86_64.rpm`,
      `${base.replace('AppStream', 'BaseOS')}kernel-core-5.14.0-427.el9.x86_64.rpm`,
      `${base.replace('AppStream', 'BaseOS')}kernel-5.14.0-427.el9.x86_64.rpm`,
    ]);
    expect(kernelImagePackageUrls(['./linux-headers-6.1.0-56-amd64_6.1.192-2_amd64.deb', '/tmp/kernel'], '6.1.0-56-amd64')).toEqual([]);
    expect(kernelImagePackageUrls([`${SEC}/linux/linux-headers-6.1.0-57-amd64_6.1.192-3_amd64.deb`], '6.1.0-56-amd64')).toEqual([]);
  });
});

describe('kernelImageMember', () => {
  it('ranks /boot/vmlinuz-<release> first, then the RPM location, and nothing else', () => {
    expect(kernelImageMember('./boot/vmlinuz-6.1.0-56-amd64', '6.1.0-56-amd64')).toBe(0);
    expect(kernelImageMember('./lib/modules/5.14.0-427.el9.x86_64/vmlinuz', '5.14.0-427.el9.x86_64')).toBe(1);
    expect(kernelImageMember('./boot/vmlinuz-6.1.0-57-amd64', '6.1.0-56-amd64')).toBeUndefined();
    expect(kernelImageMember('./boot/vmlinuz-6.12.107+deb12-amd64', undefined)).toBe(0);
    expect(kernelImageMember('./boot/vmlinuz-6.12.107+deb12-amd64', '6.12.107+deb12-amd64')).toBe(0);
    expect(kernelImageMember('./boot/vmlinuz-6.12.107Xdeb12-amd64', '6.12.107+deb12-amd64')).toBeUndefined();
    expect(kernelImageMember('./boot/config-6.1.0-56-amd64', undefined)).toBeUndefined();
  });
});

describe('kernelImageKind and checkKernelImage', () => {
  const bz = Buffer.alloc(0x210);
  bz.write('HdrS', 0x202, 'latin1');
  const arm = Buffer.alloc(0x210);
  arm.writeUInt32LE(0x644d5241, 0x38);
  const zboot = Buffer.alloc(0x210);
  zboot.write('MZ', 0, 'latin1');
  zboot.write('zimg', 4, 'latin1');
  it('tells the image kinds apart and refuses the wrong arch with the reason', () => {
    expect(kernelImageKind(bz)).toBe('bzImage');
    expect(kernelImageKind(arm)).toBe('arm64-Image');
    expect(kernelImageKind(zboot)).toBe('efi-zboot');
    expect(kernelImageKind(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(kernelImageKind(Buffer.from('hello'))).toBe('unknown');
    expect(checkKernelImage('bzImage', 'x86_64', 'k')).toBeUndefined();
    expect(checkKernelImage('arm64-Image', 'aarch64', 'k')).toBeUndefined();
    expect(checkKernelImage('arm64-Image', 'x86_64', 'k')).toMatch(/not an x86 bzImage \(arm64-Image\)/);
    expect(checkKernelImage('bzImage', 'aarch64', 'k')).toMatch(/it is an x86 bzImage/);
    expect(checkKernelImage('efi-zboot', 'aarch64', 'k')).toMatch(/EFI zboot/);
  });
});

describe('qemuArgs', () => {
  it('boots directly with the console on the serial port, no reboot, no network; -cpu host only under KVM', () => {
    const x = qemuArgs({ arch: 'x86_64', accel: 'tcg', kernel: '/k', initrd: '/i' });
    expect(x.join(' ')).toBe('-M q35 -accel tcg -cpu max -smp 1 -m 512 -nographic -monitor none -no-reboot -nic none -kernel /k -initrd /i -append console=ttyS0 panic=-1 oops=panic rdinit=/init loglevel=7');
    const a = qemuArgs({ arch: 'aarch64', accel: 'kvm', kernel: '/k', initrd: '/i' });
    expect(a.slice(0, 6)).toEqual(['-M', 'virt', '-accel', 'kvm', '-cpu', 'host']);
    expect(a[a.length - 1]).toMatch(/^console=ttyAMA0 /);
  });
});
