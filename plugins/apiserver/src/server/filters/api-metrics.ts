// SPDX-License-Identifier: Apache-2.0
import type { MetricsRegistry } from '@cpkit/core';
import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import type { RequestLabels } from './request-class.js';

/** Upstream's `apiserver_request_duration_seconds` buckets (seconds). */
export const requestDurationBuckets: readonly number[] = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
];
/** Upstream's `apiserver_response_sizes` buckets: 1 kB to 1 GB, one per power of ten (bytes). */
export const responseSizeBuckets: readonly number[] = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

const requestLabelNames = [
  'verb',
  'dry_run',
  'group',
  'version',
  'resource',
  'subresource',
  'scope',
  'component',
] as const;
const sizeLabelNames = ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;

type Labels<N extends readonly string[]> = Record<N[number], string>;

/** Registers a metric once per registry: a second server on the same registry shares it. */
function shared<M extends Metric>(registry: MetricsRegistry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

/**
 * The API server's request metrics, with upstream's names, labels and buckets, registered on the
 * process's {@link MetricsRegistry} so `/metrics` shows them next to every other component's.
 * @category API server
 */
export class ApiServerMetrics {
  readonly requests: Counter<(typeof requestLabelNames)[number] | 'code'>;
  readonly duration: Histogram<(typeof requestLabelNames)[number]>;
  readonly responseSizes: Histogram<(typeof sizeLabelNames)[number]>;
  readonly inflight: Gauge<'request_kind'>;
  readonly longRunning: Gauge<(typeof sizeLabelNames)[number]>;
  readonly rejected: Counter<'request_kind'>;

  constructor(readonly registry: MetricsRegistry) {
    const registers = [registry];
    this.requests = shared(
      registry,
      'apiserver_request_total',
      () =>
        new Counter({
          name: 'apiserver_request_total',
          help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
          labelNames: [...requestLabelNames, 'code'],
          registers,
        }),
    );
    this.duration = shared(
      registry,
      'apiserver_request_duration_seconds',
      () =>
        new Histogram({
          name: 'apiserver_request_duration_seconds',
          help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
          labelNames: [...requestLabelNames],
          buckets: [...requestDurationBuckets],
          registers,
        }),
    );
    this.responseSizes = shared(
      registry,
      'apiserver_response_sizes',
      () =>
        new Histogram({
          name: 'apiserver_response_sizes',
          help: 'Response size distribution in bytes for each group, version, verb, resource, subresource, scope and component.',
          labelNames: [...sizeLabelNames],
          buckets: [...responseSizeBuckets],
          registers,
        }),
    );
    this.inflight = shared(
      registry,
      'apiserver_current_inflight_requests',
      () =>
        new Gauge({
          name: 'apiserver_current_inflight_requests',
          help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
          labelNames: ['request_kind'],
          registers,
        }),
    );
    this.longRunning = shared(
      registry,
      'apiserver_longrunning_requests',
      () =>
        new Gauge({
          name: 'apiserver_longrunning_requests',
          help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
          labelNames: [...sizeLabelNames],
          registers,
        }),
    );
    this.rejected = shared(
      registry,
      'apiserver_dropped_requests_total',
      () =>
        new Counter({
          name: 'apiserver_dropped_requests_total',
          help: "Number of requests dropped with 'TooManyRequests' (429) by the in-flight limits, by request kind.",
          labelNames: ['request_kind'],
          registers,
        }),
    );
    // Both kinds appear from the first scrape, at zero, as upstream's do.
    this.inflight.set({ request_kind: 'readOnly' }, 0);
    this.inflight.set({ request_kind: 'mutating' }, 0);
  }

  /** Records one finished request (watches when they end). */
  observe(labels: RequestLabels, code: number, seconds: number, responseBytes: number | undefined): void {
    this.requests.inc({ ...labels, code: String(code) });
    this.duration.observe(labels, seconds);
    if ((labels.verb === 'GET' || labels.verb === 'LIST') && responseBytes !== undefined) {
      this.responseSizes.observe(sizeLabels(labels), responseBytes);
    }
  }

  /** Marks a long-running request (a watch) as started; the returned function marks it ended. */
  startLongRunning(labels: RequestLabels): () => void {
    const gaugeLabels = sizeLabels(labels);
    this.longRunning.inc(gaugeLabels);
    return () => this.longRunning.dec(gaugeLabels);
  }
}

function sizeLabels(labels: RequestLabels): Labels<typeof sizeLabelNames> {
  const { dry_run: _dryRun, ...rest } = labels;
  return rest;
}
