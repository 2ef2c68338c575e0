/**
 * Image references, parsed the way Docker does (distribution/reference): an optional registry host[:port],
 * a lower-case repository path, an optional tag and an optional digest. Pure: no I/O.
 */

export const DOCKER_HUB = 'docker.io';
/** The API host behind `docker.io`. */
const DOCKER_HUB_API = 'registry-1.docker.io';

export interface ImageReference {
  /** Registry host as users write it: `docker.io`, `ghcr.io`, `localhost:5000`, `127.0.0.1:37411`. */
  registry: string;
  /** Repository path within the registry, `library/` added for one-part Docker Hub names. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` (or another algorithm the registry supports). */
  digest?: string;
}

export class InvalidReferenceError extends Error {
  constructor(
    readonly reference: string,
    reason: string,
  ) {
    super(`invalid image reference "${reference}": ${reason}`);
    this.name = 'InvalidReferenceError';
  }
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

/** True for a `sha256:` digest with exactly 64 lower-case hex digits. */
export function isSha256Digest(value: string): boolean {
  return SHA256_DIGEST.test(value);
}

/** Parse a reference such as `debian:bookworm@sha256:…`, `ghcr.io/org/img:1`, `localhost:5000/x@sha256:…`. */
export function parseReference(input: string): ImageReference {
  const text = input.trim();
  if (text === '') throw new InvalidReferenceError(input, 'it is empty');
  if (/\s/.test(text)) throw new InvalidReferenceError(input, 'it contains white space');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError(input, `"${digest}" is not a digest (expected sha256:<64 hex>)`);
    if (digest.startsWith('sha256:') && !SHA256_DIGEST.test(digest)) {
      throw new InvalidReferenceError(input, `"${digest}" is not a sha256 digest (expected 64 lower-case hex digits)`);
    }
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(input, `"${tag}" is not a valid tag`);
  }

  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    registry = first;
    parts.shift();
    if (!HOST.test(registry)) throw new InvalidReferenceError(input, `"${registry}" is not a valid registry host`);
    if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  }
  if (parts.some((p) => p === '')) throw new InvalidReferenceError(input, 'the repository path is empty');
  for (const part of parts) {
    if (part !== part.toLowerCase()) throw new InvalidReferenceError(input, `repository names must be lower case ("${part}")`);
    if (!COMPONENT.test(part)) throw new InvalidReferenceError(input, `"${part}" is not a valid repository path component`);
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (repository.length > 255) throw new InvalidReferenceError(input, 'the repository name is longer than 255 characters');

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `registry/repository`, the name without tag or digest. */
/** The reference, or undefined when the text is not one (a Dockerfile value that is not an image, say). */
export function tryParseReference(input: string): ImageReference | undefined {
  try {
    return parseReference(input);
  } catch {
    return undefined;
  }
}

export function repositoryName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * Format a reference. `familiar` gives Docker's short form (`debian:bookworm` rather than
 * `docker.io/library/debian:bookworm`), which is how people write FROM lines.
 */
export function formatReference(ref: ImageReference, options: { familiar?: boolean } = {}): string {
  let name = repositoryName(ref);
  if (options.familiar && ref.registry === DOCKER_HUB) {
    name = ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  }
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The host that serves the registry API for a registry name (`docker.io` is served by registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** Host name without the port, brackets removed for IPv6. */
function hostName(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  // Stryker disable next-line EqualityOperator: a registry that starts with ":" has no host name, loopback neither way
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/** Loopback registries may be spoken to over plain HTTP without being named insecure. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = hostName(registry);
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}
