/**
 * Where an image comes from, by the way it is written:
 *   oci:DIR[:REF] or a directory with an oci-layout file   an OCI image layout
 *   docker-archive:FILE[:TAG] or FILE.tar / .tar.gz        a `docker save` archive
 *   docker:IMAGE, podman:IMAGE, buildah:IMAGE              an image in a local engine
 *   anything else                                          a registry reference
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseReference } from '../../core/reference.js';
import { UsageError } from '../../errors.js';
import type { RegistryClient } from '../registry/index.js';
import { DockerArchiveSource } from './archive.js';
import { EngineSource } from './engine.js';
import { OciLayoutSource } from './oci-layout.js';
import { RegistrySource } from './registry.js';
import type { ImageSource } from './types.js';

export type { ImageSource, SourceImage } from './types.js';

function splitRef(rest: string): [string, string | undefined] {
  // The last `:` separates a ref name unless it belongs to the path.
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && !rest.slice(colon).includes('/')) return [rest.slice(0, colon), rest.slice(colon + 1)];
  return [rest, undefined];
}

export function openImageSource(spec: string, client: RegistryClient, cwd = process.cwd()): ImageSource {
  const scheme = /^([a-z-]+):(?!\/\/)(.*)$/.exec(spec);
  if (scheme && ['oci', 'docker-archive', 'docker', 'podman', 'buildah'].includes(scheme[1]!)) {
    const [kind, rest] = [scheme[1]!, scheme[2]!];
    if (kind === 'oci') {
      const [dir, ref] = existsSync(resolve(cwd, rest)) ? [rest, undefined] : splitRef(rest);
      return new OciLayoutSource(resolve(cwd, dir), ref);
    }
    if (kind === 'docker-archive') {
      const [file, tag] = existsSync(resolve(cwd, rest)) ? [rest, undefined] : splitRef(rest);
      return new DockerArchiveSource(resolve(cwd, file), tag);
    }
    // Whatever follows `docker:` goes to the engine as an image name: never let it be read as a flag.
    if (rest === '' || rest.startsWith('-')) throw new UsageError(`${spec}: "${rest}" is not an image name: write ${kind}:IMAGE[:TAG]`);
    return new EngineSource(kind as 'docker' | 'podman' | 'buildah', rest);
  }
  const path = resolve(cwd, spec);
  if (existsSync(path)) {
    if (statSync(path).isDirectory() && existsSync(join(path, 'oci-layout'))) return new OciLayoutSource(path);
    if (/\.(tar|tgz|tar\.gz)$/.test(spec)) return new DockerArchiveSource(path);
  }
  try {
    return new RegistrySource(client, parseReference(spec));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}: give a registry reference, oci:DIR[:REF], docker-archive:FILE[:TAG] or docker:/podman:/buildah:IMAGE`);
  }
}
