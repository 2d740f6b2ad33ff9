// SPDX-License-Identifier: Apache-2.0
import { StatusError } from '../errors/status-error.js';

/**
 * Service identifier of the {@link Clock}.
 * @category Clock
 */
export const Clock = Symbol.for('cpkit.Clock');

/** Cancels a timer scheduled with {@link Clock.setTimeout}; calling it again, or after it ran, does nothing. @category Clock */
export type CancelTimer = () => void;

/**
 * The source of time for everything that waits: work queues, informers, leader election.
 * Injecting it (rather than calling `Date.now()`/`setTimeout` directly) lets tests drive time with
 * `FakeClock` from `@cpkit/core/testing` instead of sleeping.
 * @category Clock
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Runs `callback` once, `delayMs` milliseconds from now (a negative or zero delay means as soon as
   * possible, never synchronously). Returns a function that cancels the timer.
   */
  setTimeout(callback: () => void, delayMs: number): CancelTimer;
}

// Node clamps larger delays to 1 ms with a warning, so longer waits are chained.
const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * The real clock: `Date.now()` and Node timers.
 * @category Clock
 */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): CancelTimer {
    let handle: NodeJS.Timeout | undefined;
    let cancelled = false;
    const due = Date.now() + Math.max(0, delayMs);
    const arm = (): void => {
      const remaining = Math.max(0, due - Date.now());
      handle = setTimeout(
        () => {
          if (cancelled) return;
          if (remaining > maxTimerDelayMs) arm();
          else callback();
        },
        Math.min(remaining, maxTimerDelayMs),
      );
    };
    arm();
    return () => {
      cancelled = true;
      if (handle) clearTimeout(handle);
    };
  }
}

/**
 * Resolves after `delayMs` on `clock`, or early (resolving, not rejecting) when `signal` aborts, so
 * loops written as `while (!signal.aborted) { ...; await sleep(clock, ms, signal) }` stop promptly.
 * @category Clock
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  if (!Number.isFinite(delayMs)) {
    return Promise.reject(new StatusError('BadRequest', `delayMs: must be a finite number, got ${delayMs}`));
  }
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      cancel();
      resolve();
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
