// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { SystemClock, sleep } from './clock.js';

describe('SystemClock', () => {
  it('runs a timer after its delay and not when cancelled', async () => {
    const clock = new SystemClock();
    const start = clock.now();
    let cancelledRan = false;
    clock.setTimeout(() => {
      cancelledRan = true;
    }, 1)();
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 3));
    expect(clock.now() - start).toBeGreaterThanOrEqual(2);
    expect(cancelledRan).toBe(false);
  });

  it('sleep rejects a non-finite delay', async () => {
    await expect(sleep(new SystemClock(), Number.POSITIVE_INFINITY)).rejects.toThrow(/delayMs/);
  });
});
