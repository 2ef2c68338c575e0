/**
 * Secrets must never reach output, logs or error messages. Every adapter that handles a secret registers it
 * here as soon as it reads it; every path that prints (CLI errors, --debug, progress) goes through redact().
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined | null): void {
  // Very short values would blank out ordinary words; they are not secrets worth the name anyway.
  if (value && value.length >= 4) secrets.add(value);
}

const HEADER_PATTERNS: RegExp[] = [
  /(authorization\s*[:=]\s*)(basic|bearer)?\s*[^\s,;"'}]+/gi,
  /("?(?:password|secret|token|access_token|identitytoken|refresh_token)"?\s*[:=]\s*"?)([^"\s,}]+)/gi,
  /(https?:\/\/)([^/@\s:]+):([^/@\s]+)@/gi,
];

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  out = out.replace(HEADER_PATTERNS[0]!, (_m, head: string, scheme?: string) => `${head}${scheme ? `${scheme} ` : ''}***`);
  out = out.replace(HEADER_PATTERNS[1]!, (_m, head: string) => `${head}***`);
  out = out.replace(HEADER_PATTERNS[2]!, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
  return out;
}
