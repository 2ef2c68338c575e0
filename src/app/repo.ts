import { resolve } from 'node:path';
import type { Config } from '../core/config.js';
import { loadConfig } from '../adapters/fs/config-file.js';
import { listImageFiles, type ImageFile } from '../adapters/fs/images-dir.js';

/** A builder-images repository as the commands see it: its root, its config and the files of images/. */
export interface Repo {
  root: string;
  config: Config;
  configFile?: string;
  files: ImageFile[];
}

export async function loadRepo(cwd: string, configPath?: string): Promise<Repo> {
  const root = resolve(cwd);
  const { config, file } = await loadConfig(root, configPath);
  const files = await listImageFiles(root, config.imagesDir);
  return file ? { root, config, configFile: file, files } : { root, config, files };
}
