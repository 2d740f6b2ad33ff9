// SPDX-License-Identifier: Apache-2.0
import type { CancelTimer, Clock } from '../clock/clock.js';
import { StatusError } from '../errors/status-error.js';

interface FakeTimer {
  id: number;
  due: number;
  callback: () => void;
}

/**
 * A {@link Clock} whose time moves only when a test says so. Timers run in due order (ties in the
 * order they were scheduled), including timers that other timers schedule within the advanced span.
 *
 * Prefer {@link FakeClock.advance}: between timers it lets pending promise callbacks and I/O
 * callbacks run, so async loops (await a call, then schedule the next timer) behave as with real time.
 * @category Testing
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 0;
  private timers: FakeTimer[] = [];

  /** @param startMs initial time in ms since the epoch (default 2026-01-01T00:00:00Z). */
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): CancelTimer {
    const timer: FakeTimer = { id: this.nextId++, due: this.current + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Number of timers not yet run or cancelled. */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Time at which the next timer is due, or undefined without timers. */
  nextDue(): number | undefined {
    return this.popNext(Number.POSITIVE_INFINITY, false)?.due;
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due on the way, in order. Before and
   * after each timer it yields to the event loop so promise chains started by a timer can schedule
   * their next timer in time for it to run in this same advance.
   */
  async advance(ms: number): Promise<void> {
    this.checkSpan(ms);
    const target = this.current + ms;
    await settle();
    for (;;) {
      const timer = this.popNext(target, true);
      if (!timer) break;
      this.current = Math.max(this.current, timer.due);
      timer.callback();
      await settle();
    }
    this.current = target;
    await settle();
  }

  /** Like {@link FakeClock.advance} but synchronous: timers scheduled from promise callbacks are not seen. */
  advanceSync(ms: number): void {
    this.checkSpan(ms);
    const target = this.current + ms;
    for (;;) {
      const timer = this.popNext(target, true);
      if (!timer) break;
      this.current = Math.max(this.current, timer.due);
      timer.callback();
    }
    this.current = target;
  }

  /** Advances to the next due timer and runs it (and any others due at that instant). Returns false without timers. */
  async runNext(): Promise<boolean> {
    const due = this.nextDue();
    if (due === undefined) return false;
    await this.advance(Math.max(0, due - this.current));
    return true;
  }

  private checkSpan(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new StatusError('BadRequest', `ms: must be a finite number >= 0, got ${ms}`);
    }
  }

  private popNext(limit: number, remove: boolean): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    if (best && remove) this.timers = this.timers.filter((t) => t !== best);
    return best;
  }
}

// A macrotask turn runs every queued microtask (promise continuations) and due I/O callbacks.
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
