// SPDX-License-Identifier: Apache-2.0
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../contracts/api-client.js';
import { errors, isStatusError } from '../errors/status-error.js';
import { FakeApiClient } from '../informers/fake-api-client.test-helper.js';
import { FakeClock } from '../testing/fake-clock.js';
import { LeaderElector, type LeaderElectorOptions, leaseKind } from './leader-elector.js';
import { formatMicroTime, parseMicroTime } from './micro-time.js';

/** Delegates to the shared fake API until cut off, as a network partition would. */
function partitionable(client: ApiClient): { client: ApiClient; cut: (on: boolean) => void } {
  let partitioned = false;
  const proxy = new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (partitioned) return Promise.reject(errors.serviceUnavailable('connection refused'));
        return value.apply(target, args);
      };
    },
  });
  return { client: proxy, cut: (on) => (partitioned = on) };
}

interface Candidate {
  elector: LeaderElector;
  log: string[];
  abort: AbortController;
  cut: (on: boolean) => void;
}

const running: Candidate[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) {
    c.abort.abort();
    await c.elector.stopped();
  }
});

function candidate(
  api: FakeApiClient,
  clock: FakeClock,
  identity: string,
  extra: Partial<LeaderElectorOptions> = {},
): Candidate {
  const { client, cut } = partitionable(api);
  const log: string[] = [];
  const elector = new LeaderElector({
    client,
    clock,
    identity,
    leaseName: 'controller-manager',
    leaseNamespace: 'kube-system',
    jitterFactor: 0,
    callbacks: {
      onStartedLeading: () => {
        log.push(`started@${clock.now()}`);
      },
      onStoppedLeading: () => log.push(`stopped@${clock.now()}`),
    },
    ...extra,
  });
  const c = { elector, log, abort: new AbortController(), cut };
  running.push(c);
  return c;
}

const lease = (api: FakeApiClient): Promise<Lease & KubeObject> =>
  api.get<Lease & KubeObject>(leaseKind, 'controller-manager', { namespace: 'kube-system' });

/** Advances in small steps, failing if both candidates ever lead at once. */
async function advanceChecking(clock: FakeClock, ms: number, candidates: Candidate[]): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    await clock.advance(100);
    expect(candidates.filter((c) => c.elector.isLeader()).length).toBeLessThanOrEqual(1);
  }
}

describe('LeaderElector', () => {
  it('the first candidate creates the lease with upstream defaults and MicroTime stamps', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0, 250));
    const a = candidate(api, clock, 'a');
    await a.elector.start(a.abort.signal);
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    const spec = (await lease(api)).spec!;
    expect(spec).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-01T12:00:00.250000Z',
      renewTime: '2026-01-01T12:00:00.250000Z',
      leaseTransitions: 0,
    });
    await clock.advance(2000);
    const renewed = (await lease(api)).spec!;
    expect(renewed.renewTime).toBe('2026-01-01T12:00:02.250000Z');
    expect(renewed.acquireTime).toBe(spec.acquireTime);
  });

  it('two candidates started together never both lead', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock();
    const a = candidate(api, clock, 'a');
    const b = candidate(api, clock, 'b');
    await Promise.all([a.elector.start(a.abort.signal), b.elector.start(b.abort.signal)]);
    await advanceChecking(clock, 60_000, [a, b]);
    expect([a, b].filter((c) => c.elector.isLeader())).toHaveLength(1);
    expect(a.elector.getLeader()).toBe(b.elector.getLeader());
  });

  it('a standby takes over after the lease expires when the leader stops renewing', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock(0);
    const a = candidate(api, clock, 'a');
    const b = candidate(api, clock, 'b');
    await a.elector.start(a.abort.signal);
    await clock.advance(0);
    await b.elector.start(b.abort.signal);
    await advanceChecking(clock, 10_000, [a, b]);
    expect(a.elector.isLeader()).toBe(true);
    const lastRenew = parseMicroTime((await lease(api)).spec!.renewTime)!;
    a.cut(true);
    await advanceChecking(clock, 20_000, [a, b]);
    expect(a.elector.isLeader()).toBe(false);
    expect(b.elector.isLeader()).toBe(true);
    const stoppedAt = Number(a.log.find((l) => l.startsWith('stopped'))!.split('@')[1]);
    const startedAt = Number(b.log.find((l) => l.startsWith('started'))!.split('@')[1]);
    // A steps down once it could not renew for renewDeadline (10 s), before its lease (15 s) can expire.
    expect(stoppedAt - lastRenew).toBeGreaterThanOrEqual(10_000);
    expect(stoppedAt - lastRenew).toBeLessThan(15_000);
    // B waits the full lease duration from when it last saw the lease change, then one retry period at most.
    expect(startedAt - lastRenew).toBeGreaterThanOrEqual(15_000);
    expect(startedAt - lastRenew).toBeLessThanOrEqual(17_000);
    const spec = (await lease(api)).spec!;
    expect(spec.holderIdentity).toBe('b');
    expect(spec.leaseTransitions).toBe(1);
    // A, reconnected, sees B's valid lease and stays a candidate.
    a.cut(false);
    await advanceChecking(clock, 10_000, [a, b]);
    expect(b.elector.isLeader()).toBe(true);
  });

  it('releases on stop so a standby takes over at its next retry, without waiting for expiry', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock(0);
    const events: string[] = [];
    const a = candidate(api, clock, 'a');
    const b = candidate(api, clock, 'b');
    b.elector.events$.subscribe((e) =>
      events.push(e.type === 'new-leader' ? `new-leader:${e.identity}` : e.type),
    );
    await a.elector.start(a.abort.signal);
    await clock.advance(0);
    await b.elector.start(b.abort.signal);
    await advanceChecking(clock, 5_000, [a, b]);
    const stopAt = clock.now();
    a.abort.abort();
    await a.elector.stopped();
    const released = (await lease(api)).spec!;
    expect(released.holderIdentity).toBe('');
    expect(released.leaseDurationSeconds).toBe(1);
    await advanceChecking(clock, 2_000, [a, b]);
    expect(b.elector.isLeader()).toBe(true);
    expect(clock.now() - stopAt).toBeLessThanOrEqual(2_000);
    expect(events).toEqual(['new-leader:a', 'new-leader:', 'new-leader:b', 'started-leading']);
    expect((await lease(api)).spec!.leaseTransitions).toBe(1);
  });

  it('releases a lease it acquired while being stopped (stop races with the first acquire)', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock(0);
    // Hold the lease create until the stop has been requested.
    let letCreateFinish: () => void = () => {};
    const createGate = new Promise<void>((resolve) => {
      letCreateFinish = resolve;
    });
    const slow = new Proxy(api, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'create' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          await createGate;
          return value.apply(target, args);
        };
      },
    }) as FakeApiClient;
    const a = candidate(slow, clock, 'a');
    await a.elector.start(a.abort.signal);
    await clock.advance(0);
    a.abort.abort();
    letCreateFinish();
    await a.elector.stopped();
    expect(a.elector.isLeader()).toBe(false);
    expect((await lease(api)).spec?.holderIdentity).toBe('');
  });

  it('without releaseOnCancel the standby waits for the lease to expire', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock(0);
    const a = candidate(api, clock, 'a', { releaseOnCancel: false });
    const b = candidate(api, clock, 'b');
    await a.elector.start(a.abort.signal);
    await clock.advance(0);
    await b.elector.start(b.abort.signal);
    await clock.advance(1000);
    a.abort.abort();
    await a.elector.stopped();
    await clock.advance(10_000);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(8_000);
    expect(b.elector.isLeader()).toBe(true);
  });

  it('aborts the leading signal and awaits leader work before releasing', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock(0);
    const order: string[] = [];
    const a = candidate(api, clock, 'a', {
      callbacks: {
        onStartedLeading: (signal) =>
          new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => {
              void Promise.resolve().then(async () => {
                order.push(`work stopped, holder=${(await lease(api)).spec!.holderIdentity}`);
                resolve();
              });
            }),
          ),
        onStoppedLeading: () => order.push('stopped-leading'),
      },
    });
    await a.elector.start(a.abort.signal);
    await clock.advance(0);
    a.abort.abort();
    await a.elector.stopped();
    expect(order).toEqual(['work stopped, holder=a', 'stopped-leading']);
    expect((await lease(api)).spec!.holderIdentity).toBe('');
  });

  it.each([
    [{ identity: '' }, ['identity']],
    [{ leaseDurationMs: 10_000 }, ['leaseDurationMs']],
    [{ renewDeadlineMs: 2_000 }, ['renewDeadlineMs']],
    [{ retryPeriodMs: 0 }, ['retryPeriodMs']],
    [{ leaseName: '', retryPeriodMs: -1 }, ['leaseName', 'retryPeriodMs']],
  ])('rejects %o naming %o', (bad, fields) => {
    let thrown: unknown;
    try {
      new LeaderElector({
        client: new FakeApiClient(),
        leaseName: 'l',
        leaseNamespace: 'ns',
        identity: 'x',
        ...bad,
      });
    } catch (error) {
      thrown = error;
    }
    expect(isStatusError(thrown, 'Invalid')).toBe(true);
    const causes = (thrown as { details: { causes: Array<{ field: string }> } }).details.causes;
    expect(causes.map((c) => c.field)).toEqual(fields);
  });
});

describe('MicroTime', () => {
  it.each([
    [0, '1970-01-01T00:00:00.000000Z'],
    [Date.UTC(2026, 10, 22, 18, 30, 5, 7), '2026-11-22T18:30:05.007000Z'],
  ])('formats %d as %s and parses it back', (ms, text) => {
    expect(formatMicroTime(ms)).toBe(text);
    expect(parseMicroTime(text)).toBe(ms);
  });

  it('parses absent or garbage as undefined', () => {
    expect(parseMicroTime(undefined)).toBeUndefined();
    expect(parseMicroTime('yesterday')).toBeUndefined();
  });
});
