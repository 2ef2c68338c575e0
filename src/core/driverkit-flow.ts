/**
 * The driver builder's kernel-module flow (falcosecurity/driverkit's templates: libs_download.sh, <target>_kernel.sh,
 * <target>.sh) as one script and the values it reads. The script is fixed text: every value arrives in the
 * environment (BI_*) and is used quoted, never spliced in, and every value is checked here first. Pure.
 */
import type { Arch } from './names.js';

export type FlowPackaging = 'deb' | 'rpm';

export interface DriverkitFlowValues {
  /** http URL of the module source tarball (one top directory, as GitHub archives have). */
  moduleUrl: string;
  /** http URLs of the headers packages, in order. */
  kernelUrls: string[];
  packaging: FlowPackaging;
  arch: Arch;
  /** X.Y.Z: the build runs `make CC=/usr/bin/gcc-X.Y.Z driver`. */
  gcc: string;
  driverName: string;
  driverVersion: string;
  deviceName: string;
  /** Where the .ko is copied for the host to read. */
  outDir: string;
}

/** Where the build leaves it: driverkit copies /tmp/driver/build/driver/<name>.ko out. */
export const FLOW_BUILD_DIR = '/tmp/driver';

/** Debian's arch name in its headers dirs (linux-headers-6.1.0-57-amd64), as driverkit's pattern uses it. */
function debianArch(arch: Arch): string {
  return arch === 'x86_64' ? 'amd64' : 'arm64';
}

const PLAIN_URL = /^https?:\/\/[A-Za-z0-9.:[\]-]+\/[A-Za-z0-9._+~/-]*$/;

/** Every value the script reads, checked: a value the script would misread is refused here. */
export function flowEnv(v: DriverkitFlowValues): Record<string, string> {
  const bad = (what: string, value: string) => new Error(`driver builder flow: ${what} "${value}" is not allowed`);
  for (const url of [v.moduleUrl, ...v.kernelUrls]) if (!PLAIN_URL.test(url)) throw bad('URL', url);
  if (v.kernelUrls.length === 0) throw new Error('driver builder flow: no headers package to download');
  if (!/^\d+\.\d+\.\d+$/.test(v.gcc)) throw bad('GCC version', v.gcc);
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(v.driverName)) throw bad('driver name', v.driverName);
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(v.deviceName)) throw bad('device name', v.deviceName);
  if (!/^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/.test(v.driverVersion)) throw bad('driver version', v.driverVersion);
  if (!/^\/[A-Za-z0-9._/-]+$/.test(v.outDir)) throw bad('out dir', v.outDir);
  return {
    BI_MODULE_URL: v.moduleUrl,
    BI_KERNEL_URLS: v.kernelUrls.join(' '),
    BI_PACKAGING: v.packaging,
    BI_HEADERS_PATTERN: `linux-headers-*${debianArch(v.arch)}`,
    BI_GCC: v.gcc,
    BI_DRIVER_NAME: v.driverName,
    BI_DRIVER_VERSION: v.driverVersion,
    BI_DEVICE_NAME: v.deviceName,
    BI_OUT: v.outDir,
  };
}

/**
 * cmd.sh as the driver builder composes it (download the sources, unpack the headers, configure, build, strip,
 * modinfo), run with `/bin/bash -l`. The last step copies the module to BI_OUT, as driverkit copies it out of the
 * container.
 */
export const DRIVERKIT_FLOW_SCRIPT = `#!/bin/bash
# builder-images verify --flow driverkit: the driver builder's kernel-module steps (libs_download.sh,
# <target>_kernel.sh, <target>.sh), values from the environment.
set -xeuo pipefail

rm -Rf ${FLOW_BUILD_DIR}
mkdir ${FLOW_BUILD_DIR}
rm -Rf /tmp/module-download
mkdir -p /tmp/module-download
curl --silent -SL "$BI_MODULE_URL" | tar -xzf - -C /tmp/module-download
mv /tmp/module-download/*/* ${FLOW_BUILD_DIR}
rm -Rf /tmp/module-download

mkdir /tmp/kernel-download
cd /tmp/kernel-download
case "$BI_PACKAGING" in
deb)
  for url in $BI_KERNEL_URLS; do
    curl --silent -o kernel.deb -SL "$url"
    ar x kernel.deb
    tar -xf data.tar.xz
  done
  cd usr/src/
  sourcedir=$(find . -type d -name "$BI_HEADERS_PATTERN" | head -n 1 | xargs readlink -f)
  sed -i 's/\\/usr\\/src/../g' "$sourcedir/Makefile"
  export KERNELDIR=$sourcedir
  ;;
rpm)
  for url in $BI_KERNEL_URLS; do
    curl --silent -o kernel-devel.rpm -SL "$url"
    rpm2cpio kernel-devel.rpm | cpio --extract --make-directories
  done
  rm -Rf /tmp/kernel
  mkdir -p /tmp/kernel
  mv usr/src/kernels/*/* /tmp/kernel
  export KERNELDIR=/tmp/kernel
  ;;
esac

cd ${FLOW_BUILD_DIR}
mkdir -p build && cd build
cmake -Wno-dev \\
  -DUSE_BUNDLED_DEPS=On \\
  -DCREATE_TEST_TARGETS=Off \\
  -DBUILD_LIBSCAP_GVISOR=Off \\
  -DBUILD_LIBSCAP_MODERN_BPF=Off \\
  -DENABLE_DRIVERS_TESTS=Off \\
  -DDRIVER_NAME="$BI_DRIVER_NAME" \\
  -DPROBE_NAME="$BI_DRIVER_NAME" \\
  -DDRIVER_VERSION="$BI_DRIVER_VERSION" \\
  -DPROBE_VERSION="$BI_DRIVER_VERSION" \\
  -DGIT_COMMIT=builder-images \\
  -DDRIVER_DEVICE_NAME="$BI_DEVICE_NAME" \\
  -DPROBE_DEVICE_NAME="$BI_DEVICE_NAME" \\
  ..

make CC="/usr/bin/gcc-$BI_GCC" driver
strip -g "driver/$BI_DRIVER_NAME.ko"
modinfo "driver/$BI_DRIVER_NAME.ko"
cp "driver/$BI_DRIVER_NAME.ko" "$BI_OUT/"
`;
