// SPDX-License-Identifier: Apache-2.0
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { firstValueFrom, type Observable, type Subscription, timeout } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, StoreEntry, StoreEvent } from '../contracts/store.js';

/**
 * How {@link describeStoreContract} gets stores to test.
 * @category Testing
 */
export interface StoreContractFactory {
  /** A new, empty store. The suite closes every store it gets. */
  create(): Promise<Store>;
  /** A store restored from a file written by {@link Store.backup}. */
  restore(backupPath: string): Promise<Store>;
  /**
   * Optional: how many watch subscriptions `store` holds open. When given, the suite fails any test
   * that leaves a watch open after it unsubscribed everything it started.
   */
  openWatches?(store: Store): number;
}

/** Records what a watch delivers, and owns its subscription. */
class WatchRecorder {
  readonly events: StoreEvent[] = [];
  error: unknown;
  completed = false;
  private readonly subscription: Subscription;

  constructor(stream: Observable<StoreEvent>) {
    this.subscription = stream.subscribe({
      next: (event) => this.events.push(event),
      error: (error: unknown) => {
        this.error = error;
      },
      complete: () => {
        this.completed = true;
      },
    });
  }

  async waitFor(count: number): Promise<StoreEvent[]> {
    await until(() => this.events.length >= count || this.error !== undefined, `${count} watch events`);
    if (this.error !== undefined) throw this.error;
    return this.events;
  }

  stop(): void {
    this.subscription.unsubscribe();
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Awaits `operation` and returns the error it fails with; fails the test when it succeeds. */
async function failure(
  operation: () => Promise<unknown>,
): Promise<{ name?: string; reason?: string; code?: number }> {
  try {
    await operation();
  } catch (error) {
    return error as { name?: string; reason?: string; code?: number };
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

async function expectStatus(operation: () => Promise<unknown>, reason: string, code: number): Promise<void> {
  const error = await failure(operation);
  expect({ name: error.name, reason: error.reason, code: error.code }).toEqual({
    name: 'StatusError',
    reason,
    code,
  });
}

/** The first thing a watch does: an event, or (what these callers expect) an error. */
function firstOf(stream: () => Observable<StoreEvent>): Promise<StoreEvent> {
  return firstValueFrom(stream().pipe(timeout(5_000)));
}

function keysOf(entries: StoreEntry[]): string[] {
  return entries.map((entry) => entry.key);
}

/** Lists every page of `prefix` and returns the entries and the revision of each page. */
async function listAll(
  store: Store,
  prefix: string,
  limit: number,
): Promise<{ items: StoreEntry[]; revisions: number[] }> {
  const items: StoreEntry[] = [];
  const revisions: number[] = [];
  let token: string | undefined;
  do {
    const page = await store.list(prefix, { limit, continue: token });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    revisions.push(page.revision);
    token = page.continue;
  } while (token !== undefined);
  return { items, revisions };
}

/**
 * The conformance suite every {@link Store} implementation runs (like Kubernetes' storage tests):
 * CRUD and its errors, paging, MVCC reads, watches, compaction, concurrency, backup and restore, bad
 * input, and a property test against a model. Call it at the top level of a vitest file:
 *
 * ```ts
 * describeStoreContract('EtcdStore', { create: () => openTestEtcdStore(), restore: (file) => ... });
 * ```
 * @category Testing
 */
export function describeStoreContract(name: string, factory: StoreContractFactory): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const recorders: WatchRecorder[] = [];
    const extraStores: Store[] = [];
    const temporaryDirectories: string[] = [];

    const watch = (stream: Observable<StoreEvent>): WatchRecorder => {
      const recorder = new WatchRecorder(stream);
      recorders.push(recorder);
      return recorder;
    };
    const temporaryDirectory = async (): Promise<string> => {
      const directory = await mkdtemp(join(tmpdir(), 'cpkit-store-contract-'));
      temporaryDirectories.push(directory);
      return directory;
    };

    beforeEach(async () => {
      store = await factory.create();
    });

    afterEach(async () => {
      // Tests stop their own watches; anything still open here is a leak.
      const leaked = factory.openWatches?.(store) ?? 0;
      for (const recorder of recorders.splice(0)) recorder.stop();
      await store.close();
      for (const extra of extraStores.splice(0)) await extra.close();
      for (const directory of temporaryDirectories.splice(0))
        await rm(directory, { recursive: true, force: true });
      expect(leaked, 'watch subscriptions left open by the test').toBe(0);
    });

    it('create stores a key and a second create fails with AlreadyExists, changing nothing', async () => {
      const before = await store.currentRevision();
      const created = await store.create('/c/a', 'one');
      expect(created).toEqual({
        key: '/c/a',
        value: 'one',
        createRevision: before + 1,
        modRevision: before + 1,
      });
      await expectStatus(() => store.create('/c/a', 'two'), 'AlreadyExists', 409);
      expect(await store.currentRevision()).toBe(before + 1);
      expect(await store.get('/c/a')).toEqual(created);
    });

    it('create after a delete starts a new life of the key with a new createRevision', async () => {
      const first = await store.create('/c/b', 'one');
      await store.delete('/c/b');
      const second = await store.create('/c/b', 'two');
      expect(second.createRevision).toBe(first.createRevision + 2);
      expect(second.modRevision).toBe(second.createRevision);
    });

    it('get returns the stored entry and fails with NotFound for an absent key', async () => {
      await expectStatus(() => store.get('/g/missing'), 'NotFound', 404);
      const created = await store.create('/g/a', 'value');
      expect(await store.get('/g/a')).toEqual(created);
    });

    it('list returns only keys under the prefix, in key order', async () => {
      for (const key of ['/a/2', '/ab', '/a/1', '/a', '/a/b/c', '/b/1', '/a0']) await store.create(key, key);
      const listed = await store.list('/a/');
      expect(keysOf(listed.items)).toEqual(['/a/1', '/a/2', '/a/b/c']);
      expect(listed.items.every((entry) => entry.value === entry.key)).toBe(true);
      expect(listed.revision).toBe(await store.currentRevision());
      expect(listed.continue).toBeUndefined();
      expect((await store.list('/zz/')).items).toEqual([]);
    });

    it('limit + continue pages stay at the first page revision while writes continue', async () => {
      const keys = Array.from({ length: 10 }, (_, i) => `/p/${String(i).padStart(2, '0')}`);
      for (const key of keys) await store.create(key, `v-${key}`);
      const revision = await store.currentRevision();
      const first = await store.list('/p/', { limit: 4 });
      expect(first.items).toHaveLength(4);
      expect(first.revision).toBe(revision);
      expect(first.continue).toEqual(expect.any(String));

      const five = await store.get('/p/05');
      await store.update('/p/05', 'changed', five.modRevision);
      await store.delete('/p/06');
      await store.create('/p/055', 'new');
      await store.create('/p/99', 'new');

      const second = await store.list('/p/', { limit: 4, continue: first.continue });
      await store.delete('/p/09');
      const third = await store.list('/p/', { limit: 4, continue: second.continue });
      expect([second.revision, third.revision]).toEqual([revision, revision]);
      expect(third.continue).toBeUndefined();
      const all = [...first.items, ...second.items, ...third.items];
      expect(keysOf(all)).toEqual(keys);
      expect(all.every((entry) => entry.value === `v-${entry.key}`)).toBe(true);

      const now = await listAll(store, '/p/', 3);
      expect(keysOf(now.items)).toEqual([
        '/p/00',
        '/p/01',
        '/p/02',
        '/p/03',
        '/p/04',
        '/p/05',
        '/p/055',
        '/p/07',
        '/p/08',
        '/p/99',
      ]);
      expect(new Set(now.revisions).size).toBe(1);
    });

    it('get and list read the state at a requested revision', async () => {
      const a1 = await store.create('/r/a', 'v1');
      const a2 = await store.update('/r/a', 'v2', a1.modRevision);
      const b = await store.create('/r/b', 'b');
      const deleted = await store.delete('/r/a');
      const at = async (revision: number): Promise<[string, string][]> =>
        (await store.list('/r/', { revision })).items.map((entry) => [entry.key, entry.value]);
      expect(await at(a1.modRevision)).toEqual([['/r/a', 'v1']]);
      expect(await at(a2.modRevision)).toEqual([['/r/a', 'v2']]);
      expect(await at(b.modRevision)).toEqual([
        ['/r/a', 'v2'],
        ['/r/b', 'b'],
      ]);
      expect(await at(deleted.modRevision)).toEqual([['/r/b', 'b']]);
      expect((await store.list('/r/', { revision: a1.modRevision })).revision).toBe(a1.modRevision);
      expect(await store.get('/r/a', { revision: a1.modRevision })).toEqual(a1);
      expect(await store.get('/r/a', { revision: b.modRevision })).toEqual(a2);
      await expectStatus(() => store.get('/r/a', { revision: deleted.modRevision }), 'NotFound', 404);
    });

    it('update is a compare-and-swap: Conflict when stale, NotFound when absent', async () => {
      const created = await store.create('/u/a', 'v1');
      const updated = await store.update('/u/a', 'v2', created.modRevision);
      expect(updated).toEqual({
        key: '/u/a',
        value: 'v2',
        createRevision: created.createRevision,
        modRevision: created.modRevision + 1,
      });
      await expectStatus(() => store.update('/u/a', 'v3', created.modRevision), 'Conflict', 409);
      await expectStatus(() => store.update('/u/missing', 'v', 1), 'NotFound', 404);
      expect(await store.get('/u/a')).toEqual(updated);
      expect(await store.currentRevision()).toBe(updated.modRevision);
    });

    it('delete honours its precondition and returns the entry at the revision of the delete', async () => {
      const created = await store.create('/d/a', 'v1');
      await expectStatus(
        () => store.delete('/d/a', { expectedRevision: created.modRevision + 7 }),
        'Conflict',
        409,
      );
      expect(await store.get('/d/a')).toEqual(created);
      const deleted = await store.delete('/d/a', { expectedRevision: created.modRevision });
      expect(deleted).toEqual({ ...created, modRevision: created.modRevision + 1 });
      await expectStatus(() => store.get('/d/a'), 'NotFound', 404);
      await expectStatus(() => store.delete('/d/a'), 'NotFound', 404);
      expect(await store.currentRevision()).toBe(deleted.modRevision);
    });

    it('a watch from now sees later changes with their previous values, not earlier ones', async () => {
      await store.create('/w/before', 'x');
      const recorder = watch(store.watch('/w/'));
      const created = await store.create('/w/a', '1');
      const updated = await store.update('/w/a', '2', created.modRevision);
      const deleted = await store.delete('/w/a');
      const events = await recorder.waitFor(3);
      expect(events).toEqual([
        { type: 'create', key: '/w/a', revision: created.modRevision, value: '1' },
        {
          type: 'update',
          key: '/w/a',
          revision: updated.modRevision,
          value: '2',
          prevValue: '1',
          prevRevision: created.modRevision,
        },
        {
          type: 'delete',
          key: '/w/a',
          revision: deleted.modRevision,
          value: '2',
          prevValue: '2',
          prevRevision: updated.modRevision,
        },
      ]);
      recorder.stop();
    });

    it('a watch from an older revision replays history in order, then continues live', async () => {
      const start = await store.currentRevision();
      const a = await store.create('/h/a', 'a1');
      await store.update('/h/a', 'a2', a.modRevision);
      await store.create('/h/b', 'b1');
      await store.delete('/h/a');
      const all = watch(store.watch('/h/', { afterRevision: start }));
      const tail = watch(store.watch('/h/', { afterRevision: start + 2 }));
      const replayed = await all.waitFor(4);
      expect(
        replayed.map((event) => [event.type, event.key, event.revision, event.value, event.prevValue]),
      ).toEqual([
        ['create', '/h/a', start + 1, 'a1', undefined],
        ['update', '/h/a', start + 2, 'a2', 'a1'],
        ['create', '/h/b', start + 3, 'b1', undefined],
        ['delete', '/h/a', start + 4, 'a2', 'a2'],
      ]);
      await store.create('/h/c', 'c1');
      await all.waitFor(5);
      await tail.waitFor(3);
      expect(all.events[4]).toEqual({ type: 'create', key: '/h/c', revision: start + 5, value: 'c1' });
      expect(tail.events.map((event) => event.revision)).toEqual([start + 3, start + 4, start + 5]);
      all.stop();
      tail.stop();
    });

    it('a prefix watch sees only its prefix; a key watch only its key', async () => {
      const prefixed = watch(store.watch('/x/'));
      const single = watch(store.watch('/x/k', { prefix: false }));
      const k = await store.create('/x/k', '1');
      await store.create('/x/k2', '1');
      await store.create('/xy', '1');
      await store.create('/y/1', '1');
      await store.update('/x/k', '2', k.modRevision);
      await store.delete('/x/k');
      await prefixed.waitFor(4);
      await single.waitFor(3);
      expect(prefixed.events.map((event) => `${event.type} ${event.key}`)).toEqual([
        'create /x/k',
        'create /x/k2',
        'update /x/k',
        'delete /x/k',
      ]);
      expect(single.events.map((event) => `${event.type} ${event.key}`)).toEqual([
        'create /x/k',
        'update /x/k',
        'delete /x/k',
      ]);
      prefixed.stop();
      single.stop();
    });

    it('compaction makes older revisions Expired for get, list, continue and watch', async () => {
      const a1 = await store.create('/k/a', 'v1');
      const a2 = await store.update('/k/a', 'v2', a1.modRevision);
      await store.create('/k/b', 'b');
      const page = await store.list('/k/', { limit: 1 });
      const a3 = await store.update('/k/a', 'v3', a2.modRevision);
      await store.compact(a3.modRevision);

      expect(await store.compactedRevision()).toBe(a3.modRevision);
      await expectStatus(() => store.get('/k/a', { revision: a2.modRevision }), 'Expired', 410);
      await expectStatus(() => store.list('/k/', { revision: a1.modRevision }), 'Expired', 410);
      await expectStatus(() => store.list('/k/', { limit: 1, continue: page.continue }), 'Expired', 410);
      const watchError = await failure(() =>
        firstOf(() => store.watch('/k/', { afterRevision: a1.modRevision })),
      );
      expect({ reason: watchError.reason, code: watchError.code }).toEqual({ reason: 'Expired', code: 410 });

      // The compaction point itself and everything after it stay readable; current values stay.
      expect(await store.get('/k/a', { revision: a3.modRevision })).toEqual(a3);
      expect(keysOf((await store.list('/k/', { revision: a3.modRevision })).items)).toEqual(['/k/a', '/k/b']);
      const later = watch(store.watch('/k/', { afterRevision: a3.modRevision }));
      await store.delete('/k/b');
      expect((await later.waitFor(1))[0]).toMatchObject({
        type: 'delete',
        key: '/k/b',
        revision: a3.modRevision + 1,
      });
      later.stop();
    });

    it('every write advances one store-wide revision by exactly one; failed writes do not', async () => {
      let revision = await store.currentRevision();
      const next = async (write: Promise<StoreEntry>): Promise<void> => {
        const entry = await write;
        revision += 1;
        expect(entry.modRevision).toBe(revision);
        expect(await store.currentRevision()).toBe(revision);
      };
      await next(store.create('/s/a', '1'));
      await next(store.create('/t/b', '1'));
      await next(store.update('/s/a', '2', revision - 1));
      await expectStatus(() => store.update('/s/a', '3', 1), 'Conflict', 409);
      await expectStatus(() => store.create('/t/b', '1'), 'AlreadyExists', 409);
      await next(store.delete('/t/b'));
      await next(store.create('/u/c', '1'));
      expect(await store.currentRevision()).toBe(revision);
    });

    it('8 concurrent writers x 200 read-modify-CAS increments on one key end at exactly 1600', async () => {
      await store.create('/counter', '0');
      const increment = async (): Promise<void> => {
        for (;;) {
          const current = await store.get('/counter');
          try {
            await store.update('/counter', String(Number(current.value) + 1), current.modRevision);
            return;
          } catch (error) {
            if ((error as { reason?: string }).reason !== 'Conflict') throw error;
          }
        }
      };
      const writer = async (): Promise<void> => {
        for (let i = 0; i < 200; i++) await increment();
      };
      await Promise.all(Array.from({ length: 8 }, writer));
      expect((await store.get('/counter')).value).toBe('1600');
    }, 60_000);

    it('under concurrent writes every watcher gets every event exactly once, in revision order', async () => {
      const start = await store.currentRevision();
      const fromNow = watch(store.watch('/cw/'));
      const fromStart = watch(store.watch('/cw/', { afterRevision: start }));
      const writers = 4;
      const perWriter = 50;
      let late: WatchRecorder | undefined;
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; i < perWriter; i++) {
          const created = await store.create(`/cw/${w}/${i}`, 'a');
          await store.update(`/cw/${w}/${i}`, 'b', created.modRevision);
          if (w === 0 && i === perWriter / 2) late = watch(store.watch('/cw/', { afterRevision: start }));
        }
      };
      await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
      const total = writers * perWriter * 2;
      const expected = Array.from({ length: total }, (_, i) => start + 1 + i);
      for (const recorder of [fromNow, fromStart, late!]) {
        await recorder.waitFor(total);
        expect(recorder.events.map((event) => event.revision)).toEqual(expected);
      }
      fromNow.stop();
      fromStart.stop();
      late!.stop();
    }, 60_000);

    it('backup + restore round-trips every key with its createRevision and modRevision', async () => {
      for (let i = 0; i < 20; i++) await store.create(`/b/${i}`, `value-${i}`);
      for (let i = 0; i < 5; i++) {
        const entry = await store.get(`/b/${i}`);
        await store.update(entry.key, `updated-${i}`, entry.modRevision);
      }
      for (let i = 17; i < 20; i++) await store.delete(`/b/${i}`);
      await store.create('/other/key', 'other');
      const expected = (await store.list('/')).items;
      const path = join(await temporaryDirectory(), 'backup.db');
      const info = await store.backup(path);
      expect(info).toEqual({ revision: await store.currentRevision(), keys: 18, bytes: expect.any(Number) });
      expect(info.bytes).toBeGreaterThan(0);
      await store.create('/b/after-backup', 'not in the backup');

      const restored = await factory.restore(path);
      extraStores.push(restored);
      expect((await restored.list('/')).items).toEqual(expected);
      expect(await restored.currentRevision()).toBeGreaterThanOrEqual(info.revision);
      const next = await restored.create('/b/new', 'x');
      expect(next.modRevision).toBeGreaterThan(info.revision);
    });

    describe('bad input fails with BadRequest and writes nothing', () => {
      const long = `/${'k'.repeat(1024)}`;
      const cases: [string, (s: Store, existing: StoreEntry) => Promise<unknown>][] = [
        ['create: key without a leading slash', (s) => s.create('a', 'v')],
        ['create: empty key', (s) => s.create('', 'v')],
        ['create: key with NUL', (s) => s.create('/bad/a\0b', 'v')],
        ['create: key over 1024 characters', (s) => s.create(long, 'v')],
        ['create: non-string key', (s) => s.create(42 as never, 'v')],
        ['create: non-string value', (s) => s.create('/bad/v', { a: 1 } as never)],
        ['create: undefined value', (s) => s.create('/bad/v', undefined as never)],
        ['get: bad key', (s) => s.get('bad')],
        ['get: negative revision', (s) => s.get('/bad/existing', { revision: -1 })],
        ['get: non-integer revision', (s) => s.get('/bad/existing', { revision: 1.5 })],
        ['get: string revision', (s) => s.get('/bad/existing', { revision: '1' as never })],
        ['list: bad prefix', (s) => s.list('bad')],
        ['list: zero limit', (s) => s.list('/bad/', { limit: 0 })],
        ['list: negative limit', (s) => s.list('/bad/', { limit: -5 })],
        ['list: non-integer limit', (s) => s.list('/bad/', { limit: 2.5 })],
        ['list: NaN limit', (s) => s.list('/bad/', { limit: Number.NaN })],
        ['list: malformed continue token', (s) => s.list('/bad/', { continue: 'not-a-token' })],
        ['list: continue token of JSON garbage', (s) => s.list('/bad/', { continue: 'eyJ4IjoxfQ' })],
        ['list: negative revision', (s) => s.list('/bad/', { revision: -3 })],
        ['update: bad key', (s) => s.update('bad', 'v', 1)],
        ['update: non-string value', (s, e) => s.update(e.key, 7 as never, e.modRevision)],
        ['update: zero expectedRevision', (s, e) => s.update(e.key, 'v', 0)],
        ['update: non-integer expectedRevision', (s, e) => s.update(e.key, 'v', 1.5)],
        ['update: string expectedRevision', (s, e) => s.update(e.key, 'v', String(e.modRevision) as never)],
        ['delete: bad key', (s) => s.delete('bad')],
        ['delete: negative expectedRevision', (s, e) => s.delete(e.key, { expectedRevision: -1 })],
        ['compact: negative revision', (s) => s.compact(-1)],
        ['compact: non-integer revision', (s) => s.compact(0.5)],
        ['watch: bad key', (s) => firstOf(() => s.watch('bad'))],
        ['watch: negative afterRevision', (s, e) => firstOf(() => s.watch(e.key, { afterRevision: -1 }))],
        ['watch: non-integer afterRevision', (s, e) => firstOf(() => s.watch(e.key, { afterRevision: 1.5 }))],
      ];
      it.each(cases)('%s', async (_, call) => {
        const existing = await store.create('/bad/existing', 'v');
        const revision = await store.currentRevision();
        await expectStatus(() => call(store, existing), 'BadRequest', 400);
        expect(await store.currentRevision()).toBe(revision);
        expect((await store.list('/')).items).toEqual([existing]);
        expect(await store.compactedRevision()).toBeLessThan(existing.modRevision);
      });
    });

    it('unsubscribing a watch stops delivery and frees it', async () => {
      const recorder = watch(store.watch('/un/'));
      await store.create('/un/a', '1');
      await recorder.waitFor(1);
      recorder.stop();
      if (factory.openWatches) expect(factory.openWatches(store)).toBe(0);
      const witness = watch(store.watch('/un/'));
      await store.create('/un/b', '1');
      await witness.waitFor(1);
      expect(recorder.events.map((event) => event.key)).toEqual(['/un/a']);
      witness.stop();
    });

    it('close completes open watches and later calls fail', async () => {
      const own = await factory.create();
      const recorder = new WatchRecorder(own.watch('/'));
      await own.close();
      await until(() => recorder.completed || recorder.error !== undefined, 'the watch to end');
      expect(recorder.completed).toBe(true);
      expect((await failure(() => own.get('/any'))).name).toBe('StatusError');
      recorder.stop();
    });

    it('matches a simple model under random operation sequences (property)', async () => {
      const keys = ['/m/a', '/m/b', '/m/a/x', '/m/c', '/n/a'];
      const key = fc.constantFrom(...keys);
      const value = fc.string({ maxLength: 6 });
      const operation = fc.oneof(
        fc.record({ op: fc.constant('create' as const), key, value }),
        fc.record({ op: fc.constant('update' as const), key, value, stale: fc.boolean() }),
        fc.record({
          op: fc.constant('delete' as const),
          key,
          precondition: fc.constantFrom('none', 'right', 'wrong'),
        }),
        fc.record({ op: fc.constant('get' as const), key }),
        fc.record({
          op: fc.constant('list' as const),
          prefix: fc.constantFrom('/', '/m/', '/m/a', '/n/', '/z/'),
          limit: fc.integer({ min: 1, max: 4 }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { maxLength: 25 }), async (operations) => {
          const subject = await factory.create();
          try {
            const model = new Map<string, StoreEntry>();
            let revision = await subject.currentRevision();
            const expectReason = async (call: () => Promise<unknown>, reason: string): Promise<void> => {
              expect((await failure(call)).reason).toBe(reason);
            };
            for (const step of operations) {
              const current = 'key' in step ? model.get(step.key) : undefined;
              switch (step.op) {
                case 'create':
                  if (current)
                    await expectReason(() => subject.create(step.key, step.value), 'AlreadyExists');
                  else {
                    revision++;
                    const entry = {
                      key: step.key,
                      value: step.value,
                      createRevision: revision,
                      modRevision: revision,
                    };
                    expect(await subject.create(step.key, step.value)).toEqual(entry);
                    model.set(step.key, entry);
                  }
                  break;
                case 'update':
                  if (!current) await expectReason(() => subject.update(step.key, step.value, 1), 'NotFound');
                  else if (step.stale) {
                    await expectReason(
                      () => subject.update(step.key, step.value, current.modRevision + 1),
                      'Conflict',
                    );
                  } else {
                    revision++;
                    const entry = { ...current, value: step.value, modRevision: revision };
                    expect(await subject.update(step.key, step.value, current.modRevision)).toEqual(entry);
                    model.set(step.key, entry);
                  }
                  break;
                case 'delete': {
                  const expectedRevision =
                    step.precondition === 'none'
                      ? undefined
                      : (current?.modRevision ?? 1) + (step.precondition === 'wrong' ? 1 : 0);
                  const call = (): Promise<StoreEntry> =>
                    subject.delete(
                      step.key,
                      expectedRevision === undefined ? undefined : { expectedRevision },
                    );
                  if (!current) await expectReason(call, 'NotFound');
                  else if (step.precondition === 'wrong') await expectReason(call, 'Conflict');
                  else {
                    revision++;
                    expect(await call()).toEqual({ ...current, modRevision: revision });
                    model.delete(step.key);
                  }
                  break;
                }
                case 'get':
                  if (current) expect(await subject.get(step.key)).toEqual(current);
                  else await expectReason(() => subject.get(step.key), 'NotFound');
                  break;
                case 'list': {
                  const expected = [...model.values()]
                    .filter((entry) => entry.key.startsWith(step.prefix))
                    .sort((x, y) => (x.key < y.key ? -1 : 1));
                  const listed = await listAll(subject, step.prefix, step.limit);
                  expect(listed.items).toEqual(expected);
                  expect(listed.revisions.every((r) => r === revision)).toBe(true);
                  break;
                }
              }
              expect(await subject.currentRevision()).toBe(revision);
            }
          } finally {
            await subject.close();
          }
        }),
        { numRuns: 40 },
      );
    }, 120_000);
  });
}
