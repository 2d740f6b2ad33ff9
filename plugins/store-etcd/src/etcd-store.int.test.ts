// SPDX-License-Identifier: Apache-2.0
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Container, Store, type StoreEvent } from '@cpkit/core';
import {
  describeStoreContract,
  type EtcdCluster,
  startEtcdCluster,
  startEtcdFromSnapshot,
} from '@cpkit/core/testing';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type EtcdStore, etcdStoreModule, openEtcdStore } from './index.js';

// One etcd member for the whole file; every store gets a fresh random prefix so tests never see
// each other's keys (revisions are shared: each test reads them relative to its own start).
let etcd: EtcdCluster;
const clusters: EtcdCluster[] = [];
beforeAll(async () => {
  etcd = await startEtcdCluster({ name: 'store-etcd-contract' });
  clusters.push(etcd);
});
afterAll(async () => {
  for (const cluster of clusters.splice(0)) await cluster.stop();
});

let lastPrefix = '';
const openTestStore = (endpoints = etcd.endpoints, prefix = `/t-${randomUUID()}`): Promise<EtcdStore> => {
  lastPrefix = prefix;
  return openEtcdStore({ endpoints, prefix });
};

describeStoreContract('EtcdStore', {
  create: () => openTestStore(),
  // The suite restores right after backing up the store it created last: same prefix.
  restore: async (backupPath) => {
    const restored = await startEtcdFromSnapshot(backupPath);
    clusters.push(restored);
    return openEtcdStore({ endpoints: restored.endpoints, prefix: lastPrefix });
  },
  openWatches: (store) => (store as EtcdStore).watchCount,
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** What `operation` fails with (reason, code, message); fails the test when it succeeds. */
async function failure(
  operation: () => Promise<unknown>,
): Promise<{ reason?: string; code?: number; message: string }> {
  try {
    await operation();
  } catch (error) {
    const { reason, code, message } = error as { reason?: string; code?: number; message: string };
    return { reason, code, message };
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

/** Loopback ports nothing listens on (taken from the OS, then released). */
async function deadPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.push((server.address() as { port: number }).port);
    await new Promise((resolve) => server.close(resolve));
  }
  return ports;
}

describe('EtcdStore', () => {
  const stores: EtcdStore[] = [];
  const track = (store: EtcdStore): EtcdStore => {
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  it('fails to open with ServiceUnavailable naming every endpoint and the cause, within the dial timeout', async () => {
    const [a, b] = await deadPorts(2);
    const endpoints = [`127.0.0.1:${a}`, `http://127.0.0.1:${b}`];
    const started = Date.now();
    const error = await failure(() => openEtcdStore({ endpoints, dialTimeoutMs: 1_000 }));
    const elapsed = Date.now() - started;
    expect({ reason: error.reason, code: error.code }).toEqual({ reason: 'ServiceUnavailable', code: 503 });
    expect(error.message).toContain(`127.0.0.1:${a}`);
    expect(error.message).toContain(`127.0.0.1:${b}`);
    expect(error.message).toMatch(/within 1000 ms: .*(ECONNREFUSED|No connection established|connect)/);
    expect(elapsed).toBeLessThan(1_000 + 750);
  });

  const badOptions: [string, unknown, string][] = [
    ['no options', undefined, 'options'],
    ['no endpoints', { endpoints: [] }, 'endpoints'],
    ['endpoints not an array', { endpoints: '127.0.0.1:2379' }, 'endpoints'],
    ['endpoint without a port', { endpoints: ['127.0.0.1'] }, 'endpoints[0]'],
    ['endpoint with a bad scheme', { endpoints: ['127.0.0.1:1', 'ftp://127.0.0.1:2'] }, 'endpoints[1]'],
    ['endpoint port out of range', { endpoints: ['127.0.0.1:70000'] }, 'endpoints[0]'],
    ['mixed TLS and plain endpoints', { endpoints: ['http://a:1', 'https://b:2'] }, 'endpoints'],
    ['prefix without a leading slash', { endpoints: ['a:1'], prefix: 'cpkit' }, 'prefix'],
    ['prefix ending in a slash', { endpoints: ['a:1'], prefix: '/cpkit/' }, 'prefix'],
    ['zero dial timeout', { endpoints: ['a:1'], dialTimeoutMs: 0 }, 'dialTimeoutMs'],
    ['fractional request timeout', { endpoints: ['a:1'], requestTimeoutMs: 1.5 }, 'requestTimeoutMs'],
    ['unreadable CA file', { endpoints: ['a:1'], tls: { ca: '/nonexistent/ca.pem' } }, 'tls.ca'],
    ['client cert without key', { endpoints: ['a:1'], tls: { cert: '/etc/hostname' } }, 'tls.key'],
    ['empty username', { endpoints: ['a:1'], auth: { username: '', password: 'x' } }, 'auth.username'],
    ['missing password', { endpoints: ['a:1'], auth: { username: 'root' } }, 'auth.password'],
  ];
  it.each(badOptions)(
    'rejects bad options with BadRequest naming the option: %s',
    async (_, options, field) => {
      const started = Date.now();
      const error = (await failure(() => openEtcdStore(options as never))) as {
        reason?: string;
        message: string;
      };
      expect(error.reason).toBe('BadRequest');
      expect(error.message).toContain(`invalid ${field} `);
      expect(Date.now() - started).toBeLessThan(500); // no connection attempt
    },
  );

  it('etcdStoreModule binds the Store role to the opened store', async () => {
    const store = track(await openTestStore());
    const container = new Container();
    container.load(etcdStoreModule(store));
    expect(container.get<Store>(Store)).toBe(store);
  });

  it('keeps keys under its prefix: two prefixes on one etcd do not see each other', async () => {
    const one = track(await openTestStore());
    const two = track(await openTestStore());
    await one.create('/shared/a', 'one');
    await two.create('/shared/a', 'two');
    expect((await one.list('/')).items.map((entry) => entry.value)).toEqual(['one']);
    expect((await two.get('/shared/a')).value).toBe('two');
  });

  it('reports remainingItemCount on a limited list', async () => {
    const store = track(await openTestStore());
    for (let i = 0; i < 5; i++) await store.create(`/r/${i}`, 'x');
    const page = await store.list('/r/', { limit: 2 });
    expect(page.remainingItemCount).toBe(3);
  });

  it('another client finds the compaction point without a hint; a watch "from now" starts past a newer compaction', async () => {
    const idle = track(await openTestStore());
    const busy = track(await openTestStore());
    for (let i = 0; i < 5; i++) await busy.create(`/c/${i}`, 'x');
    const point = await busy.currentRevision();
    await busy.compact(point);
    const fresh = track(await openTestStore());
    expect(await fresh.compactedRevision()).toBe(point);
    // idle last saw a revision older than the compaction: its "from now" watch must not fail.
    const events: StoreEvent[] = [];
    let watchError: unknown;
    const subscription = idle.watch('/').subscribe({
      next: (event) => events.push(event),
      error: (error) => {
        watchError = error;
      },
    });
    try {
      await sleep(300);
      const created = await idle.create('/after', 'x');
      await until(() => events.length > 0 || watchError !== undefined, 'the event after the compaction');
      expect(watchError).toBeUndefined();
      expect(events).toEqual([{ type: 'create', key: '/after', revision: created.modRevision, value: 'x' }]);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('survives etcd stopping mid-run: typed errors, no unhandled rejection, recovery after restart, watch resumes without loss or repeat', async () => {
    const own = await startEtcdCluster({ name: 'store-etcd-outage' });
    clusters.push(own);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    let subscription: Subscription | undefined;
    try {
      const store = track(
        await openEtcdStore({
          endpoints: own.endpoints,
          prefix: '/outage',
          requestTimeoutMs: 2_000,
          dialTimeoutMs: 2_000,
        }),
      );
      const events: StoreEvent[] = [];
      let watchError: unknown;
      subscription = store.watch('/w/').subscribe({
        next: (event) => events.push(event),
        error: (error) => {
          watchError = error;
        },
      });
      for (let i = 0; i < 5; i++) await store.create(`/w/${i}`, 'before');
      await until(() => events.length === 5, '5 events before the outage');

      await own.members[0].stop();
      for (const operation of [
        () => store.get('/w/0'),
        () => store.create('/w/x', 'during'),
        () => store.list('/w/'),
        () => store.currentRevision(),
      ]) {
        const started = Date.now();
        const error = await failure(operation);
        expect(['ServiceUnavailable', 'Timeout']).toContain(error.reason);
        expect(Date.now() - started).toBeLessThan(2_000 + 1_000);
      }

      await own.members[0].restart();
      const deadline = Date.now() + 10_000;
      let recovered = false;
      while (!recovered && Date.now() < deadline) {
        recovered = await store.get('/w/0').then(
          () => true,
          () => sleep(100).then(() => false),
        );
      }
      expect(recovered).toBe(true);
      for (let i = 5; i < 10; i++) await store.create(`/w/${i}`, 'after');
      await until(() => events.length >= 10, '10 events after the restart');
      await sleep(200);
      expect(watchError).toBeUndefined();
      expect(events.map((event) => event.key)).toEqual(Array.from({ length: 10 }, (_, i) => `/w/${i}`));
      const revisions = events.map((event) => event.revision);
      expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
      await sleep(100); // let any stray rejection surface
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      subscription?.unsubscribe();
      process.off('unhandledRejection', unhandled);
    }
  }, 60_000);

  it('connects over TLS with a client certificate; without the client certificate it cannot', async () => {
    const secure = await startEtcdCluster({ name: 'store-etcd-tls', tls: true });
    clusters.push(secure);
    const tls = secure.tls!;
    const store = track(await openEtcdStore({ endpoints: secure.endpoints, prefix: '/tls', tls }));
    const created = await store.create('/k', 'v');
    expect(await store.get('/k')).toEqual(created);
    const error = await failure(() =>
      openEtcdStore({ endpoints: secure.endpoints, tls: { ca: tls.ca }, dialTimeoutMs: 1_000 }),
    );
    expect(error.reason).toBe('ServiceUnavailable');
  }, 60_000);

  it('authenticates with username and password; a wrong password is Unauthorized', async () => {
    const guarded = await startEtcdCluster({ name: 'store-etcd-auth' });
    clusters.push(guarded);
    await guarded.etcdctl(['user', 'add', 'root:pw']);
    await guarded.etcdctl(['auth', 'enable']);
    const store = track(
      await openEtcdStore({
        endpoints: guarded.endpoints,
        prefix: '/auth',
        auth: { username: 'root', password: 'pw' },
      }),
    );
    const created = await store.create('/k', 'v');
    expect((await store.list('/')).items).toEqual([created]);
    const wrong = await failure(() =>
      openEtcdStore({
        endpoints: guarded.endpoints,
        auth: { username: 'root', password: 'nope' },
        dialTimeoutMs: 2_000,
      }),
    );
    expect({ reason: wrong.reason, code: wrong.code }).toEqual({ reason: 'Unauthorized', code: 401 });
    const anonymous = await failure(() =>
      openEtcdStore({ endpoints: guarded.endpoints, dialTimeoutMs: 2_000 }),
    );
    expect({ reason: anonymous.reason, message: anonymous.message }).toEqual({
      reason: 'Unauthorized',
      message: expect.stringContaining('user name is empty'),
    });
  }, 60_000);
});
