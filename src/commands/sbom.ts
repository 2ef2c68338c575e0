import type { Command } from 'commander';
import { parsePlatform } from '../core/oci.js';
import { sbomOf } from '../app/sbom.js';
import { registryAccess } from '../app/registry-client.js';
import { loadRepo } from '../app/repo.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../util/output.js';
import { action, insecureOption, type Streams } from './context.js';

interface SbomCliOptions {
  platform?: string;
  generate?: boolean;
  attach?: boolean;
  packages?: boolean;
  insecure?: string[];
}

export function register(program: Command, streams: Streams): void {
  program
    .command('sbom')
    .description("Print an image's SPDX 2.3 SBOM: the one attached in its registry, or one read from its layers")
    .argument('<image>', 'REGISTRY/REPO:TAG, REPO@sha256:…, oci:DIR, docker-archive:FILE, podman:NAME…')
    .option('--platform <os/arch>', 'which platform of a multi-arch index')
    .option('--generate', 'read the layers even when an SBOM is attached')
    .option('--attach', 'read the layers and attach the SBOM to the image (an OCI artifact referring to it)')
    .option('--packages', 'print the packages as a table instead of the SPDX JSON')
    .addOption(insecureOption())
    .addHelpText('after', '\nPackages come from dpkg\'s status (and status.d); RPM databases are not read. Example:\n  builder-images sbom ghcr.io/org/builders:any-x86_64_gcc12.0.0-latest --packages')
    .action(
      action<SbomCliOptions>(async (opts, ctx, args) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const { client } = registryAccess(repo, { insecure: opts.insecure, debug: ctx.out.debug, idleTimeoutMs: ctx.idleTimeoutMs });
        let platform;
        try {
          platform = opts.platform ? parsePlatform(opts.platform) : undefined;
        } catch (err) {
          throw new UsageError(`--platform: ${(err as Error).message}`);
        }
        const answer = await sbomOf(client, { spec: args[0]!, platform, generate: opts.generate, attach: opts.attach, cwd: ctx.cwd, onProgress: ctx.out.progress });
        for (const db of answer.unreadRpmDatabases ?? []) ctx.out.progress(`warning: ${db} (an RPM database) is not read: its packages are not in this SBOM`);
        if (answer.attachedAs) {
          const where = answer.attachedAs.indexedBy === 'api' ? 'the referrers API' : `the referrers tag ${answer.attachedAs.indexedBy.tag}`;
          ctx.out.progress(`attached as ${answer.attachedAs.descriptor.digest} (listed by ${where})`);
        }
        if (opts.packages) {
          const packages = (answer.document.packages as { name: string; versionInfo: string; externalRefs?: { referenceLocator: string }[] }[]).slice(1);
          ctx.out.result(formatTable([['PACKAGE', 'VERSION', 'PURL'], ...packages.map((p) => [p.name, p.versionInfo, p.externalRefs?.[0]?.referenceLocator ?? ''])]));
          ctx.out.result(`${packages.length} package(s) in ${answer.image} (${answer.digest.slice(0, 19)}), SBOM ${answer.from === 'attached' ? 'attached in the registry' : 'read from the layers'}`);
        } else ctx.out.json(answer.document);
        return 0;
      }, streams),
    );
}
