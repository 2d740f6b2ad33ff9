// SPDX-License-Identifier: Apache-2.0
import { Container } from 'inversify';
import type { Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/object.js';
import { ApiClient } from '../contracts/api-client.js';
import { errors } from '../errors/status-error.js';
import { FakeClock } from '../testing/fake-clock.js';
import { FakeApiClient } from './fake-api-client.test-helper.js';
import { informersModule } from './informers-module.js';
import type { InformerEvent } from './shared-informer.js';
import { SharedInformer } from './shared-informer.js';
import { SharedInformerFactory } from './shared-informer-factory.js';

interface Pod extends KubeObject {
  spec?: { nodeName?: string };
}

const pod = (namespace: string, name: string, nodeName?: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name },
  spec: { nodeName },
});

const describeEvent = (e: InformerEvent<Pod>): string =>
  e.type === 'updated'
    ? `updated ${e.object.metadata?.name} ${e.oldObject.metadata?.resourceVersion}->${e.object.metadata?.resourceVersion}`
    : `${e.type} ${e.object.metadata?.name}`;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(
  options: { pageSize?: number; resyncPeriodMs?: number; namespace?: string } = {},
  seed: Pod[] = [],
): Promise<{
  client: FakeApiClient;
  clock: FakeClock;
  informer: SharedInformer<Pod>;
  events: string[];
  stop: () => Promise<void>;
}> {
  const client = new FakeApiClient();
  const clock = new FakeClock();
  for (const p of seed) await client.create(p);
  const informer = new SharedInformer<Pod>(client, 'Pod', {
    clock,
    backoff: { initialMs: 100, maxMs: 1000 },
    ...options,
  });
  const events: string[] = [];
  const subscription: Subscription = informer.events$.subscribe((e) => events.push(describeEvent(e)));
  const controller = new AbortController();
  const stop = async (): Promise<void> => {
    controller.abort();
    await informer.stopped();
    subscription.unsubscribe();
  };
  cleanups.push(stop);
  await informer.start(controller.signal);
  return { client, clock, informer, events, stop };
}

describe('SharedInformer', () => {
  it('lists in pages, fills the cache and reports synced', async () => {
    const seed = Array.from({ length: 7 }, (_, i) => pod('ns', `p${i}`));
    const { client, informer, events } = await started({ pageSize: 3 }, seed);
    expect(client.calls.filter((c) => c.startsWith('list'))).toEqual(['list', 'list:3', 'list:6']);
    expect(informer.hasSynced()).toBe(true);
    expect(informer.keys().sort()).toEqual(seed.map((p) => `ns/${p.metadata!.name}`).sort());
    expect(events).toHaveLength(7);
    expect(events.every((e) => e.startsWith('added'))).toBe(true);
    expect(client.calls).toContain(`watch:${client.currentResourceVersion()}`);
  });

  it('applies watch events to the cache and emits added, updated (old+new), deleted', async () => {
    const { client, informer, events } = await started();
    const created = await client.create(pod('ns', 'a'));
    await client.update({ ...created, spec: { nodeName: 'n1' } });
    await client.delete('Pod', 'a', { namespace: 'ns' });
    await client.create(pod('ns', 'b'));
    expect(events).toEqual(['added a', 'updated a 1->2', 'deleted a', 'added b']);
    expect(informer.get('ns/a')).toBeUndefined();
    expect(informer.get('ns/b')?.metadata?.name).toBe('b');
    expect(informer.lastSyncResourceVersion()).toBe('4');
  });

  it('typed streams split the events; a late subscriber first sees every cached object', async () => {
    const { client, informer } = await started({}, [pod('ns', 'a'), pod('ns', 'b')]);
    const added: string[] = [];
    const updated: string[] = [];
    const deleted: string[] = [];
    const subs = [
      informer.added$.subscribe((o) => added.push(o.metadata!.name!)),
      informer.updated$.subscribe(({ oldObject, object }) =>
        updated.push(`${oldObject.spec?.nodeName ?? '-'}->${object.spec?.nodeName}`),
      ),
      informer.deleted$.subscribe((o) => deleted.push(o.metadata!.name!)),
    ];
    cleanups.push(() => {
      for (const s of subs) s.unsubscribe();
    });
    const a = informer.get('ns/a')!;
    await client.update({ ...a, spec: { nodeName: 'n2' } });
    await client.delete('Pod', 'b', { namespace: 'ns' });
    expect(added.sort()).toEqual(['a', 'b']);
    expect(updated).toEqual(['-->n2']);
    expect(deleted).toEqual(['b']);
  });

  it('indexes by namespace and by custom indexers, including objects cached before the indexer', async () => {
    const { client, informer } = await started({}, [
      pod('a', 'p1', 'n1'),
      pod('a', 'p2', 'n2'),
      pod('b', 'p3', 'n1'),
    ]);
    informer.addIndexers({ byNode: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
    const names = (pods: Pod[]): string[] => pods.map((p) => p.metadata!.name!).sort();
    expect(names(informer.list('a'))).toEqual(['p1', 'p2']);
    expect(names(informer.byIndex('namespace', 'b'))).toEqual(['p3']);
    expect(names(informer.byIndex('byNode', 'n1'))).toEqual(['p1', 'p3']);
    const p1 = informer.get('a/p1')!;
    await client.update({ ...p1, spec: { nodeName: 'n2' } });
    expect(names(informer.byIndex('byNode', 'n1'))).toEqual(['p3']);
    expect(names(informer.byIndex('byNode', 'n2'))).toEqual(['p1', 'p2']);
    await client.delete('Pod', 'p3', { namespace: 'b' });
    expect(informer.byIndex('byNode', 'n1')).toEqual([]);
    expect(() => informer.byIndex('byZone', 'z')).toThrow(/indexName: no index named "byZone"/);
    expect(() => informer.addIndexers({ byNode: () => [] })).toThrow(/"byNode" already exist/);
  });

  it('an API that expires every watch is relisted with backoff, not in a loop', async () => {
    const { client, clock } = await started();
    client.expireEveryWatch = true;
    client.breakWatches();
    await clock.advance(1000);
    // Re-watch at 100 ms (expired) → relist at 300 → expired → relist at 700 → expired → next at 1500.
    expect(client.calls.filter((c) => c === 'list')).toHaveLength(3);
  });

  it.each([
    { how: 'error', breakIt: (c: FakeApiClient) => c.breakWatches() },
    { how: 'completion', breakIt: (c: FakeApiClient) => c.completeWatches() },
  ])(
    'after a watch $how, resumes from the last resourceVersion without relisting or losing events',
    async ({ breakIt }) => {
      const { client, clock, informer, events } = await started({}, [pod('ns', 'a')]);
      await client.create(pod('ns', 'b'));
      breakIt(client);
      expect(client.activeWatches).toBe(0);
      await client.create(pod('ns', 'c')); // happens while no watch is open
      await clock.advance(1000);
      expect(client.activeWatches).toBe(1);
      expect(client.calls.filter((c) => c.startsWith('list'))).toHaveLength(1);
      expect(client.calls.at(-1)).toBe('watch:2');
      expect(events).toEqual(['added a', 'added b', 'added c']);
      expect(informer.keys().sort()).toEqual(['ns/a', 'ns/b', 'ns/c']);
    },
  );

  it('backs off between repeated watch failures', async () => {
    const { client, clock } = await started();
    const watchTimes: number[] = [];
    const start = clock.now();
    for (let i = 0; i < 4; i++) {
      client.breakWatches();
      while (client.activeWatches === 0) await clock.advance(10);
      watchTimes.push(clock.now() - start);
    }
    // 100, +200, +400, +800 ms (granularity 10 ms)
    expect(watchTimes).toEqual([100, 300, 700, 1500]);
  });

  it('relists after 410 and emits exactly the differences it missed', async () => {
    const { client, clock, informer, events } = await started({}, [
      pod('ns', 'keep'),
      pod('ns', 'change'),
      pod('ns', 'gone'),
    ]);
    events.length = 0;
    client.breakWatches(); // watch is down
    const change = await client.get<Pod>('Pod', 'change', { namespace: 'ns' });
    client.silentlyPut({ ...change, spec: { nodeName: 'n9' } });
    client.silentlyDelete('Pod', 'ns', 'gone');
    client.silentlyPut(pod('ns', 'new'));
    client.compact(); // the informer's resourceVersion is now too old
    await clock.advance(1000);
    expect(client.calls.filter((c) => c === 'list')).toHaveLength(2);
    expect(events.sort()).toEqual(['added new', 'deleted gone', 'updated change 2->4']);
    expect(informer.keys().sort()).toEqual(['ns/change', 'ns/keep', 'ns/new']);
    expect(informer.get('ns/change')?.spec?.nodeName).toBe('n9');
    expect(client.activeWatches).toBe(1);
  });

  it('retries a failing list with backoff and syncs once it succeeds', async () => {
    const client = new FakeApiClient();
    const clock = new FakeClock();
    await client.create(pod('ns', 'a'));
    client.listError = errors.serviceUnavailable('etcd down');
    client.failLists = 2;
    const informer = new SharedInformer<Pod>(client, 'Pod', { clock, backoff: { initialMs: 100 } });
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    let synced = false;
    void informer.start(controller.signal).then(() => {
      synced = true;
    });
    await clock.advance(99);
    expect(synced).toBe(false);
    await clock.advance(300);
    expect(synced).toBe(true);
    expect(informer.keys()).toEqual(['ns/a']);
  });

  it('re-emits updated for every cached object each resync period', async () => {
    const { clock, events } = await started({ resyncPeriodMs: 1000 }, [pod('ns', 'a'), pod('ns', 'b')]);
    events.length = 0;
    await clock.advance(999);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events.sort()).toEqual(['updated a 1->1', 'updated b 2->2']);
    await clock.advance(1000);
    expect(events).toHaveLength(4);
  });

  it('runs while any starter runs; the last stop closes the watch and every timer', async () => {
    const client = new FakeApiClient();
    const clock = new FakeClock();
    const informer = new SharedInformer<Pod>(client, 'Pod', { clock, resyncPeriodMs: 500 });
    const first = new AbortController();
    const second = new AbortController();
    await informer.start(first.signal);
    await informer.start(second.signal);
    expect(client.activeWatches).toBe(1);
    first.abort();
    await clock.advance(1);
    expect(client.activeWatches).toBe(1);
    second.abort();
    await informer.stopped();
    expect(client.activeWatches).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(informer.hasSynced()).toBe(false);
    // It can start again and catches up.
    await client.create(pod('ns', 'later'));
    const third = new AbortController();
    await informer.start(third.signal);
    expect(informer.keys()).toEqual(['ns/later']);
    third.abort();
    await informer.stopped();
    expect(client.activeWatches).toBe(0);
  });

  it('watches only its namespace when given one', async () => {
    const { client, informer } = await started({ namespace: 'a' }, [pod('a', 'x'), pod('b', 'y')]);
    await client.create(pod('b', 'z'));
    await client.create(pod('a', 'w'));
    expect(informer.keys().sort()).toEqual(['a/w', 'a/x']);
    expect(informer.name).toBe('informer/Pod/a');
  });

  it.each([
    [{ pageSize: 0 }, /pageSize/],
    [{ pageSize: 1.5 }, /pageSize/],
    [{ resyncPeriodMs: -1 }, /resyncPeriodMs/],
  ])('rejects bad options %o', (options, message) => {
    expect(() => new SharedInformer(new FakeApiClient(), 'Pod', options)).toThrow(message);
  });
});

describe('SharedInformerFactory', () => {
  it('shares one informer and one watch per kind and selection', async () => {
    const client = new FakeApiClient();
    const factory = new SharedInformerFactory(client, { clock: new FakeClock() });
    const a = factory.forKind<Pod>('Pod');
    expect(factory.forKind<Pod>('Pod')).toBe(a);
    expect(factory.forKind('Pod', { namespace: 'x' })).not.toBe(a);
    expect(factory.forKind({ group: '', version: 'v1', kind: 'Pod' })).not.toBe(a);
    const controller = new AbortController();
    await factory.start(controller.signal);
    expect(client.activeWatches).toBe(3);
    // Informers handed out while running start at once.
    const late = factory.forKind('Node');
    await late.synced();
    expect(client.activeWatches).toBe(4);
    const seen: string[][] = [[], []];
    const subs = seen.map((log) => a.added$.subscribe((p) => log.push(p.metadata!.name!)));
    await client.create(pod('ns', 'shared'));
    expect(seen).toEqual([['shared'], ['shared']]);
    expect(client.activeWatches).toBe(4);
    controller.abort();
    await factory.stopped();
    for (const s of subs) s.unsubscribe();
    expect(client.activeWatches).toBe(0);
  });
});

describe('informersModule', () => {
  it('binds one factory on the container ApiClient', () => {
    const container = new Container();
    const client = new FakeApiClient();
    container.bind(ApiClient).toConstantValue(client);
    container.load(informersModule({ resyncPeriodMs: 1000 }));
    const factory = container.get(SharedInformerFactory);
    expect(container.get(SharedInformerFactory)).toBe(factory);
    expect(factory.client).toBe(client);
  });
});
