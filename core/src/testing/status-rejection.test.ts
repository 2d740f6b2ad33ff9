// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { errors } from '../errors/status-error.js';
import { expectStatusError, expectThrownStatusError } from './status-rejection.js';

describe('expectStatusError', () => {
  it('returns the StatusError a promise rejects with', async () => {
    const error = await expectStatusError(Promise.reject(errors.notFound({ resource: 'pods', name: 'web' })));
    expect([error.code, error.reason]).toEqual([404, 'NotFound']);
  });

  it('fails when the promise resolves', async () => {
    await expect(expectStatusError(Promise.resolve('fine'))).rejects.toThrow(/but the call succeeded/);
  });

  it('fails on any other rejection and names it', async () => {
    await expect(expectStatusError(Promise.reject(new TypeError('boom')))).rejects.toThrow(
      'expected a StatusError, got TypeError: boom',
    );
  });
});

describe('expectThrownStatusError', () => {
  const notFound = () => {
    throw errors.notFound({ resource: 'pods', name: 'web' });
  };

  it('returns the StatusError a call throws, checking reason and code when asked', () => {
    expect(expectThrownStatusError(notFound, { reason: 'NotFound', code: 404 }).code).toBe(404);
  });

  it('fails when the call returns, throws something else, or the reason or code differ', () => {
    expect(() => expectThrownStatusError(() => 1)).toThrow(/but the call returned/);
    expect(() =>
      expectThrownStatusError(() => {
        throw new TypeError('boom');
      }),
    ).toThrow('expected a StatusError, got TypeError: boom');
    expect(() => expectThrownStatusError(notFound, { reason: 'BadRequest' })).toThrow(
      /expected reason BadRequest/,
    );
    expect(() => expectThrownStatusError(notFound, { code: 400 })).toThrow(/expected code 400/);
  });
});
