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
