// SPDX-License-Identifier: Apache-2.0
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

function newQueue(options: { name?: string; registry?: Registry } = {}): {
  queue: WorkQueue<string>;
  clock: FakeClock;
} {
  const clock = new FakeClock();
  return { queue: new WorkQueue<string>({ clock, ...options }), clock };
}

/** Takes every item currently available without blocking. */
async function drain(queue: WorkQueue<string>): Promise<string[]> {
  const items: string[] = [];
  while (queue.len() > 0) {
    const item = await queue.get();
    items.push(item!);
    queue.done(item!);
  }
  return items;
}

async function metricValue(registry: Registry, name: string, label = 'q'): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = metric?.values as Array<{
    value: number;
    labels: Record<string, string>;
    metricName?: string;
  }>;
  return values?.find(
    (v) =>
      v.labels.name === label &&
      (v.metricName ?? name) === (name.endsWith('_seconds') ? `${name}_count` : name),
  )?.value;
}

describe('WorkQueue', () => {
  it.each([
    { adds: ['a', 'b', 'a', 'c', 'b'], handed: ['a', 'b', 'c'] },
    { adds: ['x'], handed: ['x'] },
    { adds: ['x', 'x', 'x'], handed: ['x'] },
    { adds: [], handed: [] },
  ])('hands out $adds de-duplicated, in order', async ({ adds, handed }) => {
    const { queue } = newQueue();
    for (const item of adds) queue.add(item);
    expect(await drain(queue)).toEqual(handed);
  });

  it('processes an item re-added during processing again after done, never twice at once', async () => {
    const { queue } = newQueue();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0); // not handed to a second worker while the first holds it
    queue.done(first!);
    expect(queue.len()).toBe(1);
    expect(await drain(queue)).toEqual(['a']);
  });

  it('resolves a waiting get() when an item arrives', async () => {
    const { queue } = newQueue();
    const pending = queue.get();
    queue.add('late');
    expect(await pending).toBe('late');
  });

  it('addAfter adds when the delay passes, earliest delay wins', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 100);
    queue.addAfter('b', 50);
    queue.addAfter('a', 30);
    queue.addAfter('b', 500); // later than the pending one: ignored
    await clock.advance(29);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(await drain(queue)).toEqual(['a']);
    await clock.advance(20);
    expect(await drain(queue)).toEqual(['b']);
    await clock.advance(1000);
    expect(queue.len()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('addAfter with a zero or negative delay adds at once', () => {
    const { queue } = newQueue();
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    expect(queue.len()).toBe(2);
  });

  it('addAfter rejects a non-finite delay', () => {
    const { queue } = newQueue();
    expect(() => queue.addAfter('a', Number.NaN)).toThrow(/delayMs/);
  });

  it('addRateLimited backs off exponentially per item; forget resets', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({
      clock,
      rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000),
    });
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.now();
      queue.addRateLimited('a');
      while (queue.len() === 0) await clock.advance(1);
      seen.push(clock.now() - start);
      await drain(queue);
    }
    expect(seen).toEqual([5, 10, 20, 40]);
    expect(queue.numRequeues('a')).toBe(4);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
  });

  it('shutDown resolves waiting workers with undefined and ignores new adds', async () => {
    const { queue, clock } = newQueue();
    const waiting = [queue.get(), queue.get()];
    queue.addAfter('delayed', 10);
    queue.shutDown();
    expect(await Promise.all(waiting)).toEqual([undefined, undefined]);
    queue.add('x');
    await clock.advance(100);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('after shutDown, already queued items are still handed out, then undefined', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.shutDown();
    expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(['a', 'b', undefined]);
  });

  it('shutDownWithDrain waits for in-flight items', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    const a = await queue.get();
    const b = await queue.get();
    let drained = false;
    const draining = queue.shutDownWithDrain().then(() => {
      drained = true;
    });
    queue.done(a!);
    await Promise.resolve();
    expect(drained).toBe(false);
    queue.done(b!);
    await draining;
    expect(drained).toBe(true);
  });

  it('shutDownWithDrain resolves at once with nothing in flight', async () => {
    const { queue } = newQueue();
    await expect(queue.shutDownWithDrain()).resolves.toBeUndefined();
  });

  it('reports the upstream workqueue metrics under its name', async () => {
    const registry = new Registry();
    const { queue, clock } = newQueue({ name: 'q', registry });
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(await metricValue(registry, 'workqueue_depth')).toBe(2);
    expect(await metricValue(registry, 'workqueue_adds_total')).toBe(2);
    await clock.advance(2000);
    const a = await queue.get();
    await clock.advance(3000);
    const text = await registry.metrics();
    expect(text).toContain('workqueue_unfinished_work_seconds{name="q"} 3');
    expect(text).toContain('workqueue_longest_running_processor_seconds{name="q"} 3');
    queue.done(a!);
    queue.addRateLimited('c');
    expect(await metricValue(registry, 'workqueue_retries_total')).toBe(1);
    expect(await metricValue(registry, 'workqueue_depth')).toBe(1);
    const after = await registry.metrics();
    expect(after).toContain('workqueue_queue_duration_seconds_count{name="q"} 1');
    expect(after).toContain('workqueue_queue_duration_seconds_sum{name="q"} 2');
    expect(after).toContain('workqueue_work_duration_seconds_sum{name="q"} 3');
    expect(after).toContain('workqueue_unfinished_work_seconds{name="q"} 0');
    // A second queue on the same registry shares the metrics (no duplicate registration).
    new WorkQueue<string>({ name: 'other', clock, registry }).add('z');
    expect(await metricValue(registry, 'workqueue_depth', 'other')).toBe(1);
    queue.shutDown();
  });
});
