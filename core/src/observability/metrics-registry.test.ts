// SPDX-License-Identifier: Apache-2.0
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './metrics-registry.js';

describe('createMetricsRegistry', () => {
  it('is empty by default and separate from every other registry', async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    const counter = new Counter({
      name: 'workqueue_adds_total',
      help: 'adds',
      labelNames: ['name'],
      registers: [a],
    });
    counter.inc({ name: 'replicaset' }, 2);
    expect(await a.metrics()).toContain('workqueue_adds_total{name="replicaset"} 2');
    expect((await b.metrics()).trim()).toBe('');
    expect(await a.metrics()).not.toContain('process_cpu_user_seconds_total');
  });

  it('collects the default process metrics when asked', async () => {
    const registry = createMetricsRegistry({ collectDefaultMetrics: true });
    const text = await registry.metrics();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  it('adds default labels to every metric', async () => {
    const registry = createMetricsRegistry({ defaultLabels: { instance: 'cp-1' } });
    new Counter({ name: 'apiserver_request_total', help: 'requests', registers: [registry] }).inc();
    expect(await registry.metrics()).toContain('apiserver_request_total{instance="cp-1"} 1');
  });
});
