/**
 * builder-images.yaml, the optional config file at the repository root. Pure schema; loading is in
 * adapters/fs/config-file.ts. Every key is optional; an unknown key is an error that names it. Flags override it.
 */
import { z } from 'zod';
import { ANY_FAMILIES, FAMILIES, FLOWS } from './driver-contract.js';

/** A path the config names: relative to the repository root and inside it (no absolute path, no `..` out of it). */
const insidePath = z
  .string()
  .min(1)
  .refine((p) => !/^([A-Za-z]:)?[\\/]/.test(p) && !p.split(/[\\/]+/).includes('..'), 'must be a path inside the repository (relative, without ..)');

/** A version tag (`latest`, `v1.2.3`): Docker's tag grammar, as it ends every image tag. */
const versionTag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a tag: letters, digits, _ . -, not starting with . or -');

const repository = z
  .string()
  .regex(/^[^\s:@]+(?::\d+)?\/[a-z0-9._/-]+$/, 'must be a repository such as ghcr.io/org/builders (no tag)');

/** A headers source of a kernel to verify: a path or https URL, with an optional sha256 of the file. */
const headersSource = z.union([
  z.string().min(1),
  z.object({ source: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits').optional() }).strict(),
]);

/** A kernel `verify` (and `push --verify` without sources) builds a module for; unset fields come from its headers. */
const verifyKernel = z
  .object({
    release: z.string().regex(/^\d+\.\d+/, 'must be a kernel release such as 6.1.0-56-amd64').optional(),
    target: z.string().regex(/^[a-z0-9]+$/).optional(),
    arch: z.enum(['x86_64', 'aarch64']).optional(),
    headers: z.array(headersSource).min(1),
  })
  .strict();

/** What `check` proves besides the GCC links: the driver builder's contract (core/driver-contract.ts). */
const checkConfig = z
  .object({
    /** driverkit: the commands and files driverkit's scripts run in the image; none: only the GCC links. */
    contract: z.enum(['driverkit', 'none']).default('driverkit'),
    /** The flows every image claims; an image's io.builder-images.flows label overrides it. */
    flows: z.array(z.enum(FLOWS)).min(1).default(['kmod']),
    /** The target families an `any` image serves (a target's own image serves its family). */
    anyFamilies: z.array(z.enum(FAMILIES)).min(1).default([...ANY_FAMILIES]),
  })
  .strict();

export type CheckConfig = z.infer<typeof checkConfig>;

export type VerifyKernelConfig = z.infer<typeof verifyKernel>;

export const configSchema = z
  .object({
    /** The repository's web address, labelled org.opencontainers.image.source (default: the git remote). */
    source: z.string().regex(/^https?:\/\/[^\s@]+$/, 'must be an http(s) address without credentials, such as https://github.com/org/builders').optional(),
    /** Where images are published; the first is built and pushed, the others are filled by copy. */
    repositories: z.array(repository).min(1).default(['localhost:5000/builders']),
    /** How content tags are made: git tree hash of the inputs, or the HEAD commit. */
    tagScheme: z.enum(['tree', 'commit']).default('tree'),
    /** Folder of builder Dockerfiles, relative to the repository root. */
    imagesDir: insidePath.default('images'),
    /** Extra versions every image is tagged with, besides its content tag. */
    versions: z.array(versionTag).default(['latest']),
    /** index.yaml: which file, and which tags (versions) it lists. */
    index: z
      .object({
        file: insidePath.default('index.yaml'),
        tags: z.array(versionTag).default(['latest']),
      })
      .strict()
      .default({ file: 'index.yaml', tags: ['latest'] }),
    /** Build engine: auto picks the first of docker, podman, buildah that works. */
    engine: z.enum(['auto', 'docker', 'buildah', 'podman']).default('auto'),
    /** --build-arg values for every build. */
    buildArgs: z.record(z.string(), z.string()).default({}),
    /** Registries spoken to over plain HTTP besides loopback ones. */
    insecureRegistries: z.array(z.string()).default([]),
    /** CI runner label for a native build of each arch (plan --format github-matrix). */
    runners: z
      .object({ x86_64: z.string().default('ubuntu-24.04'), aarch64: z.string().default('ubuntu-24.04-arm') })
      .strict()
      .default({ x86_64: 'ubuntu-24.04', aarch64: 'ubuntu-24.04-arm' }),
    /** Remote BuildKit builder per platform (docker buildx --builder). */
    builders: z.record(z.string(), z.string()).default({}),
    check: checkConfig.default({ contract: 'driverkit', flows: ['kmod'], anyFamilies: [...ANY_FAMILIES] }),
    /** Kernels to build a probe module for with the image select picks (verify, push --verify). */
    verify: z.array(verifyKernel).default([]),
    bump: z
      .object({ branch: z.string().min(1).default('builder-images/digests') })
      .strict()
      .default({ branch: 'builder-images/digests' }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export const DEFAULT_CONFIG_FILE = 'builder-images.yaml';
