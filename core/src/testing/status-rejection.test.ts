// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { errors } from '../errors/status-error.js';
import { expectStatusError } from './status-rejection.js';

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
