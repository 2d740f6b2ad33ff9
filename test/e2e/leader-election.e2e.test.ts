// SPDX-License-Identifier: Apache-2.0
// End to end: two control planes on one store elect a leader through a real coordination.k8s.io/v1
// Lease; only the leader runs the work that needs leader election, and a leader that stops releases
// the lease so the other takes over at once instead of waiting for it to expire.
import {
  ContainerModule,
  LeaderElector,
  type Lease,
  leaderElectionModule,
  leaseKind,
  Runnable,
} from '@cpkit/core';
import { startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';

const lease = { leaseName: 'e2e-controllers', leaseNamespace: 'kube-system' };
const timings = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

/** What every candidate's work reports into: who runs now, and the most that ever ran at once. */
class Tracker {
  active = 0;
  maxActive = 0;
  readonly log: string[] = [];
}

/** Work that must run on one control plane at a time. */
class SingletonWork implements Runnable {
  readonly name = 'singleton-work';
  readonly needsLeaderElection = true;
  running = false;

  constructor(
    private readonly identity: string,
    private readonly tracker: Tracker,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    this.running = true;
    this.tracker.active++;
    this.tracker.maxActive = Math.max(this.tracker.maxActive, this.tracker.active);
    this.tracker.log.push(`${this.identity} started`);
    signal.addEventListener(
      'abort',
      () => {
        this.running = false;
        this.tracker.active--;
        this.tracker.log.push(`${this.identity} stopped`);
      },
      { once: true },
    );
  }
}

const handles: TestControlPlane[] = [];
afterEach(async () => {
  // The handles share one store, which the first stop() closes: stop the control planes first.
  for (const handle of handles) await handle.controlPlane.stop();
  for (const handle of handles.splice(0)) await handle.stop();
});

describe('leader election between two control planes on one store', () => {
  it('runs the work on the leader only and hands over quickly when the leader stops', async () => {
    const store = await openEmbeddedStore();
    const tracker = new Tracker();
    const candidate = async (identity: string) => {
      const work = new SingletonWork(identity, tracker);
      const handle = await startTestControlPlane({
        store,
        modules: [
          leaderElectionModule({ ...lease, ...timings, identity, dependsOn: ['system-namespaces'] }),
          new ContainerModule((bind) => {
            bind(Runnable).toConstantValue(work);
          }),
        ],
      });
      handles.push(handle);
      return { work, handle, elector: handle.controlPlane.get(LeaderElector) };
    };
    const readLease = (handle: TestControlPlane) =>
      handle.client.get<Lease>(leaseKind, lease.leaseName, { namespace: lease.leaseNamespace });

    const a = await candidate('cp-a');
    await eventually(() => a.work.running, 'cp-a leads and runs the work');
    const b = await candidate('cp-b');
    await eventually(() => b.elector.getLeader() === 'cp-a', 'cp-b sees cp-a holding the lease');

    // Let cp-a renew twice more while cp-b keeps trying: cp-b must stay a follower.
    const renewals = new Set<string>();
    await eventually(async () => {
      renewals.add((await readLease(b.handle)).spec?.renewTime ?? '');
      return renewals.size >= 3;
    }, 'cp-a has renewed the lease twice more');
    expect(b.elector.isLeader()).toBe(false);
    expect(b.work.running).toBe(false);
    expect((await readLease(b.handle)).spec?.holderIdentity).toBe('cp-a');

    const stopping = performance.now();
    await a.handle.controlPlane.stop();
    // Released on cancel: no holder (or already cp-b), so nobody waits for the lease to expire.
    expect(['', 'cp-b']).toContain((await readLease(b.handle)).spec?.holderIdentity ?? '');
    await eventually(() => b.work.running, 'cp-b takes over and runs the work');
    const handOverMs = performance.now() - stopping;
    // Waiting for expiry would take at least one lease duration after cp-b last saw a renewal.
    expect(handOverMs).toBeLessThan(timings.leaseDurationMs);

    const held = await readLease(b.handle);
    expect(held.spec?.holderIdentity).toBe('cp-b');
    expect(held.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    expect(tracker.log).toEqual(['cp-a started', 'cp-a stopped', 'cp-b started']);
    expect(tracker.maxActive).toBe(1);
  });
});
