/**
 * A kernel's bootable image on this machine, for `verify --boot`: given (a path or URL to an image or a package,
 * `#sha256=` optional), or the distro package next to the kernel's headers package (core/kernel-image.ts). The
 * packages come with the headers' download discipline (https, bounded, sha256, cached: headers/download.ts);
 * the image read out of a package is cached by the package's sha256, so a second run reads nothing but it.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { checkKernelImage, kernelImageKind, kernelImageMember, kernelImagePackageUrls, type KernelImageKind } from '../../core/kernel-image.js';
import type { Arch } from '../../core/names.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { download, DownloadError, isSha256, sha256OfFile } from '../headers/download.js';
import { packageKind, readHead } from '../headers/packages.js';
import { extractMember } from './extract.js';

export class KernelImageError extends Error {}

export interface FileSource {
  location: string;
  sha256?: string;
}

/** `PATH_OR_URL` or `PATH_OR_URL#sha256=<64 hex>`. */
export function parseFileSource(text: string, what: string): FileSource {
  const m = /^(.*)#sha256=(.*)$/.exec(text);
  if (!m) return { location: text };
  if (!isSha256(m[2]!)) throw new KernelImageError(`${what} ${text}: the sha256 after "#sha256=" must be 64 lower-case hex digits`);
  return { location: m[1]!, sha256: m[2]! };
}

export interface KernelImage {
  path: string;
  kind: KernelImageKind;
  /** Where it came from, for the report: the package URL or path (and the member), or the file given. */
  from: string;
}

export interface FetchOptions {
  cacheDir: string;
  cwd: string;
  onProgress?: (line: string) => void;
  fetch?: typeof fetch;
}

const MAX_PACKAGE_BYTES = 768 * 1024 ** 2;
const MAX_IMAGE_BYTES = 256 * 1024 ** 2;

const isUrl = (text: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(text);

/** A local path or a URL, downloaded (and checked) into the cache; the sha256 of the file is returned with it. */
export async function fetchFile(source: FileSource, what: string, options: FetchOptions & { maxBytes: number }): Promise<{ path: string; sha256: string }> {
  if (isUrl(source.location)) {
    const path = await download(source.location, { cacheDir: join(options.cacheDir, 'packages'), sha256: source.sha256, maxBytes: options.maxBytes, onProgress: options.onProgress, fetch: options.fetch });
    return { path, sha256: source.sha256 ?? (await sha256OfFile(path)) };
  }
  const path = resolve(options.cwd, source.location);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new KernelImageError(`${what} ${source.location}: no such file`);
  if (info.size > options.maxBytes) throw new KernelImageError(`${what} ${source.location}: ${info.size} bytes is over the ${options.maxBytes}-byte limit`);
  const sha256 = await sha256OfFile(path);
  if (source.sha256 && sha256 !== source.sha256) throw new KernelImageError(`${what} ${source.location}: sha256 is ${sha256}, not the expected ${source.sha256}`);
  return { path, sha256 };
}

/** The image inside a package, read once and cached by the package's content. */
async function imageFromPackage(pkg: { path: string; sha256: string }, release: string, what: string, options: FetchOptions, anyRelease = false): Promise<{ path: string; member: string }> {
  const dir = join(options.cacheDir, 'images', pkg.sha256);
  const marker = join(dir, 'member');
  const known = await readFile(marker, 'utf8').catch(() => undefined);
  if (known && (await stat(join(dir, basename(known))).then((s) => s.isFile(), () => false))) {
    options.onProgress?.(`boot: kernel image ${basename(known)} from the cache`);
    return { path: join(dir, basename(known)), member: known };
  }
  options.onProgress?.(`boot: reading the kernel image out of ${basename(pkg.path)}`);
  // The kernel's own release first; with anyRelease, another release's image after it (ranked below, so the
  // reading goes on in case the package holds the release's own).
  const rank = (name: string) => {
    const own = kernelImageMember(name, release);
    if (own !== undefined || !anyRelease) return own;
    const other = kernelImageMember(name, undefined);
    return other === undefined ? undefined : 3 + other;
  };
  const found = await extractMember(pkg.path, rank, { what, maxBytes: MAX_IMAGE_BYTES });
  const looked = anyRelease ? '*' : release;
  if (!found) throw new KernelImageError(`${what}: no kernel image in the package (looked for boot/vmlinuz-${looked}, lib/modules/${looked}/vmlinuz)`);
  const path = join(dir, basename(found.name));
  await writeFileAtomic(path, found.data);
  await writeFileAtomic(marker, found.name);
  return { path, member: found.name };
}

/** A file given by the user: a package (its image is read out of it) or the image itself. */
async function fromGiven(source: FileSource, release: string, options: FetchOptions): Promise<{ path: string; from: string }> {
  const what = `--kernel-image ${source.location}`;
  const file = await fetchFile(source, '--kernel-image', { ...options, maxBytes: MAX_PACKAGE_BYTES });
  const kind = packageKind(await readHead(file.path, 8));
  if (kind === 'deb' || kind === 'rpm') {
    // Any kernel's image: the one given may be another release than the headers' (that is the point of giving it).
    const { path, member } = await imageFromPackage(file, release, what, options, true);
    return { path, from: `${source.location} (${member})` };
  }
  return { path: file.path, from: source.location };
}

/** The image for a kernel: the one given, else the distro's package next to its headers, tried in order. */
export async function kernelImageFor(kernel: { release: string; arch: Arch; headers: string[] }, given: FileSource | undefined, options: FetchOptions): Promise<KernelImage> {
  let found: { path: string; from: string } | undefined;
  if (given) found = await fromGiven(given, kernel.release, options);
  else {
    const urls = kernelImagePackageUrls(kernel.headers, kernel.release);
    if (urls.length === 0) {
      throw new KernelImageError(
        `kernel ${kernel.release}: no kernel image package to derive (its headers were not given as Debian linux-headers-<release> or RPM kernel-devel package URLs): pass --kernel-image PATH|URL`,
      );
    }
    const misses: string[] = [];
    for (const url of urls) {
      let pkg: { path: string; sha256: string };
      try {
        pkg = await fetchFile({ location: url }, 'kernel image package', { ...options, maxBytes: MAX_PACKAGE_BYTES });
      } catch (err) {
        if (!(err instanceof DownloadError) || !/HTTP 404|HTTP 403|HTTP 410/.test(err.message)) throw err;
        misses.push(url);
        continue;
      }
      const { path, member } = await imageFromPackage(pkg, kernel.release, url, options);
      found = { path, from: `${url} (${member})` };
      break;
    }
    if (!found) throw new KernelImageError(`kernel ${kernel.release}: no kernel image package at ${misses.join(', ')}: pass --kernel-image PATH|URL`);
  }
  const kind = kernelImageKind(await readHead(found.path, 0x210));
  const problem = checkKernelImage(kind, kernel.arch, `the kernel image ${found.from}`);
  if (problem) throw new KernelImageError(problem);
  return { path: found.path, kind, from: found.from };
}
