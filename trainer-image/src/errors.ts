// Errors that are the user's to fix (bad flags, a malformed dataset, an incompatible checkpoint).
// main() prints their message as one line and exits with exitCode; anything else is a bug and
// keeps its stack trace.
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
