import type { Config } from '../core/config.js';
import { isLoopbackRegistry, parseReference } from '../core/reference.js';

/**
 * Registries a build may pull from over plain HTTP: the configured insecure ones, the target registry when it is
 * loopback, and loopback registries named in build args (a local mirror of the base images).
 */
export function pullRegistries(config: Config, buildArgs: Record<string, string>, targetRegistry?: string): string[] {
  const hosts = new Set(config.insecureRegistries);
  if (targetRegistry && isLoopbackRegistry(targetRegistry)) hosts.add(targetRegistry);
  for (const value of Object.values({ ...config.buildArgs, ...buildArgs })) {
    try {
      const ref = parseReference(value);
      if (isLoopbackRegistry(ref.registry)) hosts.add(ref.registry);
    } catch {
      // not an image reference
    }
  }
  return [...hosts];
}
