// SPDX-License-Identifier: Apache-2.0
// Polling helpers shared by the end-to-end suites. They wait on what a user would observe, with
// generous limits, so that the suites stay deterministic on a slow or loaded machine.

/**
 * Polls `check` every 10 ms until it returns true; rejects naming `what` after `limitMs`.
 * Errors thrown by `check` count as "not yet" until the deadline, then the last one is reported.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${limitMs} ms waiting until ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
