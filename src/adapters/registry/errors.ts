/**
 * Registry failures. "Not found" is its own type because callers branch on it (skip vs build); every other
 * failure stays an error that must stop them: a credential error read as "absent" makes CI rebuild and re-push
 * an existing tag. Messages name the reference and never hold secrets.
 */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/** 404, MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UNKNOWN: the thing is absent. */
export class NotFoundError extends RegistryError {
  constructor(message: string, status = 404, code?: string) {
    super(message, status, code);
    this.name = 'NotFoundError';
  }
}

/** 401/403 after authenticating: wrong or missing credentials, or no permission. */
export class AuthError extends RegistryError {
  constructor(message: string, status?: number, code?: string) {
    super(message, status, code);
    this.name = 'AuthError';
  }
}

/** Content whose digest is not what was asked for. Never retried into acceptance. */
export class DigestMismatchError extends RegistryError {
  constructor(message: string) {
    super(message);
    this.name = 'DigestMismatchError';
  }
}

export const NOT_FOUND_CODES = new Set(['MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'BLOB_UNKNOWN', 'BLOB_UPLOAD_UNKNOWN']);

/** The registry's JSON error body, `{errors:[{code,message,detail}]}`, in one line. */
export function describeErrorBody(text: string): { code?: string; text: string } {
  const plain = { text: text.trim().slice(0, 200) };
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: no errors to read
  }
  const first = (body as { errors?: { code?: string; message?: string }[] } | null)?.errors?.[0];
  if (!first) return plain;
  return { code: first.code, text: [first.code, first.message].filter(Boolean).join(': ') };
}

/** What `pending` gives, or undefined when the registry says the thing is absent; any other failure throws. */
export async function orAbsent<T>(pending: Promise<T>): Promise<T | undefined> {
  try {
    return await pending;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
