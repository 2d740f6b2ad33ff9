// SPDX-License-Identifier: Apache-2.0
import { StatusError } from '../errors/status-error.js';

/**
 * Awaits `promise`, which must reject with a {@link StatusError}, and returns that error so a test can
 * check its code, reason and message. Throws (failing the test) when the promise resolves or rejects
 * with anything else, naming what it got instead.
 *
 * @example
 * ```ts
 * const error = await expectStatusError(client.get('pods', 'missing', { namespace: 'default' }));
 * expect(error.code).toBe(404);
 * ```
 * @category Testing
 */
export async function expectStatusError(promise: Promise<unknown>): Promise<StatusError> {
  let outcome: { resolved: unknown } | { rejected: unknown };
  try {
    outcome = { resolved: await promise };
  } catch (error) {
    outcome = { rejected: error };
  }
  if ('resolved' in outcome) throw new Error('expected a StatusError rejection, but the call succeeded');
  if (!(outcome.rejected instanceof StatusError)) {
    throw new Error(`expected a StatusError, got ${String(outcome.rejected)}`, { cause: outcome.rejected });
  }
  return outcome.rejected;
}

/**
 * Calls `fn`, which must throw a {@link StatusError}, and returns it. With `expected`, the error's
 * reason and code must match too. Throws (failing the test) when `fn` returns, throws something
 * else, or throws the wrong reason or code.
 *
 * @example
 * ```ts
 * expectThrownStatusError(() => parseLabelSelector('a in ('), { reason: 'BadRequest', code: 400 });
 * ```
 * @category Testing
 */
export function expectThrownStatusError(
  fn: () => unknown,
  expected: { reason?: string; code?: number } = {},
): StatusError {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof StatusError)) {
      throw new Error(`expected a StatusError, got ${String(error)}`, { cause: error });
    }
    if (expected.reason !== undefined && error.reason !== expected.reason) {
      throw new Error(`expected reason ${expected.reason}, got ${error.reason}: ${error.message}`, {
        cause: error,
      });
    }
    if (expected.code !== undefined && error.code !== expected.code) {
      throw new Error(`expected code ${expected.code}, got ${error.code}: ${error.message}`, {
        cause: error,
      });
    }
    return error;
  }
  throw new Error('expected a StatusError, but the call returned');
}
