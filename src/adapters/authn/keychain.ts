/**
 * Where registry credentials come from, in Docker's order (go-containerregistry's authn keychain):
 *   explicit flags > DOCKER_AUTH_CONFIG > $DOCKER_CONFIG/config.json (credHelpers[host] > credsStore > auths).
 * Credential helpers run as `docker-credential-<name> get` with the server on stdin (helper.ts); "not found" is
 * not an error. Every secret read is registered for redaction at once.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_HUB } from '../../core/reference.js';
import { registerSecret } from '../../util/redact.js';
import { RegistryError } from '../registry/errors.js';
import type { Credential } from './credential.js';
import { runHelper } from './helper.js';

export interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export interface CredentialSourceOptions {
  /** Credentials given on the command line, by registry host. */
  explicit?: Record<string, Credential>;
  env?: NodeJS.ProcessEnv;
  /** How long a credential helper may take, its children included (default: 30 s; the CLI's --timeout). */
  helperTimeoutMs?: number;
}

/** Docker Hub's key in config.json. */
const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** The host a config.json key names: `https://index.docker.io/v1/` -> docker.io, `http://r:5000/v2` -> r:5000. */
export function normalizeAuthKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!.toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

function serverUrlFor(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry;
}

const DEFAULT_HELPER_TIMEOUT_MS = 30_000;

export class CredentialStore {
  private readonly env: NodeJS.ProcessEnv;
  private readonly explicit: Record<string, Credential>;
  private readonly helperTimeoutMs: number;
  private configs?: Promise<DockerConfigFile[]>;
  private readonly cache = new Map<string, Promise<Credential | undefined>>();

  constructor(options: CredentialSourceOptions = {}) {
    this.env = options.env ?? process.env;
    this.explicit = options.explicit ?? {};
    this.helperTimeoutMs = options.helperTimeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
    for (const c of Object.values(this.explicit)) {
      registerSecret(c.password);
      registerSecret(c.identityToken);
    }
  }

  /** Credentials for a registry host, or undefined for anonymous access. */
  get(registry: string): Promise<Credential | undefined> {
    let found = this.cache.get(registry);
    if (!found) {
      found = this.lookup(registry);
      this.cache.set(registry, found);
    }
    return found;
  }

  private async lookup(registry: string): Promise<Credential | undefined> {
    const explicit = this.explicit[registry];
    if (explicit) return explicit;
    for (const config of await this.loadConfigs()) {
      const credential = await this.fromConfig(config, registry);
      if (credential) return credential;
    }
    return undefined;
  }

  private loadConfigs(): Promise<DockerConfigFile[]> {
    this.configs ??= (async () => {
      const configs: DockerConfigFile[] = [];
      const inline = this.env.DOCKER_AUTH_CONFIG;
      if (inline) {
        try {
          configs.push(JSON.parse(inline) as DockerConfigFile);
        } catch {
          throw new RegistryError('DOCKER_AUTH_CONFIG is not valid JSON (expected {"auths": {...}})');
        }
      }
      const dir = this.env.DOCKER_CONFIG ?? join(this.env.HOME ?? homedir(), '.docker');
      const file = join(dir, 'config.json');
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw new RegistryError(`cannot read ${file}: ${err.code ?? err.message}`);
      });
      if (text !== undefined) {
        try {
          configs.push(JSON.parse(text) as DockerConfigFile);
        } catch {
          throw new RegistryError(`${file} is not valid JSON: fix or remove it`);
        }
      }
      return configs;
    })();
    return this.configs;
  }

  private async fromConfig(config: DockerConfigFile, registry: string): Promise<Credential | undefined> {
    const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => normalizeAuthKey(key) === registry)?.[1];
    const ask = (name: string) => runHelper(name, { registry, serverUrl: serverUrlFor(registry), env: this.env, timeoutMs: this.helperTimeoutMs });
    if (helper) return ask(helper);
    if (config.credsStore) {
      const stored = await ask(config.credsStore);
      if (stored) return stored;
    }
    const entry = Object.entries(config.auths ?? {}).find(([key]) => normalizeAuthKey(key) === registry)?.[1];
    if (!entry) return undefined;
    let { username, password } = entry;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new RegistryError(`the "auth" entry for ${registry} in the Docker config is not base64 of user:secret`);
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    registerSecret(password);
    registerSecret(entry.auth);
    registerSecret(entry.identitytoken);
    if (entry.identitytoken) return { username, identityToken: entry.identitytoken };
    return username || password ? { username, password } : undefined;
  }
}
