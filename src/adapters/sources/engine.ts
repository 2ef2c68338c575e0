import { join } from 'node:path';
import type { Platform } from '../../core/oci.js';
import { tempDir } from '../../util/cleanup.js';
import { CliError } from '../../errors.js';
import { buildahGlobalArgs } from '../engines/detect.js';
import { engineProcess } from '../engines/process.js';
import { DockerArchiveSource } from './archive.js';
import { OciLayoutSource } from './oci-layout.js';
import type { ImageSource, SourceImage } from './types.js';

export type LocalEngine = 'docker' | 'podman' | 'buildah';

/** An image in a local engine, exported through the engine itself to a temporary layout, then read like any other. */
export class EngineSource implements ImageSource {
  readonly label: string;
  private tmp?: { path: string; remove(): Promise<void> };
  constructor(
    private readonly engine: LocalEngine,
    private readonly image: string,
  ) {
    this.label = `${engine}:${image}`;
  }

  async images(platform?: Platform): Promise<SourceImage[]> {
    this.tmp = await tempDir('bi-export-');
    try {
      if (this.engine === 'buildah') {
        const dir = join(this.tmp.path, 'layout');
        await engineProcess('buildah', [...buildahGlobalArgs(), 'push', '--quiet', '--', this.image, `oci:${dir}`], {});
        return await new OciLayoutSource(dir).images(platform);
      }
      const file = join(this.tmp.path, 'image.tar');
      await engineProcess(this.engine, ['save', '-o', file, '--', this.image], {});
      return await new DockerArchiveSource(file).images(platform);
    } catch (err) {
      const e = err as { code?: string; shortMessage?: string; stderr?: string };
      if (e.code === 'ENOENT') throw new CliError(`${this.engine} is not installed: cannot read ${this.label}; install it, or check the image another way (a registry reference, oci:DIR)`);
      throw new Error(`${this.engine} could not export ${this.image}: ${(e.stderr ?? e.shortMessage ?? String(err)).trim().split('\n').pop()}`);
    }
  }

  async close(): Promise<void> {
    await this.tmp?.remove();
  }
}
