import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import {
  errorMessage,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
} from '../../../src/operator/runtime/kube-errors.js';

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('kube-errors', () => {
  it('classifies ApiException by code and Status reason', () => {
    const notFound = new ApiException(
      404,
      'Unknown API Status Code!',
      status(404, 'NotFound', 'x not found'),
      {},
    );
    const exists = new ApiException(
      409,
      'Unknown API Status Code!',
      status(409, 'AlreadyExists', 'exists'),
      {},
    );
    const conflict = new ApiException(
      409,
      'Unknown API Status Code!',
      status(409, 'Conflict', 'modified'),
      {},
    );
    const gone = new ApiException(410, 'Unknown API Status Code!', status(410, 'Expired', 'too old'), {});
    assert.ok(isNotFound(notFound) && !isNotFound(conflict));
    assert.ok(isAlreadyExists(exists) && !isAlreadyExists(conflict));
    assert.ok(isConflict(conflict) && !isConflict(exists));
    assert.ok(isGone(gone));
    // Watch errors carry statusCode instead of code.
    assert.ok(isGone(Object.assign(new Error('Gone'), { statusCode: 410 })));
    for (const v of [undefined, null, 'x', 404, new Error('plain')]) assert.equal(isNotFound(v), false);
  });

  it('accepts a body that is already an object', () => {
    const err = new ApiException(
      409,
      'm',
      { reason: 'AlreadyExists', message: 'leases "l" already exists' },
      {},
    );
    assert.ok(isAlreadyExists(err));
    assert.equal(errorMessage(err), 'HTTP 409: leases "l" already exists');
  });

  it('gives a one-line message', () => {
    const body = status(409, 'Conflict', 'Operation cannot be fulfilled on leases "l": object was modified');
    assert.equal(
      errorMessage(new ApiException(409, 'Unknown API Status Code!', body, { 'content-type': 'x' })),
      'HTTP 409: Operation cannot be fulfilled on leases "l": object was modified',
    );
    assert.equal(
      errorMessage(new ApiException(401, 'Unauthorized', undefined, {})),
      'HTTP 401: Unauthorized',
    );
    assert.equal(errorMessage(new ApiException(500, 'x', 'upstream broke', {})), 'HTTP 500: upstream broke');
    assert.equal(errorMessage(new Error('connect ECONNREFUSED\nstack')), 'connect ECONNREFUSED');
    assert.equal(errorMessage('boom'), 'boom');
  });
});
