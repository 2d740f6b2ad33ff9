// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from './rate-limiter.js';

describe('ItemExponentialFailureRateLimiter', () => {
  it('doubles from 5 ms per failure up to 1000 s by default, per item', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>();
    const delays = Array.from({ length: 30 }, () => limiter.when('a'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(delays.at(-1)).toBe(1_000_000);
    expect(Math.max(...delays)).toBe(1_000_000);
    expect(limiter.when('b')).toBe(5);
    expect(limiter.numRequeues('a')).toBe(30);
  });

  it('starts over after forget', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>(1, 100);
    limiter.when('a');
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(1);
  });

  it('stays at the cap after very many failures', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>(5, 1000);
    for (let i = 0; i < 2000; i++) limiter.when('a');
    expect(limiter.when('a')).toBe(1000);
  });

  it.each([
    ['baseDelayMs', 0, 10],
    ['baseDelayMs', Number.NaN, 10],
    ['maxDelayMs', 5, -1],
  ])('rejects a bad %s', (field, base, max) => {
    expect(() => new ItemExponentialFailureRateLimiter(base, max)).toThrow(field);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through, then spaces items at 1/qps', () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter<string>(10, 100, clock);
    const burst = Array.from({ length: 100 }, (_, i) => limiter.when(`i${i}`));
    expect(burst.every((d) => d === 0)).toBe(true);
    expect([limiter.when('x'), limiter.when('y'), limiter.when('z')]).toEqual([100, 200, 300]);
  });

  it('refills with time, never above the burst', () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter<string>(10, 2, clock);
    expect([limiter.when('a'), limiter.when('b'), limiter.when('c')]).toEqual([0, 0, 100]);
    clock.advanceSync(10_000);
    expect([limiter.when('a'), limiter.when('b'), limiter.when('c')]).toEqual([0, 0, 100]);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('takes the longer of item backoff and the bucket', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter<string>(clock);
    expect(limiter.when('a')).toBe(5);
    expect(limiter.when('a')).toBe(10);
    for (let i = 0; i < 98; i++) limiter.when(`x${i}`);
    // Bucket is empty now: a fresh item waits for a token (100 ms), longer than its 5 ms backoff.
    expect(limiter.when('fresh')).toBe(100);
    expect(limiter.numRequeues('a')).toBe(2);
  });

  it('MaxOf needs at least one limiter', () => {
    expect(() => new MaxOfRateLimiter()).toThrow('limiters');
  });
});
