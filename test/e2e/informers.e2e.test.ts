// SPDX-License-Identifier: Apache-2.0
// End to end: a shared informer on the real stack (in-process ApiClient → registry → embedded store)
// keeps an exact copy of the store, and recovers from a stop, a broken watch and compaction by
// relisting, without duplicate or missing events for its subscribers.
import {
  type ApiClient,
  type CreateOptions,
  type DeleteOptions,
  type GetOptions,
  type InformerEvent,
  isStatusError,
  type KindReference,
  type KubeList,
  type KubeObject,
  type ListOptions,
  objectKey,
  type PatchOptions,
  type PatchType,
  SharedInformer,
  StatusError,
  type Store,
  type UpdateOptions,
  type WatchEvent,
  type WatchOptions,
} from '@cpkit/core';
import { startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import type { Binding, ConfigMap } from 'kubernetes-types/core/v1.js';
import { firstValueFrom, Observable, type Subscriber, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';

/**
 * Checks every event a subscriber receives against the state it has seen so far: no `added` for a key
 * it already has, no `updated` that skips a version (its `oldObject` must be what the subscriber last
 * saw), no `deleted` of a key it never saw. Its model must end equal to the store.
 */
class CheckingSubscriber {
  readonly model = new Map<string, ConfigMap>();
  readonly problems: string[] = [];
  readonly events: InformerEvent<ConfigMap>[] = [];
  private readonly subscription: Subscription;

  constructor(informer: SharedInformer<ConfigMap>) {
    this.subscription = informer.events$.subscribe((event) => this.apply(event));
  }

  /** Events received since `mark` (an index into {@link CheckingSubscriber.events}), as `type key`. */
  since(mark: number): string[] {
    return this.events
      .slice(mark)
      .map((e) => `${e.type} ${objectKey(e.object)}`)
      .sort();
  }

  close(): void {
    this.subscription.unsubscribe();
  }

  private apply(event: InformerEvent<ConfigMap>): void {
    this.events.push(event);
    const key = objectKey(event.object);
    const seen = this.model.get(key);
    const version = (o: ConfigMap | undefined) => o?.metadata?.resourceVersion;
    switch (event.type) {
      case 'added':
        if (seen) this.problems.push(`duplicate added ${key}`);
        this.model.set(key, event.object);
        break;
      case 'updated':
        if (!seen) this.problems.push(`updated ${key} never added`);
        else if (version(seen) !== version(event.oldObject))
          this.problems.push(
            `updated ${key} from ${version(event.oldObject)}, but last saw ${version(seen)}`,
          );
        if (version(event.object) === version(event.oldObject))
          this.problems.push(`updated ${key} without a new version`);
        this.model.set(key, event.object);
        break;
      case 'deleted':
        if (!seen) this.problems.push(`deleted ${key} never added`);
        this.model.delete(key);
        break;
    }
  }
}

/**
 * The in-process ApiClient behind a connection that the test can drop, as a network or a restarted
 * API server would: open watches fail with `ServiceUnavailable`, and new ones are refused until it is
 * restored. Everything else passes straight through to the real client.
 */
class DroppableConnection implements ApiClient {
  private dropped = false;
  private readonly open = new Set<Subscriber<WatchEvent<KubeObject>>>();
  /** Watches refused while dropped. */
  refused = 0;
  /** Errors the real watches ended with (e.g. `Expired` when resuming from a compacted revision). */
  readonly serverErrors: unknown[] = [];

  constructor(private readonly client: ApiClient) {}

  drop(): void {
    this.dropped = true;
    for (const subscriber of [...this.open]) {
      subscriber.error(new StatusError('ServiceUnavailable', 'connection reset'));
    }
  }

  restore(): void {
    this.dropped = false;
  }

  get<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: GetOptions,
  ): Promise<T> {
    return this.client.get<T>(kind, name, options);
  }
  list<T extends KubeObject = KubeObject>(kind: KindReference, options?: ListOptions): Promise<KubeList<T>> {
    return this.client.list<T>(kind, options);
  }
  create<T extends KubeObject>(object: T, options?: CreateOptions): Promise<T> {
    return this.client.create(object, options);
  }
  update<T extends KubeObject>(object: T, options?: UpdateOptions): Promise<T> {
    return this.client.update(object, options);
  }
  updateStatus<T extends KubeObject>(object: T, options?: UpdateOptions): Promise<T> {
    return this.client.updateStatus(object, options);
  }
  patch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    type: PatchType,
    patch: unknown,
    options?: PatchOptions,
  ): Promise<T> {
    return this.client.patch<T>(kind, name, type, patch, options);
  }
  bind(binding: Binding, options?: CreateOptions): Promise<void> {
    return this.client.bind(binding, options);
  }
  delete<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: DeleteOptions,
  ): Promise<T> {
    return this.client.delete<T>(kind, name, options);
  }
  watch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    options?: WatchOptions,
  ): Observable<WatchEvent<T>> {
    return new Observable<WatchEvent<T>>((subscriber) => {
      if (this.dropped) {
        this.refused++;
        subscriber.error(new StatusError('ServiceUnavailable', 'connection refused'));
        return;
      }
      const outer = subscriber as unknown as Subscriber<WatchEvent<KubeObject>>;
      this.open.add(outer);
      const inner = this.client.watch<T>(kind, options).subscribe({
        next: (event) => subscriber.next(event),
        error: (error: unknown) => {
          this.serverErrors.push(error);
          subscriber.error(error);
        },
        complete: () => subscriber.complete(),
      });
      return () => {
        this.open.delete(outer);
        inner.unsubscribe();
      };
    });
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function controlPlane(): Promise<{ cp: TestControlPlane; store: Store }> {
  const store = await openEmbeddedStore();
  const cp = await startTestControlPlane({ store });
  cleanups.push(() => cp.stop());
  await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  return { cp, store };
}

/** Starts `informer` until the returned abort function is called (also called after the test). */
async function run(informer: SharedInformer<ConfigMap>): Promise<() => Promise<void>> {
  const abort = new AbortController();
  const stop = async (): Promise<void> => {
    abort.abort();
    await informer.stopped();
  };
  cleanups.push(stop);
  await informer.start(abort.signal);
  return stop;
}

function configMap(name: string, namespace = 'default', value = '0'): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { value } };
}

/** Key → object of a fresh list of every ConfigMap. */
async function freshList(client: ApiClient): Promise<Map<string, ConfigMap>> {
  const list = await client.list<ConfigMap>('ConfigMap');
  return new Map(list.items.map((item) => [objectKey(item), item]));
}

function asMap(objects: ConfigMap[]): Map<string, ConfigMap> {
  return new Map(objects.map((o) => [objectKey(o), o]));
}

/** Whether the informer's cache and the subscriber's model both equal a fresh list, object for object. */
async function inStep(
  client: ApiClient,
  informer: SharedInformer<ConfigMap>,
  subscriber: CheckingSubscriber,
): Promise<boolean> {
  const fresh = await freshList(client);
  const same = (a: Map<string, ConfigMap>): boolean =>
    a.size === fresh.size &&
    [...fresh].every(([key, o]) => a.get(key)?.metadata?.resourceVersion === o.metadata?.resourceVersion);
  return same(asMap(informer.list())) && same(subscriber.model);
}

const patchValue = (client: ApiClient, name: string, value: string, namespace = 'default') =>
  client.patch('ConfigMap', name, 'merge', { data: { value } }, { namespace });

describe('a shared informer on the real store', () => {
  it('keeps an exact copy through creates, updates and deletes, one event per write', async () => {
    const { cp } = await controlPlane();
    const informer = new SharedInformer<ConfigMap>(cp.client, 'ConfigMap');
    const subscriber = new CheckingSubscriber(informer);
    cleanups.push(() => subscriber.close());
    await run(informer);

    // Sequential and concurrent writes (the store commits concurrent ones in one group).
    for (let i = 0; i < 10; i++) await cp.client.create(configMap(`seq-${i}`));
    await Promise.all(Array.from({ length: 20 }, (_, i) => cp.client.create(configMap(`par-${i}`, 'other'))));
    for (let i = 0; i < 10; i++) await patchValue(cp.client, `seq-${i}`, 'a');
    await Promise.all(Array.from({ length: 10 }, (_, i) => patchValue(cp.client, `par-${i}`, 'b', 'other')));
    for (let i = 0; i < 5; i++) await patchValue(cp.client, 'seq-0', `again-${i}`);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => cp.client.delete('ConfigMap', `par-${i}`, { namespace: 'other' })),
    );
    await cp.client.delete('ConfigMap', 'seq-9', { namespace: 'default' });
    const writes = 10 + 20 + 10 + 10 + 5 + 8 + 1;

    await eventually(
      async () => subscriber.events.length >= writes && (await inStep(cp.client, informer, subscriber)),
      'the informer has seen every write',
    );
    expect(subscriber.problems).toEqual([]);
    expect(subscriber.events).toHaveLength(writes);
    const count = (type: string) => subscriber.events.filter((e) => e.type === type).length;
    expect({ added: count('added'), updated: count('updated'), deleted: count('deleted') }).toEqual({
      added: 30,
      updated: 25,
      deleted: 9,
    });
    // Same objects, not just the same versions.
    const fresh = await freshList(cp.client);
    for (const [key, object] of fresh) expect(informer.get(key)).toEqual(object);
    expect(informer.list('other')).toHaveLength(12);
  });

  it('relists after being stopped across a compaction, emitting exactly what changed meanwhile', async () => {
    const { cp, store } = await controlPlane();
    const informer = new SharedInformer<ConfigMap>(cp.client, 'ConfigMap');
    const subscriber = new CheckingSubscriber(informer);
    cleanups.push(() => subscriber.close());
    const stop = await run(informer);
    for (let i = 0; i < 10; i++) await cp.client.create(configMap(`cm-${i}`));
    await eventually(() => inStep(cp.client, informer, subscriber), 'the informer has the ten ConfigMaps');

    await stop();
    const mark = subscriber.events.length;
    for (let i = 0; i < 3; i++) await patchValue(cp.client, `cm-${i}`, 'changed');
    await cp.client.delete('ConfigMap', 'cm-3', { namespace: 'default' });
    await cp.client.delete('ConfigMap', 'cm-4', { namespace: 'default' });
    await cp.client.create(configMap('new-0'));
    await cp.client.create(configMap('new-1', 'other'));
    await cp.client.create(configMap('transient'));
    await cp.client.delete('ConfigMap', 'transient', { namespace: 'default' });
    await store.compact(await store.currentRevision());

    // Resuming from where the informer stopped is no longer possible: the server says 410 Expired.
    const resume = cp.client.watch('ConfigMap', { resourceVersion: informer.lastSyncResourceVersion() });
    const expired = await firstValueFrom(resume).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isStatusError(expired, 'Expired')).toBe(true);
    expect((expired as StatusError).code).toBe(410);

    await run(informer); // resolves once the relist has synced
    expect(await inStep(cp.client, informer, subscriber)).toBe(true);
    expect(subscriber.problems).toEqual([]);
    expect(subscriber.since(mark)).toEqual(
      [
        'updated default/cm-0',
        'updated default/cm-1',
        'updated default/cm-2',
        'deleted default/cm-3',
        'deleted default/cm-4',
        'added default/new-0',
        'added other/new-1',
      ].sort(),
    );

    // And it watches live again from the relist.
    await patchValue(cp.client, 'cm-9', 'live');
    await eventually(
      () => informer.get('default/cm-9')?.data?.value === 'live',
      'a write after the relist reaches the cache',
    );
    expect(await inStep(cp.client, informer, subscriber)).toBe(true);
    expect(subscriber.problems).toEqual([]);
  });

  it('relists when its broken watch cannot resume because the store was compacted meanwhile', async () => {
    const { cp, store } = await controlPlane();
    const connection = new DroppableConnection(cp.client);
    const informer = new SharedInformer<ConfigMap>(connection, 'ConfigMap', {
      backoff: { initialMs: 20, maxMs: 200 },
    });
    const subscriber = new CheckingSubscriber(informer);
    cleanups.push(() => subscriber.close());
    await run(informer);
    for (let i = 0; i < 10; i++) await cp.client.create(configMap(`cm-${i}`));
    await eventually(() => inStep(cp.client, informer, subscriber), 'the informer has the ten ConfigMaps');

    connection.drop();
    await eventually(() => connection.refused >= 2, 'the informer has tried to reconnect');
    const mark = subscriber.events.length;
    const lastSeen = informer.lastSyncResourceVersion();
    await patchValue(cp.client, 'cm-0', 'changed');
    await cp.client.delete('ConfigMap', 'cm-1', { namespace: 'default' });
    await cp.client.create(configMap('new-0', 'other'));
    await cp.client.create(configMap('transient'));
    await cp.client.delete('ConfigMap', 'transient', { namespace: 'default' });
    await store.compact(await store.currentRevision());
    expect(informer.lastSyncResourceVersion()).toBe(lastSeen);

    connection.restore();
    await eventually(
      async () =>
        connection.serverErrors.some((e) => isStatusError(e, 'Expired')) &&
        (await inStep(cp.client, informer, subscriber)),
      'the informer got 410 on resuming, relisted and caught up',
    );
    expect(subscriber.problems).toEqual([]);
    expect(subscriber.since(mark)).toEqual(
      ['updated default/cm-0', 'deleted default/cm-1', 'added other/new-0'].sort(),
    );

    await cp.client.create(configMap('after'));
    await eventually(
      () => informer.get('default/after') !== undefined,
      'a write after the relist reaches the cache',
    );
    expect(subscriber.problems).toEqual([]);
    expect(subscriber.since(mark)).toHaveLength(4);
  });
});
