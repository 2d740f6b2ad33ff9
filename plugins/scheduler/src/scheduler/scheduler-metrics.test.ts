// SPDX-License-Identifier: Apache-2.0
import { createMetricsRegistry } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { pluginObservationBufferSize, SchedulerMetrics } from './scheduler-metrics.js';

describe('SchedulerMetrics', () => {
  it('exposes upstream names, sums pending pods of every queue, and flushes plugin timings at scrape', async () => {
    const registry = createMetricsRegistry();
    const metrics = new SchedulerMetrics(registry);
    const second = new SchedulerMetrics(registry);
    metrics.reportQueue(() => ({ active: 2, backoff: 1, unschedulable: 3, gated: 0 }));
    second.reportQueue(() => ({ active: 1, backoff: 0, unschedulable: 0, gated: 4 }));
    metrics.observeAttempt('scheduled', 'default-scheduler', 0.002);
    for (let i = 0; i < pluginObservationBufferSize + 500; i++) {
      metrics.observePlugin('NodeResourcesFit', 'Filter', 'Success', 0.00001);
    }
    const text = await registry.metrics();
    expect(text).toContain(
      'scheduler_schedule_attempts_total{result="scheduled",profile="default-scheduler"} 1',
    );
    expect(text).toContain(
      'scheduler_scheduling_attempt_duration_seconds_count{result="scheduled",profile="default-scheduler"} 1',
    );
    expect(text).toContain('scheduler_pending_pods{queue="active"} 3');
    expect(text).toContain('scheduler_pending_pods{queue="gated"} 4');
    // Beyond the buffer, observations are dropped until the next flush (as upstream's async recorder).
    expect(text).toContain(
      `scheduler_plugin_execution_duration_seconds_count{plugin="NodeResourcesFit",extension_point="Filter",status="Success"} ${pluginObservationBufferSize}`,
    );
  });
});
