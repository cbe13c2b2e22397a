import type { z } from 'zod';

export interface FieldError {
  /** Dotted path such as `spec.parameters[1].max`. */
  path: string;
  message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function messageFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `invalid value ${describe(issue.input)}; allowed: ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_type':
      return issue.input === undefined
        ? `is required (${issue.expected})`
        : `expected ${issue.expected}, got ${describe(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} item(s)`;
      if (issue.origin === 'string') return `must be at least ${String(issue.minimum)} character(s) long`;
      return `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${describe(issue.input)}`;
    case 'too_big':
      if (issue.origin === 'array') return `allows at most ${String(issue.maximum)} item(s)`;
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} character(s) long`;
      return `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${describe(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex' ? `${issue.message}` : `is not a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

export function formatZodError(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldError[] {
  return error.issues.map((issue) => ({
    path: formatPath([...prefix, ...issue.path]),
    message: messageFor(issue),
  }));
}
