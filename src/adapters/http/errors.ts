/** HTTP refusals: the server means them (too large, a bad redirect), so they are never retried. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}
