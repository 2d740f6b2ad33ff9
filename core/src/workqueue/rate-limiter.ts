// SPDX-License-Identifier: Apache-2.0
import { type Clock, SystemClock } from '../clock/clock.js';
import { errors, StatusError } from '../errors/status-error.js';

/**
 * Decides how long an item waits before it is retried.
 * @category Work queue
 */
export interface RateLimiter<T> {
  /** The delay in ms before `item` may be processed again; each call counts as one more failure. */
  when(item: T): number;
  /** Forgets the item's failures: its next delay starts from scratch. */
  forget(item: T): void;
  /** How many times `when` was called for `item` since it was last forgotten. */
  numRequeues(item: T): number;
}

function positive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw errors.invalid('RateLimiter', field, [
      { reason: 'FieldValueInvalid', field, message: `must be a positive finite number, got ${value}` },
    ]);
  }
}

/**
 * Per-item exponential backoff: `baseDelayMs * 2^failures`, capped at `maxDelayMs`.
 * Defaults are upstream's: 5 ms doubling up to 1000 s.
 * @category Work queue
 */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();

  constructor(
    readonly baseDelayMs = 5,
    readonly maxDelayMs = 1_000_000,
  ) {
    positive('baseDelayMs', baseDelayMs);
    positive('maxDelayMs', maxDelayMs);
  }

  when(item: T): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    // 2^n overflows to Infinity long after it passes any sane cap, and min() handles Infinity.
    return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket shared by all items: `qps` tokens a second, at most `burst` saved up. Each
 * `when` takes a token now or reserves a future one and returns the wait until it, so a flood of
 * retries is spread out. Defaults are upstream's: 10 qps, burst 100.
 * @category Work queue
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps = 10,
    readonly burst = 100,
    private readonly clock: Clock = new SystemClock(),
  ) {
    positive('qps', qps);
    positive('burst', burst);
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_item: T): number {
    const now = this.clock.now();
    // Tokens may go negative: that is the queue of reservations already handed out.
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/**
 * Combines limiters: the delay is the longest any of them asks for.
 * @category Work queue
 */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    if (limiters.length === 0)
      throw new StatusError('BadRequest', 'limiters: at least one rate limiter is required');
    this.limiters = limiters;
  }

  when(item: T): number {
    let delay = 0;
    for (const limiter of this.limiters) delay = Math.max(delay, limiter.when(item));
    return delay;
  }

  forget(item: T): void {
    for (const limiter of this.limiters) limiter.forget(item);
  }

  numRequeues(item: T): number {
    let n = 0;
    for (const limiter of this.limiters) n = Math.max(n, limiter.numRequeues(item));
    return n;
  }
}

/**
 * The controller default, as upstream: per-item backoff 5 ms → 1000 s, and an overall bucket of
 * 10 qps with a burst of 100; an item waits for the longer of the two.
 * @category Work queue
 */
export function defaultControllerRateLimiter<T>(clock: Clock = new SystemClock()): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(5, 1_000_000),
    new BucketRateLimiter<T>(10, 100, clock),
  );
}
