// SPDX-License-Identifier: Apache-2.0
// Fault tests against a real three-member etcd cluster: kill -9 the leader under concurrent
// compare-and-swap writers and under open watches, and restart the killed member.
import type { StoreEvent } from '@cpkit/core';
import { type EtcdCluster, type EtcdMember, startEtcdCluster } from '@cpkit/core/testing';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EtcdStore, openEtcdStore } from './index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const reasonOf = (error: unknown): string | undefined => (error as { reason?: string }).reason;
/** The backend could not be reached or did not answer: a write may or may not have been applied. */
const isTransient = (error: unknown): boolean =>
  ['ServiceUnavailable', 'Timeout'].includes(reasonOf(error) ?? '');

/** Calls `operation` until it does not fail with a transient error (reads only: they have no effect). */
async function retrying<T>(operation: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error) || Date.now() > deadline) throw error;
      await sleep(20);
    }
  }
}

/**
 * Creates `key`, retrying transient failures. A transient failure may hide an applied create, so
 * `AlreadyExists` on a retry counts as created.
 */
async function createRetrying(store: EtcdStore, key: string, value: string): Promise<void> {
  let retried = false;
  for (;;) {
    try {
      await store.create(key, value);
      return;
    } catch (error) {
      if (retried && reasonOf(error) === 'AlreadyExists') return;
      if (!isTransient(error)) throw error;
      retried = true;
      await sleep(20);
    }
  }
}

/** The number of watchers each member serves, from its Prometheus metrics. */
async function watchersOn(member: EtcdMember): Promise<number> {
  if (!member.running) return 0;
  const text = await (await fetch(`${member.clientUrl}/metrics`)).text();
  const match = /^etcd_debugging_mvcc_watcher_total (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

/** Leader kills in the compare-and-swap test; each adds writes of unknown outcome to check. */
const killRounds = 3;

let etcd: EtcdCluster;
const stores: EtcdStore[] = [];

/** A store on every member, with short timeouts so a dead member is noticed quickly. */
async function openStore(endpoints: string[] = etcd.endpoints): Promise<EtcdStore> {
  const store = await openEtcdStore({ endpoints, dialTimeoutMs: 2_000, requestTimeoutMs: 2_000 });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  etcd = await startEtcdCluster({ members: 3, name: 'store-faults' });
}, 60_000);

afterAll(async () => {
  await etcd?.stop();
});

beforeEach(async () => {
  // Each test starts from a whole cluster: restart whatever the previous test left down.
  for (const member of etcd.members) if (!member.running) await member.restart();
  await etcd.leader();
}, 60_000);

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

describe('EtcdStore on a three-member cluster', () => {
  it('kill -9 of the leader under 4 CAS writers loses no acknowledged increment', async () => {
    const store = await openStore();
    const key = '/faults/counter';
    const created = await store.create(key, '0');

    // Each writer reads the counter and writes value + 1 at the revision it read, retrying on
    // Conflict (someone else went first: nothing was written) and on ServiceUnavailable/Timeout.
    // A transient failure of the update itself is ambiguous: etcd may have applied it and only the
    // answer was lost. Hence the invariant checked below:
    //   acknowledged <= final value <= acknowledged + ambiguous,
    // every acknowledged (revision, value) is in the key's history, and the history is exactly
    // 0, 1, 2, ..., final (no lost update, no increment applied twice).
    let stop = false;
    let acknowledged = 0;
    let ambiguous = 0;
    let acknowledgedAfterKill = 0;
    let killed = false;
    const acks: { revision: number; value: number }[] = [];
    const unexpected: unknown[] = [];
    const writer = async (): Promise<void> => {
      while (!stop) {
        try {
          const current = await store.get(key);
          const next = Number(current.value) + 1;
          try {
            const written = await store.update(key, String(next), current.modRevision);
            acknowledged++;
            if (killed) acknowledgedAfterKill++;
            acks.push({ revision: written.modRevision, value: next });
          } catch (error) {
            if (isTransient(error)) ambiguous++;
            throw error;
          }
        } catch (error) {
          if (reasonOf(error) === 'Conflict') continue;
          if (isTransient(error)) {
            await sleep(10);
            continue;
          }
          unexpected.push(error);
          return;
        }
      }
    };
    const writers = Array.from({ length: 4 }, () => writer());

    await until(() => acknowledged >= 50 || unexpected.length > 0, '50 increments before the kill');
    const atKill = acknowledged;
    // Rounds of: kill -9 the leader, keep writing through the two survivors, bring it back. Each
    // kill catches writes in flight on the leader and proposals forwarded to it by the followers.
    for (let round = 0; round < killRounds; round++) {
      const leader = await etcd.leader();
      await leader.kill();
      killed = true;
      const before = acknowledgedAfterKill;
      // The client must keep writing through the two surviving members.
      await until(
        () => acknowledgedAfterKill >= before + 100 || unexpected.length > 0,
        `100 increments after kill ${round + 1}`,
        30_000,
      );
      if (round < killRounds - 1) await leader.restart();
    }
    stop = true;
    await Promise.all(writers);
    expect(unexpected).toEqual([]);

    const final = await retrying(() => store.get(key));
    const value = Number(final.value);
    expect(atKill).toBeGreaterThanOrEqual(50);
    expect(value).toBeGreaterThanOrEqual(acknowledged);
    expect(value).toBeLessThanOrEqual(acknowledged + ambiguous);

    // The key's whole history from its creation, through a watch that replays it.
    const history: StoreEvent[] = [];
    const subscription = store.watch(key, { prefix: false, afterRevision: created.modRevision }).subscribe({
      next: (event) => history.push(event),
    });
    try {
      await until(() => history.at(-1)?.revision === final.modRevision, 'the replayed history');
    } finally {
      subscription.unsubscribe();
    }
    expect(history.map((event) => Number(event.value))).toEqual(
      Array.from({ length: value }, (_, i) => i + 1),
    );
    const valueAt = new Map(history.map((event) => [event.revision, Number(event.value)]));
    for (const ack of acks) expect(valueAt.get(ack.revision)).toBe(ack.value);
  }, 90_000);

  it('a watch open across the leader kill gets every event exactly once, in revision order', async () => {
    const writerStore = await openStore();
    const start = await retrying(() => writerStore.currentRevision());

    // etcd3 multiplexes the watches of one client on one stream to one member, picked at random.
    // Open watches on separate stores until at least one sits on the leader (its stream breaks
    // and must resume) and one on a follower (its stream survives the election).
    const leader = await etcd.leader();
    const watches: {
      events: StoreEvent[];
      errors: unknown[];
      onLeader: boolean;
      subscription: Subscription;
    }[] = [];
    for (let attempt = 0; attempt < 40; attempt++) {
      if (watches.some((w) => w.onLeader) && watches.some((w) => !w.onLeader)) break;
      const before = await Promise.all(etcd.members.map(watchersOn));
      const store = await openStore();
      const events: StoreEvent[] = [];
      const errors: unknown[] = [];
      const subscription = store.watch('/faults/watched/', { afterRevision: start }).subscribe({
        next: (event) => events.push(event),
        error: (error: unknown) => errors.push(error),
      });
      let placed: number | undefined;
      const deadline = Date.now() + 5_000;
      while (placed === undefined && Date.now() < deadline) {
        const after = await Promise.all(etcd.members.map(watchersOn));
        const grew = after.findIndex((count, i) => count > before[i]);
        if (grew >= 0) placed = grew;
        else await sleep(20);
      }
      if (placed === undefined) throw new Error('a watch did not show up in any member metrics');
      watches.push({ events, errors, subscription, onLeader: etcd.members[placed] === leader });
    }
    expect(watches.some((w) => w.onLeader) && watches.some((w) => !w.onLeader)).toBe(true);

    // One writer creates keys in sequence across the kill. A transient failure is ambiguous: the
    // retry then finds AlreadyExists when the first attempt was applied, which counts as written.
    const written = new Map<string, number>();
    const unexpected: unknown[] = [];
    let stop = false;
    let next = 0;
    const writer = (async (): Promise<void> => {
      while (!stop) {
        const key = `/faults/watched/${String(next).padStart(6, '0')}`;
        try {
          written.set(key, (await writerStore.create(key, `v${next}`)).modRevision);
          next++;
        } catch (error) {
          if (reasonOf(error) === 'AlreadyExists') next++;
          else if (isTransient(error)) await sleep(10);
          else {
            unexpected.push(error);
            return;
          }
        }
      }
    })();
    await until(() => written.size >= 30, '30 writes before the kill');
    await leader.kill();
    const atKill = written.size;
    await until(
      () => written.size >= atKill + 60 || unexpected.length > 0,
      '60 writes after the kill',
      30_000,
    );
    stop = true;
    await writer;
    expect(unexpected).toEqual([]);

    const listed = await retrying(() => writerStore.list('/faults/watched/'));
    const expected = listed.items.map((item) => ({ key: item.key, revision: item.modRevision }));
    expect(expected.length).toBeGreaterThanOrEqual(written.size);
    for (const [key, revision] of written) expect(expected).toContainEqual({ key, revision });
    const lastRevision = Math.max(...expected.map((item) => item.revision));

    for (const watch of watches) {
      await until(
        () => (watch.events.at(-1)?.revision ?? 0) >= lastRevision || watch.errors.length > 0,
        `a watch (on the leader: ${watch.onLeader}) to reach revision ${lastRevision}`,
      );
      expect(watch.errors).toEqual([]);
      // Exactly the creates the final list shows, each once, in revision order.
      expect(
        watch.events.map((event) => ({ key: event.key, revision: event.revision, type: event.type })),
      ).toEqual(expected.map((item) => ({ ...item, type: 'create' })));
      watch.subscription.unsubscribe();
    }
  }, 120_000);

  it('a restarted member rejoins and the store serves through it', async () => {
    const store = await openStore();
    const victim = await etcd.leader();
    await victim.kill();
    // Written while the victim is down: it must catch up on these after the restart.
    for (let i = 0; i < 20; i++) await createRetrying(store, `/faults/rejoin/${i}`, `v${i}`);
    await victim.restart();

    // A store whose only endpoint is the restarted member reads what it missed and writes.
    const direct = await openStore([victim.clientUrl]);
    const missed = await retrying(() => direct.list('/faults/rejoin/'));
    expect(missed.items.map((item) => item.value)).toEqual(
      Array.from({ length: 20 }, (_, i) => `v${i}`).sort(),
    );
    await createRetrying(direct, '/faults/rejoin/direct', 'through the restarted member');

    // The quorum now needs the restarted member: stop another one and the store still writes.
    const other = etcd.members.find((member) => member !== victim && member.running);
    if (!other) throw new Error('no other running member');
    await other.stop();
    await createRetrying(store, '/faults/rejoin/after', 'with the restarted member in the quorum');
    expect((await retrying(() => direct.get('/faults/rejoin/after'))).value).toBe(
      'with the restarted member in the quorum',
    );
  }, 90_000);
});
