// SPDX-License-Identifier: Apache-2.0
import { Counter, register as defaultRegistry, Gauge, Histogram, type Registry } from 'prom-client';

/** What a queue reports at scrape time about the items being worked on. */
export interface InFlightReporter {
  readonly name: string;
  /** Seconds the items now being processed have been running, summed, and the longest of them. */
  inFlight(): { unfinishedSeconds: number; longestSeconds: number };
}

/**
 * The work-queue metrics of one prom-client registry, with upstream's names and the `name` label.
 * Registered once per registry and shared by every queue that reports into it.
 */
export class WorkqueueMetrics {
  readonly depth: Gauge<'name'>;
  readonly adds: Counter<'name'>;
  readonly queueDuration: Histogram<'name'>;
  readonly workDuration: Histogram<'name'>;
  readonly retries: Counter<'name'>;
  private readonly reporters = new Set<InFlightReporter>();
  private readonly unfinished: Gauge<'name'>;
  private readonly longest: Gauge<'name'>;

  private constructor(registry: Registry) {
    const registers = [registry];
    // Upstream's buckets: 10 ns up to 1000 s, one per decade.
    const buckets = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
    this.depth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name'],
      registers,
    });
    this.adds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    this.queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested.',
      labelNames: ['name'],
      buckets,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes.',
      labelNames: ['name'],
      buckets,
      registers,
    });
    this.retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    const reporters = this.reporters;
    this.unfinished = new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help:
        "How many seconds of work has done that is in progress and hasn't been observed by work_duration. " +
        'Large values indicate stuck threads.',
      labelNames: ['name'],
      registers,
      collect(this: Gauge<'name'>): void {
        for (const r of reporters) this.set({ name: r.name }, r.inFlight().unfinishedSeconds);
      },
    });
    this.longest = new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: ['name'],
      registers,
      collect(this: Gauge<'name'>): void {
        for (const r of reporters) this.set({ name: r.name }, r.inFlight().longestSeconds);
      },
    });
  }

  private static readonly byRegistry = new WeakMap<Registry, WorkqueueMetrics>();

  /** The metrics registered in `registry` (prom-client's default registry when absent). */
  static for(registry: Registry = defaultRegistry): WorkqueueMetrics {
    let metrics = WorkqueueMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new WorkqueueMetrics(registry);
      WorkqueueMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  /** Starts reporting in-flight work for a queue; the returned function stops it. */
  track(reporter: InFlightReporter): () => void {
    this.reporters.add(reporter);
    return () => {
      this.reporters.delete(reporter);
      // A stopped queue has nothing in flight; leaving the last scraped value would look stuck.
      this.unfinished.set({ name: reporter.name }, 0);
      this.longest.set({ name: reporter.name }, 0);
    };
  }
}
