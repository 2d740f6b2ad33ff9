// SPDX-License-Identifier: Apache-2.0
import { FakeClock } from '@cpkit/core/testing';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { SchedulerCache } from './scheduler-cache.js';

function node(name: string, cpu = '4'): Node {
  return { metadata: { name }, status: { allocatable: { cpu, memory: '8Gi', pods: '110' } } };
}

function pod(name: string, cpu: string, nodeName?: string, phase?: string): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { nodeName, containers: [{ name: 'c', image: 'i', resources: { requests: { cpu } } }] },
    status: phase ? { phase } : undefined,
  };
}

function requestedCpu(cache: SchedulerCache, nodeName: string): number | undefined {
  return cache.snapshot().get(nodeName)?.requested.milliCPU;
}

describe('SchedulerCache', () => {
  it('counts an assumed pod until the informer confirms it, without counting it twice', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('n1'));
    cache.assumePod(pod('a', '500m'), 'n1');
    expect(requestedCpu(cache, 'n1')).toBe(500);
    expect(cache.isAssumed(pod('a', '500m'))).toBe(true);
    cache.finishBinding(pod('a', '500m'));
    cache.addPod(pod('a', '500m', 'n1'));
    expect(requestedCpu(cache, 'n1')).toBe(500);
    expect(cache.counts()).toEqual({ nodes: 1, pods: 1, assumed: 0 });
  });

  it('forgets an assumed pod whose binding failed', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('n1'));
    cache.assumePod(pod('a', '1'), 'n1');
    cache.forgetPod(pod('a', '1'));
    expect(requestedCpu(cache, 'n1')).toBe(0);
    expect(cache.counts().pods).toBe(0);
  });

  it('expires an assumed pod whose binding finished but was never observed', async () => {
    const clock = new FakeClock(0);
    const cache = new SchedulerCache({ clock, assumedPodTtlMs: 30_000 });
    cache.addNode(node('n1'));
    cache.assumePod(pod('a', '1'), 'n1');
    await clock.advance(60_000);
    cache.beginCycle();
    cache.endCycle();
    // Not expired: its binding has not finished (it may be waiting at Permit).
    expect(requestedCpu(cache, 'n1')).toBe(1000);
    cache.finishBinding(pod('a', '1'));
    await clock.advance(29_000);
    cache.beginCycle();
    cache.endCycle();
    expect(requestedCpu(cache, 'n1')).toBe(1000);
    await clock.advance(1000);
    cache.beginCycle();
    cache.endCycle();
    expect(requestedCpu(cache, 'n1')).toBe(0);
  });

  it('holds back changes during a cycle and applies them when it ends', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('n1'));
    const snapshot = cache.beginCycle();
    cache.addPod(pod('a', '1', 'n1'));
    cache.addNode(node('n2'));
    expect(snapshot.get('n1')?.requested.milliCPU).toBe(0);
    expect(snapshot.size).toBe(1);
    cache.endCycle();
    expect(cache.snapshot().get('n1')?.requested.milliCPU).toBe(1000);
    expect(cache.snapshot().size).toBe(2);
  });

  it('keeps the snapshot object while only pods change, and rebuilds it when nodes come or go', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('n1'));
    const first = cache.snapshot();
    cache.addPod(pod('a', '1', 'n1'));
    expect(cache.snapshot()).toBe(first);
    cache.removeNode(node('n1'));
    expect(cache.snapshot()).not.toBe(first);
    expect(cache.snapshot().size).toBe(0);
  });

  it('keeps pods of an unknown or removed node until the node appears', () => {
    const cache = new SchedulerCache();
    cache.addPod(pod('a', '1', 'n1'));
    cache.addNode(node('n1'));
    expect(requestedCpu(cache, 'n1')).toBe(1000);
    cache.removeNode(node('n1'));
    cache.addNode(node('n1'));
    expect(requestedCpu(cache, 'n1')).toBe(1000);
  });

  it('releases a terminated or deleted pod and moves a pod whose update changed it', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('n1'));
    cache.addPod(pod('a', '1', 'n1'));
    cache.addPod(pod('b', '2', 'n1'));
    cache.updatePod(pod('a', '1', 'n1', 'Succeeded'));
    expect(requestedCpu(cache, 'n1')).toBe(2000);
    cache.removePod(pod('b', '2', 'n1'));
    expect(requestedCpu(cache, 'n1')).toBe(0);
    cache.updateNode(node('n1', '8'));
    expect(cache.snapshot().get('n1')?.allocatable.milliCPU).toBe(8000);
  });
});
