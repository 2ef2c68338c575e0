import { RegistryClient } from '../adapters/registry/index.js';
import type { Repo } from './repo.js';

export interface RegistryAccess {
  client: RegistryClient;
  /** Registries spoken to over plain HTTP: the config's and the flag's (engines need the list too). */
  insecureRegistries: string[];
}

/** The one registry client of a command: the repository's insecure registries plus `--insecure`, the debug sink, and `--timeout`. */
export function registryAccess(repo: Repo, options: { insecure?: string[]; debug?: (line: string) => void; idleTimeoutMs?: number } = {}): RegistryAccess {
  const insecureRegistries = [...repo.config.insecureRegistries, ...(options.insecure ?? [])];
  return { client: new RegistryClient({ insecureRegistries, debug: options.debug, idleTimeoutMs: options.idleTimeoutMs }), insecureRegistries };
}
