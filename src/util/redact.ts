/**
 * Secrets must never reach output, logs or error messages. Every adapter that handles a secret registers it
 * here as soon as it reads it; every path that prints (CLI errors, --debug, progress) goes through redact().
 *
 * The secrets are the run's (cleanup.ts perRun): one run's credentials are not kept for the next run in the same
 * process. Code outside any run (a library call, a unit test) registers into a set of its own, which every
 * redaction also applies.
 */
import { currentScope, perRun } from './cleanup.js';

const outsideRuns = new Set<string>();

function secretsHere(): Set<string> {
  return currentScope() ? perRun('secrets', () => new Set<string>()) : outsideRuns;
}

export function registerSecret(value: string | undefined | null): void {
  // Very short values would blank out ordinary words; they are not secrets worth the name anyway.
  if (value && value.length >= 4) secretsHere().add(value);
}

const HEADER_PATTERNS: RegExp[] = [
  /(authorization\s*[:=]\s*)(basic|bearer)?\s*[^\s,;"'}]+/gi,
  /("?(?:password|secret|token|access_token|identitytoken|refresh_token)"?\s*[:=]\s*"?)([^"\s,}]+)/gi,
  /(https?:\/\/)([^/@\s:]+):([^/@\s]+)@/gi,
];

export function redact(text: string): string {
  let out = text;
  const secrets = currentScope() ? [...secretsHere(), ...outsideRuns] : outsideRuns;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  out = out.replace(HEADER_PATTERNS[0]!, (_m, head: string, scheme?: string) => `${head}${scheme ? `${scheme} ` : ''}***`);
  out = out.replace(HEADER_PATTERNS[1]!, (_m, head: string) => `${head}***`);
  out = out.replace(HEADER_PATTERNS[2]!, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
  return out;
}
