import { ApiException } from '@kubernetes/client-node';

/** HTTP status of a client-node error, or undefined for errors that never reached the API. */
export function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code =
    (err as { code?: unknown; statusCode?: unknown } | null)?.statusCode ??
    (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isAlreadyExists = (err: unknown): boolean =>
  statusCode(err) === 409 && reason(err) !== 'Conflict';
export const isConflict = (err: unknown): boolean =>
  statusCode(err) === 409 && reason(err) !== 'AlreadyExists';
export const isGone = (err: unknown): boolean => statusCode(err) === 410;

function statusBody(err: unknown): { reason?: string; message?: string } | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = err.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { reason?: string; message?: string };
    } catch {
      return { message: body };
    }
  }
  return body as { reason?: string; message?: string } | undefined;
}

function reason(err: unknown): string | undefined {
  return statusBody(err)?.reason;
}

/** The apiserver's own message where there is one: it names the field and the rule. */
export function errorMessage(err: unknown): string {
  const body = statusBody(err);
  if (body?.message) return body.message;
  return err instanceof Error ? err.message : String(err);
}
