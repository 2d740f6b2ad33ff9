// SPDX-License-Identifier: Apache-2.0
// One workload in one process (started by scheduler-bench.ts, so peak RSS and GC state are per
// workload): an in-memory embedded store, an in-process control plane with either the real scheduler
// (`--mode scheduler`) or the round-robin ceiling (`--mode ceiling`), nodes, init pods (waited for),
// then the measured pods. Progress goes to stderr; the result is one JSON line on stdout.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ApiClient, MetricsRegistry, type WatchEvent } from '@cpkit/core';
import { startTestControlPlane } from '@cpkit/core/testing/control-plane';
import { schedulerModule } from '@cpkit/scheduler';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Histogram } from 'prom-client';
import { RoundRobinBinder, roundRobinBinderModule } from './round-robin-binder.js';
import { namespace, type Workload, type WorkloadName, workloads } from './workloads.js';

/** What one run reports to the parent. */
export interface WorkloadResult {
  workload: WorkloadName;
  mode: 'scheduler' | 'ceiling';
  nodes: number;
  initPods: number;
  measuredPods: number;
  /** Measured pods seen bound (less than `measuredPods` when the run stalled). */
  bound: number;
  complete: boolean;
  /** Measured pods / seconds from the first measured create to the last binding observed. */
  podsPerSecond: number;
  measuredSeconds: number;
  /** Seconds the measured creates took (they run concurrently with scheduling). */
  createSeconds: number;
  /** CPU seconds (user + system) of this process over the measured phase. */
  cpuSeconds: number;
  /** Scheduling attempts during the measured phase, by result (scheduler mode). */
  attempts?: Record<string, number>;
  /** Scheduling-attempt latency over the measured phase, milliseconds (scheduler mode). */
  latencyMs?: { p50: number; p90: number; p99: number; max: number };
  peakRssBytes: number;
  setupSeconds: number;
  initSeconds: number;
  failures?: number;
}

const { values: flags } = parseArgs({
  options: {
    workload: { type: 'string' },
    mode: { type: 'string', default: 'scheduler' },
    quick: { type: 'boolean', default: false },
    'stall-seconds': { type: 'string', default: '30' },
  },
});

const log = (message: string): void => {
  process.stderr.write(`[${flags.workload}/${flags.mode}] ${message}\n`);
};

/** Outstanding creates at a time: enough to keep the API busy, few enough to interleave with the scheduler. */
const createWindow = 64;

async function createAll(count: number, make: (i: number) => Promise<unknown>): Promise<void> {
  for (let base = 0; base < count; base += createWindow) {
    const batch: Promise<unknown>[] = [];
    for (let i = base; i < Math.min(count, base + createWindow); i++) batch.push(make(i));
    await Promise.all(batch);
  }
}

/** Counts bindings of pods by name prefix (`init-`, `pod-`, ...), and when the last one was observed. */
class BindingWatch {
  private readonly bound = new Set<string>();
  private readonly byPrefix = new Map<string, number>();
  lastBindingAt = 0;

  constructor(client: ApiClient) {
    client.watch<Pod>('pods').subscribe((event: WatchEvent<Pod>) => {
      const pod = event.object;
      if (event.type === 'DELETED' || !pod.spec?.nodeName) return;
      const name = pod.metadata?.name ?? '';
      const key = `${pod.metadata?.namespace}/${name}`;
      if (this.bound.has(key)) return;
      this.bound.add(key);
      this.lastBindingAt = performance.now();
      // Counted as they arrive: a scan per binding made this watch the benchmark's own hot spot.
      const prefix = prefixOf(name);
      this.byPrefix.set(prefix, (this.byPrefix.get(prefix) ?? 0) + 1);
    });
  }

  count(prefix: string): number {
    return this.byPrefix.get(prefix) ?? 0;
  }

  /**
   * Resolves true when `done()` holds, false when no binding arrived for `stallMs`. Polls: the end
   * time is `lastBindingAt`, so the poll interval does not bend the figure, and a timer per binding
   * would cost the scheduler time.
   */
  async until(done: () => boolean, stallMs: number): Promise<boolean> {
    const since = performance.now();
    while (!done()) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (performance.now() - Math.max(since, this.lastBindingAt) > stallMs) return done();
    }
    return true;
  }
}

/** `pod-000042` → `pod-`. */
const prefixOf = (name: string): string => name.replace(/\d+$/, '');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function run(workload: Workload, mode: 'scheduler' | 'ceiling'): Promise<WorkloadResult> {
  const stallMs = Number(flags['stall-seconds']) * 1000;
  const setupStarted = performance.now();
  const cp = await startTestControlPlane({
    store: await openEmbeddedStore(),
    modules: [mode === 'scheduler' ? schedulerModule() : roundRobinBinderModule()],
    gracePeriodMs: 2000,
  });
  const { client, controlPlane } = cp;

  // Every attempt's exact duration, from the scheduler's own histogram (its buckets are too coarse
  // for percentiles): the same `performance.now()` difference the scheduler observes.
  const samples: { result: string; seconds: number }[] = [];
  let sampling = false;
  if (mode === 'scheduler') {
    const registry = controlPlane.get<MetricsRegistry>(MetricsRegistry);
    const histogram = registry.getSingleMetric('scheduler_scheduling_attempt_duration_seconds') as
      | Histogram<'result' | 'profile'>
      | undefined;
    if (!histogram)
      throw new Error('the scheduler registered no scheduler_scheduling_attempt_duration_seconds');
    const observe = histogram.observe.bind(histogram) as (labels: object, value: number) => void;
    (histogram as unknown as { observe: (labels: { result: string }, value: number) => void }).observe = (
      labels,
      value,
    ) => {
      if (sampling) samples.push({ result: labels.result, seconds: value });
      observe(labels, value);
    };
  }

  const bindings = new BindingWatch(client);
  for (const name of workload.namespaces) await client.create(namespace(name));
  let nodesSeen = 0;
  const nodeWatch = client.watch<Node>('nodes').subscribe(() => nodesSeen++);
  await createAll(workload.nodes, async (i) => {
    const node = workload.node(i);
    const created = await client.create(node);
    // The registry keeps status out of creates (a node agent reports it); set it as one would.
    await client.updateStatus({ ...created, status: node.status });
  });
  while (nodesSeen < workload.nodes) await new Promise((resolve) => setTimeout(resolve, 10));
  nodeWatch.unsubscribe();
  // Let the scheduler's informer drain the node events before the first pod arrives.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  log(`${workload.nodes} nodes in ${setupSeconds.toFixed(1)} s`);

  const initStarted = performance.now();
  const initPrefix = prefixOf(workload.initPod(0).metadata?.name ?? '');
  await createAll(workload.initPods, (i) => client.create(workload.initPod(i)));
  const initDone = await bindings.until(() => bindings.count(initPrefix) >= workload.initPods, stallMs);
  const initSeconds = (performance.now() - initStarted) / 1000;
  log(
    `${bindings.count(initPrefix)}/${workload.initPods} init pods bound in ${initSeconds.toFixed(1)} s${initDone ? '' : ' (stalled)'}`,
  );

  const measuredPrefix = prefixOf(workload.measuredPod(0).metadata?.name ?? '');
  sampling = true;
  // CLOCK_MONOTONIC microseconds, the clock of V8's CPU profiles: to cut a profile to the measured phase.
  const monotonicStart = process.hrtime.bigint() / 1000n;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await createAll(workload.measuredPods, (i) => client.create(workload.measuredPod(i)));
  const createSeconds = (performance.now() - started) / 1000;
  const complete = await bindings.until(
    () => bindings.count(measuredPrefix) >= workload.measuredPods,
    stallMs,
  );
  sampling = false;
  const used = process.cpuUsage(cpu);
  const bound = bindings.count(measuredPrefix);
  const measuredSeconds = (Math.max(bindings.lastBindingAt, started) - started) / 1000;
  log(
    `${bound}/${workload.measuredPods} measured pods bound in ${measuredSeconds.toFixed(2)} s (monotonic µs ${monotonicStart}-${process.hrtime.bigint() / 1000n})`,
  );

  const result: WorkloadResult = {
    workload: workload.name,
    mode,
    nodes: workload.nodes,
    initPods: workload.initPods,
    measuredPods: workload.measuredPods,
    bound,
    complete,
    podsPerSecond: measuredSeconds > 0 ? bound / measuredSeconds : 0,
    measuredSeconds,
    createSeconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    setupSeconds,
    initSeconds,
  };
  if (mode === 'scheduler') {
    const attempts: Record<string, number> = {};
    for (const sample of samples) attempts[sample.result] = (attempts[sample.result] ?? 0) + 1;
    const sorted = samples.map((s) => s.seconds * 1000).sort((a, b) => a - b);
    result.attempts = attempts;
    result.latencyMs = {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
    };
  } else {
    result.failures = controlPlane.get<RoundRobinBinder>(RoundRobinBinder).failures;
  }
  await cp.stop(); // closes the store too
  return result;
}

const scale = flags.quick ? 0.1 : 1;
const workload = workloads(scale).find((w) => w.name === flags.workload);
if (!workload) throw new Error(`--workload: unknown workload "${flags.workload}"`);
if (flags.mode !== 'scheduler' && flags.mode !== 'ceiling') {
  throw new Error(`--mode: must be "scheduler" or "ceiling", not "${flags.mode}"`);
}
const result = await run(workload, flags.mode);
process.stdout.write(`${JSON.stringify(result)}\n`);
// Pending timers of stopped components must not keep the child alive.
process.exit(0);
