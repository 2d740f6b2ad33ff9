// SPDX-License-Identifier: Apache-2.0
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * Service identifier of the process-wide Prometheus registry. Components register their metrics on it,
 * with upstream Kubernetes names where one exists (`apiserver_request_total`, `workqueue_depth`, ...);
 * the API server serves it at `/metrics`. The control-plane builder binds a default when no module
 * binds one.
 * @category Observability
 */
export const MetricsRegistry = Symbol.for('cpkit.MetricsRegistry');

/**
 * cpkit's metrics registry type: a prom-client `Registry`. Using a registry per control plane (never
 * prom-client's global one) keeps several control planes in one process, as tests make them, apart.
 * @category Observability
 */
export type MetricsRegistry = Registry;

/** Options of {@link createMetricsRegistry}. @category Observability */
export interface MetricsRegistryOptions {
  /**
   * Also collect prom-client's default process metrics (`process_cpu_seconds_total`,
   * `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, ...). Default false: tests and
   * embedded uses do not want them; starters turn them on.
   */
  collectDefaultMetrics?: boolean;
  /** Labels added to every metric of the registry, e.g. `{ instance: 'cp-1' }`. Default: none. */
  defaultLabels?: Record<string, string>;
}

/**
 * Creates a fresh, empty metrics registry.
 * @category Observability
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): MetricsRegistry {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.collectDefaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}
