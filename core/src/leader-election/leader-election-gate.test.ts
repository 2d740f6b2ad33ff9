// SPDX-License-Identifier: Apache-2.0

import { Container } from 'inversify';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaderElectionGate } from '../builder/leader-election-gate.js';
import { Clock } from '../clock/clock.js';
import { ApiClient } from '../contracts/api-client.js';
import { Runnable } from '../contracts/runnable.js';
import { FakeApiClient } from '../informers/fake-api-client.test-helper.js';
import { FakeClock } from '../testing/fake-clock.js';
import { leaderElectionModule } from './leader-election-module.js';
import { LeaderElector, leaseKind } from './leader-elector.js';

const aborts: Array<{ abort: AbortController; elector: LeaderElector }> = [];
afterEach(async () => {
  for (const { abort, elector } of aborts.splice(0)) {
    abort.abort();
    await elector.stopped();
  }
});

function elector(
  api: FakeApiClient,
  clock: FakeClock,
  identity = 'a',
): { elector: LeaderElector; abort: AbortController } {
  const e = new LeaderElector({
    client: api,
    clock,
    identity,
    leaseName: 'l',
    leaseNamespace: 'ns',
    jitterFactor: 0,
  });
  const entry = { elector: e, abort: new AbortController() };
  aborts.push(entry);
  return entry;
}

const holder = async (api: FakeApiClient): Promise<string | undefined> =>
  (await api.get<Lease>(leaseKind, 'l', { namespace: 'ns' })).spec?.holderIdentity;

describe('LeaderElector as LeaderElectionGate', () => {
  it('starts registered work on election and stops it (before releasing) on shutdown', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock();
    const { elector: e, abort } = elector(api, clock);
    const log: string[] = [];
    await e.whenLeader(
      async () => {
        log.push('start 1');
      },
      async () => {
        log.push(`stop 1 (holder ${await holder(api)})`);
      },
    );
    await e.whenLeader(
      async () => {
        log.push('start 2');
      },
      async () => {
        log.push('stop 2');
      },
    );
    expect(log).toEqual([]);
    await e.start(abort.signal);
    await clock.advance(0);
    expect(log).toEqual(['start 1', 'start 2']);
    abort.abort();
    await e.stopped();
    expect(log).toEqual(['start 1', 'start 2', 'stop 2', 'stop 1 (holder a)']);
    expect(await holder(api)).toBe('');
  });

  it('starts work at once when already leading, rejects when that start fails, and dispose stops it', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock();
    const { elector: e, abort } = elector(api, clock);
    await e.start(abort.signal);
    await clock.advance(0);
    const log: string[] = [];
    const registration = await e.whenLeader(
      async () => {
        log.push('start');
      },
      async () => {
        log.push('stop');
      },
    );
    expect(log).toEqual(['start']);
    await expect(
      e.whenLeader(
        () => Promise.reject(new Error('cannot start')),
        async () => {},
      ),
    ).rejects.toThrow('cannot start');
    await registration.dispose();
    await registration.dispose();
    expect(log).toEqual(['start', 'stop']);
  });

  it('stops work when leadership is lost', async () => {
    const api = new FakeApiClient();
    const clock = new FakeClock();
    const { elector: e, abort } = elector(api, clock);
    const log: string[] = [];
    await e.whenLeader(
      async () => {
        log.push('start');
      },
      async () => {
        log.push('stop');
      },
    );
    await e.start(abort.signal);
    await clock.advance(0);
    api.updateError = new Error('api unreachable');
    await clock.advance(12_000);
    expect(e.isLeader()).toBe(false);
    expect(log).toEqual(['start', 'stop']);
  });

  it('leaderElectionModule binds one elector as the gate and a runnable', () => {
    const container = new Container();
    container.bind(ApiClient).toConstantValue(new FakeApiClient());
    container.bind(Clock).toConstantValue(new FakeClock());
    container.load(leaderElectionModule({ identity: 'x', leaseName: 'cp', leaseNamespace: 'kube-system' }));
    const gate = container.get(LeaderElectionGate);
    expect(gate).toBeInstanceOf(LeaderElector);
    expect(container.get(LeaderElector)).toBe(gate);
    expect(container.getAll(Runnable)).toEqual([gate]);
    expect((gate as LeaderElector).name).toBe('leader-election/kube-system/cp');
  });
});
