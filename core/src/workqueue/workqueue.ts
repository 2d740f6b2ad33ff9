// SPDX-License-Identifier: Apache-2.0
import type { Registry } from 'prom-client';
import { type CancelTimer, type Clock, SystemClock } from '../clock/clock.js';
import { StatusError } from '../errors/status-error.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';
import { WorkqueueMetrics } from './workqueue-metrics.js';

/** @category Work queue */
export interface WorkQueueOptions<T> {
  /**
   * Name used as the `name` label of the `workqueue_*` metrics. Unnamed queues report no metrics
   * (as upstream), so throwaway queues do not pollute the registry.
   */
  name?: string;
  /** Source of time for delays, backoff and metrics. Default: the system clock. */
  clock?: Clock;
  /** Used by {@link WorkQueue.addRateLimited}. Default: {@link defaultControllerRateLimiter}. */
  rateLimiter?: RateLimiter<T>;
  /** prom-client registry for the metrics. Default: prom-client's default registry. */
  registry?: Registry;
}

/**
 * The work queue controllers are fed by, with upstream client-go semantics:
 * - **de-duplicating**: an item added several times before a worker takes it is handed out once;
 *   an item added while a worker processes it is handed out again after {@link WorkQueue.done};
 *   the same item is never processed by two workers at once;
 * - **delaying**: {@link WorkQueue.addAfter} adds it once the delay passes (the earliest wins);
 * - **rate-limited**: {@link WorkQueue.addRateLimited} delays by the rate limiter's verdict,
 *   {@link WorkQueue.forget} resets an item's backoff;
 * - **shutdown**: {@link WorkQueue.shutDown} ignores new adds and makes `get()` resolve `undefined`
 *   once the items already queued are handed out; {@link WorkQueue.shutDownWithDrain} also waits until
 *   every item being processed is `done`.
 *
 * Items are compared with `Map` key semantics: use strings (such as `namespace/name`) or other primitives.
 * @category Work queue
 */
export class WorkQueue<T> {
  readonly name: string | undefined;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter<T>;
  // FIFO as an array plus a head index: Array#shift is O(n), which a 50k-item queue feels.
  private queue: T[] = [];
  private head = 0;
  private readonly dirty = new Set<T>();
  private readonly processing = new Set<T>();
  private readonly waiters: Array<(item: T | undefined) => void> = [];
  private shuttingDownFlag = false;
  private drainWaiters: Array<() => void> = [];

  // Delaying: when each waiting item becomes ready, and the one timer armed for the earliest.
  private readonly waiting = new Map<T, number>();
  private cancelTimer: CancelTimer | undefined;
  private timerDue = Number.POSITIVE_INFINITY;

  // Metrics bookkeeping.
  private readonly metrics: WorkqueueMetrics | undefined;
  private readonly untrack: (() => void) | undefined;
  private readonly addedAt = new Map<T, number>();
  private readonly startedAt = new Map<T, number>();

  constructor(options: WorkQueueOptions<T> = {}) {
    this.name = options.name;
    this.clock = options.clock ?? new SystemClock();
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
    if (options.name !== undefined) {
      if (options.name === '') throw new StatusError('BadRequest', 'name: must not be empty');
      const name = options.name;
      this.metrics = WorkqueueMetrics.for(options.registry);
      this.metrics.depth.set({ name }, 0);
      this.untrack = this.metrics.track({ name, inFlight: () => this.inFlight() });
    }
  }

  /** Adds `item` unless it is already queued (or the queue is shutting down). */
  add(item: T): void {
    if (this.shuttingDownFlag || this.dirty.has(item)) return;
    this.metrics?.adds.inc({ name: this.name! });
    this.dirty.add(item);
    // Being processed: it goes back into the queue when the worker calls done().
    if (this.processing.has(item)) return;
    this.enqueue(item);
  }

  /** Adds `item` after `delayMs` (at once when ≤ 0). Of several pending delays for one item the earliest wins. */
  addAfter(item: T, delayMs: number): void {
    if (!Number.isFinite(delayMs)) {
      throw new StatusError('BadRequest', `delayMs: must be a finite number, got ${delayMs}`);
    }
    if (this.shuttingDownFlag) return;
    this.metrics?.retries.inc({ name: this.name! });
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const existing = this.waiting.get(item);
    if (existing !== undefined && existing <= readyAt) return;
    this.waiting.set(item, readyAt);
    if (readyAt < this.timerDue) this.armTimer(readyAt);
  }

  /** Adds `item` once the rate limiter allows (per-item backoff, overall bucket). */
  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** Resets `item`'s backoff; call it when the item was processed successfully. */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  /** How many times `item` was rate-limited since it was last forgotten. */
  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }

  /**
   * Resolves with the next item, marking it as being processed (call {@link WorkQueue.done} when
   * finished), or with `undefined` once the queue is shut down and empty.
   */
  get(): Promise<T | undefined> {
    if (this.len() > 0) return Promise.resolve(this.take());
    if (this.shuttingDownFlag) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `item` processed; if it was added meanwhile it is queued again. */
  done(item: T): void {
    if (!this.processing.delete(item)) return;
    const started = this.startedAt.get(item);
    this.startedAt.delete(item);
    if (this.metrics && started !== undefined) {
      this.metrics.workDuration.observe({ name: this.name! }, (this.clock.now() - started) / 1000);
    }
    if (this.dirty.has(item)) this.enqueue(item);
    else if (this.processing.size === 0) this.wakeDrainers();
  }

  /** Items waiting to be handed out (not counting delayed ones or those being processed). */
  len(): number {
    return this.queue.length - this.head;
  }

  /** True once {@link WorkQueue.shutDown} or {@link WorkQueue.shutDownWithDrain} was called. */
  shuttingDown(): boolean {
    return this.shuttingDownFlag;
  }

  /**
   * Stops accepting items and drops delayed ones. Workers blocked in `get()` receive `undefined`;
   * items already queued are still handed out, then `get()` resolves `undefined`.
   */
  shutDown(): void {
    if (this.shuttingDownFlag) return;
    this.shuttingDownFlag = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    this.waiting.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
    this.untrack?.();
    if (this.processing.size === 0) this.wakeDrainers();
  }

  /** {@link WorkQueue.shutDown}, then resolves once every item being processed is `done`. */
  shutDownWithDrain(): Promise<void> {
    const drained = new Promise<void>((resolve) => {
      if (this.processing.size === 0) resolve();
      else this.drainWaiters.push(resolve);
    });
    this.shutDown();
    return drained;
  }

  private enqueue(item: T): void {
    this.queue.push(item);
    if (this.metrics) {
      this.metrics.depth.inc({ name: this.name! });
      if (!this.addedAt.has(item)) this.addedAt.set(item, this.clock.now());
    }
    while (this.waiters.length > 0 && this.len() > 0) this.waiters.shift()!(this.take());
  }

  private take(): T {
    const item = this.queue[this.head];
    this.queue[this.head] = undefined as T;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.processing.add(item);
    this.dirty.delete(item);
    if (this.metrics) {
      const now = this.clock.now();
      this.metrics.depth.dec({ name: this.name! });
      const added = this.addedAt.get(item);
      this.addedAt.delete(item);
      if (added !== undefined) this.metrics.queueDuration.observe({ name: this.name! }, (now - added) / 1000);
      this.startedAt.set(item, now);
    }
    return item;
  }

  private armTimer(due: number): void {
    this.cancelTimer?.();
    this.timerDue = due;
    this.cancelTimer = this.clock.setTimeout(() => this.onTimer(), due - this.clock.now());
  }

  private onTimer(): void {
    this.cancelTimer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const ready = [...this.waiting].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    for (const [item] of ready) {
      this.waiting.delete(item);
      this.add(item);
    }
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.waiting.values()) next = Math.min(next, at);
    if (next !== Number.POSITIVE_INFINITY) this.armTimer(next);
  }

  private inFlight(): { unfinishedSeconds: number; longestSeconds: number } {
    const now = this.clock.now();
    let unfinishedSeconds = 0;
    let longestSeconds = 0;
    for (const started of this.startedAt.values()) {
      const seconds = (now - started) / 1000;
      unfinishedSeconds += seconds;
      longestSeconds = Math.max(longestSeconds, seconds);
    }
    return { unfinishedSeconds, longestSeconds };
  }

  private wakeDrainers(): void {
    if (!this.shuttingDownFlag) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
