/**
 * The out-of-tree module `verify` builds: the smallest one Kbuild turns into a .ko with a .modinfo section.
 * Shipped as data with the tool (no file to find at run time). Pure.
 */
import { digestOf } from './digest.js';
export const PROBE_MODULE_NAME = 'bi_probe';

export const PROBE_MODULE_FILES: Record<string, string> = {
  'bi_probe.c': `// builder-images verify: the smallest module a driver builder's image must be able to build.
#include <linux/init.h>
#include <linux/module.h>

static int __init bi_probe_init(void)
{
	pr_info("bi_probe: loaded\\n");
	return 0;
}

static void __exit bi_probe_exit(void)
{
}

module_init(bi_probe_init);
module_exit(bi_probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("builder-images verify probe");
`,
  Kbuild: 'obj-m := bi_probe.o\n',
};

/** The probe's source hash as a verification record names it: sha256 over its files, names sorted. */
export function probeModuleSource(): string {
  return digestOf(Object.keys(PROBE_MODULE_FILES).sort().map((name) => `${name}\u0000${PROBE_MODULE_FILES[name]}\u0000`).join(''));
}
