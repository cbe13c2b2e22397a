import type { z } from 'zod';
import { type FieldError, formatZodError } from '../api/errors.js';

/** Invalid user input, carrying every field problem so they can all be shown at once. */
export class ValidationError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
    this.name = 'ValidationError';
  }

  static fromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): ValidationError {
    return new ValidationError(formatZodError(error, prefix));
  }
}
