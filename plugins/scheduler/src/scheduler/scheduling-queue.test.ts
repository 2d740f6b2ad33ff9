// SPDX-License-Identifier: Apache-2.0
import { type QueuedPodInfo, SchedulingStatus } from '@cpkit/core';
import { FakeClock } from '@cpkit/core/testing';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { SchedulingQueue } from './scheduling-queue.js';

function pod(name: string, priority = 0, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'c', image: 'i' }], priority, ...extra },
  };
}

// PrioritySort's order: higher priority first, then earlier arrival.
const prioritySort = (a: QueuedPodInfo, b: QueuedPodInfo): boolean => {
  const pa = a.pod.spec?.priority ?? 0;
  const pb = b.pod.spec?.priority ?? 0;
  return pa > pb || (pa === pb && a.timestamp < b.timestamp);
};

function newQueue(options: Partial<ConstructorParameters<typeof SchedulingQueue>[0]> = {}): {
  queue: SchedulingQueue;
  clock: FakeClock;
} {
  const clock = new FakeClock(1_000_000);
  const queue = new SchedulingQueue({ less: prioritySort, clock, ...options });
  return { queue, clock };
}

async function popName(queue: SchedulingQueue): Promise<string | undefined> {
  const next = await queue.pop();
  return next?.pod.metadata?.name;
}

describe('SchedulingQueue', () => {
  it('pops by priority, then by arrival', async () => {
    const { queue, clock } = newQueue();
    queue.add(pod('low-1', 0));
    await clock.advance(1);
    queue.add(pod('high', 10));
    await clock.advance(1);
    queue.add(pod('low-2', 0));
    expect([await popName(queue), await popName(queue), await popName(queue)]).toEqual([
      'high',
      'low-1',
      'low-2',
    ]);
  });

  it('hands a pod to a waiting pop and resolves undefined on abort or close', async () => {
    const { queue } = newQueue();
    const waiting = queue.pop();
    queue.add(pod('a'));
    expect((await waiting)?.pod.metadata?.name).toBe('a');
    const controller = new AbortController();
    const aborted = queue.pop(controller.signal);
    controller.abort();
    expect(await aborted).toBeUndefined();
    const closed = queue.pop();
    queue.close();
    expect(await closed).toBeUndefined();
  });

  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 10000],
    [12, 10000],
  ])('backs off %i failed attempts for %i ms (1 s doubling to 10 s)', (attempts, ms) => {
    const { queue } = newQueue();
    expect(queue.backoffDurationMs(attempts)).toBe(ms);
  });

  it('sends an Error to backoffQ and back to activeQ once the backoff passed', async () => {
    const { queue, clock } = newQueue();
    queue.add(pod('a'));
    const first = await queue.pop();
    if (!first) throw new Error('no pod');
    queue.requeueAfterFailure(first, queue.cycle, true);
    expect(queue.whereIs('uid-a')).toBe('backoff');
    await clock.advance(999);
    expect(queue.whereIs('uid-a')).toBe('backoff');
    await clock.advance(1);
    expect(queue.whereIs('uid-a')).toBe('active');
    const second = await queue.pop();
    expect(second?.attempts).toBe(2);
    if (!second) throw new Error('no pod');
    queue.requeueAfterFailure(second, queue.cycle, true);
    await clock.advance(1999);
    expect(queue.whereIs('uid-a')).toBe('backoff');
    await clock.advance(1);
    expect(queue.whereIs('uid-a')).toBe('active');
  });

  it('parks an unschedulable pod until a cluster event, then honours its backoff', async () => {
    const { queue, clock } = newQueue();
    queue.add(pod('a'));
    const info = await queue.pop();
    if (!info) throw new Error('no pod');
    queue.requeueAfterFailure(info, queue.cycle, false);
    expect(queue.pendingCounts()).toEqual({ active: 0, backoff: 0, unschedulable: 1, gated: 0 });
    await clock.advance(30_000);
    expect(queue.whereIs('uid-a')).toBe('unschedulable');
    queue.moveAllToActiveOrBackoffQueue('NodeAdd');
    expect(queue.whereIs('uid-a')).toBe('active');

    // A second failure, and an event right away: the pod still backs off (2 s) first.
    const again = await queue.pop();
    if (!again) throw new Error('no pod');
    queue.requeueAfterFailure(again, queue.cycle, false);
    queue.moveAllToActiveOrBackoffQueue('NodeUpdate');
    expect(queue.whereIs('uid-a')).toBe('backoff');
    await clock.advance(2000);
    expect(queue.whereIs('uid-a')).toBe('active');
  });

  it('sends a pod to backoffQ when an event came while it was being scheduled', async () => {
    const { queue } = newQueue();
    queue.add(pod('a'));
    const info = await queue.pop();
    if (!info) throw new Error('no pod');
    const cycle = queue.cycle;
    queue.moveAllToActiveOrBackoffQueue('NodeAdd');
    queue.requeueAfterFailure(info, cycle, false);
    expect(queue.whereIs('uid-a')).toBe('backoff');
  });

  it('flushes pods unschedulable for 5 minutes without any event', async () => {
    const { queue, clock } = newQueue();
    queue.add(pod('a'));
    const info = await queue.pop();
    if (!info) throw new Error('no pod');
    queue.requeueAfterFailure(info, queue.cycle, false);
    await clock.advance(4 * 60_000);
    expect(queue.whereIs('uid-a')).toBe('unschedulable');
    await clock.advance(90_000);
    expect(queue.whereIs('uid-a')).toBe('active');
    queue.close();
  });

  it('keeps gated pods out until an update lets PreEnqueue pass', async () => {
    const { queue } = newQueue({
      preEnqueue: (p) =>
        (p.spec?.schedulingGates?.length ?? 0) > 0
          ? new SchedulingStatus(
              'UnschedulableAndUnresolvable',
              ['waiting for scheduling gates'],
              'SchedulingGates',
            )
          : SchedulingStatus.success(),
    });
    const gated = pod('a', 0, { schedulingGates: [{ name: 'g' }] });
    queue.add(gated);
    expect(queue.pendingCounts()).toEqual({ active: 0, backoff: 0, unschedulable: 0, gated: 1 });
    queue.moveAllToActiveOrBackoffQueue('NodeAdd');
    expect(queue.whereIs('uid-a')).toBe('gated');
    queue.update(gated, pod('a'));
    expect(queue.whereIs('uid-a')).toBe('active');
  });

  it('moves an unschedulable pod on a spec change, not on a status change', async () => {
    const { queue } = newQueue();
    const original = pod('a');
    queue.add(original);
    const info = await queue.pop();
    if (!info) throw new Error('no pod');
    queue.requeueAfterFailure(info, queue.cycle, false);
    queue.update(original, { ...original, status: { phase: 'Pending' } });
    expect(queue.whereIs('uid-a')).toBe('unschedulable');
    queue.update(original, { ...original, metadata: { ...original.metadata, labels: { x: 'y' } } });
    expect(queue.whereIs('uid-a')).toBe('backoff');
  });

  it('drops a pod deleted while in flight or queued', async () => {
    const { queue } = newQueue();
    queue.add(pod('a'));
    queue.add(pod('b'));
    const a = await queue.pop();
    if (!a) throw new Error('no pod');
    queue.delete(pod('a'));
    queue.requeueAfterFailure(a, queue.cycle, true);
    expect(queue.whereIs('uid-a')).toBeUndefined();
    queue.delete(pod('b'));
    expect(queue.pendingCounts().active).toBe(0);
  });

  it('tracks nominated pods per node', () => {
    const { queue } = newQueue();
    const p = pod('a');
    queue.add({ ...p, status: { nominatedNodeName: 'n1' } });
    expect(queue.nominatedPodsForNode('n1').map((x) => x.metadata?.name)).toEqual(['a']);
    queue.setNominatedNode(p, 'n2');
    expect(queue.nominatedPodsForNode('n1')).toEqual([]);
    expect(queue.nominatedPodsForNode('n2')).toHaveLength(1);
    queue.delete(p);
    expect(queue.nominatedPodsForNode('n2')).toEqual([]);
  });
});
