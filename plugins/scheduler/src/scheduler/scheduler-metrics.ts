// SPDX-License-Identifier: Apache-2.0
import type { MetricsRegistry } from '@cpkit/core';
import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import type { PendingPodCounts } from './scheduling-queue.js';

/** The outcome label of an attempt, as upstream names it. @category Scheduler */
export type SchedulingAttemptResult = 'scheduled' | 'unschedulable' | 'error';

function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

const queueReporters = new WeakMap<MetricsRegistry, Set<() => PendingPodCounts>>();
const pluginFlushers = new WeakMap<MetricsRegistry, Set<() => void>>();

function reuse<T extends Metric>(registry: MetricsRegistry, name: string, create: () => T): T {
  // Several schedulers may report into one registry (tests); prom-client refuses a second registration.
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * The scheduler's metrics, with upstream's names, labels and buckets, in the injected registry:
 * `scheduler_schedule_attempts_total{result,profile}`,
 * `scheduler_scheduling_attempt_duration_seconds{result,profile}`, `scheduler_pending_pods{queue}` (read
 * from the queue at scrape time) and `scheduler_plugin_execution_duration_seconds{plugin,extension_point,status}`
 * (recorded for a sample of the cycles).
 * @category Scheduler
 */
export class SchedulerMetrics {
  readonly attempts: Counter<'result' | 'profile'>;
  readonly attemptDuration: Histogram<'result' | 'profile'>;
  readonly pendingPods: Gauge<'queue'>;
  readonly pluginDuration: Histogram<'plugin' | 'extension_point' | 'status'>;
  private readonly queues: Set<() => PendingPodCounts>;
  private buffered: { plugin: string; extension_point: string; status: string; seconds: number }[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(registry: MetricsRegistry) {
    const registers = [registry];
    this.attempts = reuse(
      registry,
      'scheduler_schedule_attempts_total',
      () =>
        new Counter({
          name: 'scheduler_schedule_attempts_total',
          help: 'Number of attempts to schedule pods, by the result. unschedulable means a pod could not be scheduled, while error means an internal scheduler problem.',
          labelNames: ['result', 'profile'],
          registers,
        }),
    );
    this.attemptDuration = reuse(
      registry,
      'scheduler_scheduling_attempt_duration_seconds',
      () =>
        new Histogram({
          name: 'scheduler_scheduling_attempt_duration_seconds',
          help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
          labelNames: ['result', 'profile'],
          buckets: exponentialBuckets(0.001, 2, 15),
          registers,
        }),
    );
    // The gauge is registered once per registry; every scheduler reporting into it shares its queue list.
    let queues = queueReporters.get(registry);
    if (!queues) {
      queues = new Set();
      queueReporters.set(registry, queues);
    }
    this.queues = queues;
    const reporters = queues;
    let flushers = pluginFlushers.get(registry);
    if (!flushers) {
      flushers = new Set();
      pluginFlushers.set(registry, flushers);
    }
    this.pendingPods = reuse(
      registry,
      'scheduler_pending_pods',
      () =>
        new Gauge({
          name: 'scheduler_pending_pods',
          help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
          labelNames: ['queue'],
          registers,
          collect(): void {
            const total: PendingPodCounts = { active: 0, backoff: 0, unschedulable: 0, gated: 0 };
            for (const counts of reporters) {
              const c = counts();
              total.active += c.active;
              total.backoff += c.backoff;
              total.unschedulable += c.unschedulable;
              total.gated += c.gated;
            }
            for (const [queue, value] of Object.entries(total)) this.set({ queue }, value);
          },
        }),
    );
    this.pluginDuration = reuse(
      registry,
      'scheduler_plugin_execution_duration_seconds',
      () =>
        new Histogram({
          name: 'scheduler_plugin_execution_duration_seconds',
          help: 'Duration for running a plugin at a specific extension point.',
          labelNames: ['plugin', 'extension_point', 'status'],
          buckets: exponentialBuckets(0.00001, 1.5, 20),
          registers,
          collect(): void {
            for (const flush of flushers) flush();
          },
        }),
    );
    flushers.add(() => this.flushPluginObservations());
  }

  /** Reports this queue's counts in `scheduler_pending_pods`; returns the function that stops it. */
  reportQueue(counts: () => PendingPodCounts): () => void {
    this.queues.add(counts);
    return () => this.queues.delete(counts);
  }

  /** One scheduling attempt ended. */
  observeAttempt(result: SchedulingAttemptResult, profile: string, seconds: number): void {
    this.attempts.inc({ result, profile });
    this.attemptDuration.observe({ result, profile }, seconds);
  }

  /**
   * One plugin call of a sampled cycle. Buffered, as upstream's asynchronous recorder does: at most
   * {@link pluginObservationBufferSize} calls are kept between flushes (once a second, and at every
   * scrape) and the rest are dropped, so a sampled cycle over thousands of nodes costs the hot path
   * almost nothing.
   */
  observePlugin(plugin: string, extensionPoint: string, status: string, seconds: number): void {
    if (this.buffered.length >= pluginObservationBufferSize) return;
    this.buffered.push({ plugin, extension_point: extensionPoint, status, seconds });
    this.flushTimer ??= setTimeout(() => this.flushPluginObservations(), 1000).unref();
  }

  /** Moves buffered plugin observations into the histogram. */
  flushPluginObservations(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const buffered = this.buffered;
    this.buffered = [];
    for (const { seconds, ...labels } of buffered) this.pluginDuration.observe(labels, seconds);
  }
}

/** How many plugin observations are kept between flushes (upstream's buffer size). @category Scheduler */
export const pluginObservationBufferSize = 1000;
