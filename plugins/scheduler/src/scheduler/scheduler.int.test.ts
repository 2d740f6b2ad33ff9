// SPDX-License-Identifier: Apache-2.0
import {
  type ApiClient,
  type FilterPlugin,
  leaderElectionModule,
  MetricsRegistry,
  type PermitPlugin,
  type SchedulerPlugin,
  type SchedulingFrameworkHandle,
  SchedulingStatus,
  type Store,
} from '@cpkit/core';
import { nodeFixture, podFixture, startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { schedulerModule } from '../scheduler-module.js';
import { Scheduler } from './scheduler.js';
import type { SchedulerConfiguration } from './scheduler-configuration.js';

const planes: TestControlPlane[] = [];
afterEach(async () => {
  while (planes.length > 0) await planes.pop()?.stop();
});

async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function start(
  options: {
    config?: SchedulerConfiguration;
    registrations?: SchedulerPlugin[];
    store?: Store;
    extra?: unknown[];
  } = {},
): Promise<TestControlPlane> {
  const plane = await startTestControlPlane({
    store: options.store ?? (await openEmbeddedStore()),
    modules: [
      ...((options.extra ?? []) as never[]),
      schedulerModule({ config: options.config, registrations: options.registrations }),
    ],
  });
  planes.push(plane);
  return plane;
}

/** Creates a node with its status (the registry drops status on create; a node agent would report it). */
async function createNode(client: ApiClient, node: Node): Promise<void> {
  const created = await client.create(node);
  await client.updateStatus({ ...created, status: node.status });
}

async function getPod(client: ApiClient, name: string): Promise<Pod> {
  return client.get<Pod>('pods', name, { namespace: 'default' });
}

async function boundNode(client: ApiClient, name: string): Promise<string> {
  return eventually(async () => (await getPod(client, name)).spec?.nodeName, `pod ${name} to be bound`);
}

async function events(client: ApiClient, podName: string, reason: string): Promise<Event[]> {
  const list = await client.list<Event>('events', { namespace: 'default' });
  return list.items.filter((e) => e.involvedObject.name === podName && e.reason === reason);
}

async function metricValue(
  plane: TestControlPlane,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const registry = plane.controlPlane.get<MetricsRegistry>(MetricsRegistry);
  const metric = await registry.getSingleMetric(name)?.get();
  const entry = metric?.values.find(
    (v) =>
      !('metricName' in v && v.metricName !== name) &&
      Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return entry?.value ?? 0;
}

describe('Scheduler with the default plugins', () => {
  it('binds pods to nodes that fit, with Scheduled events and PodScheduled=True', async () => {
    const { client } = await start();
    await createNode(
      client,
      nodeFixture({ name: 'small', capacity: { cpu: '1', memory: '2Gi', pods: '110' } }),
    );
    await createNode(
      client,
      nodeFixture({ name: 'large', capacity: { cpu: '8', memory: '16Gi', pods: '110' } }),
    );
    await client.create(podFixture({ name: 'big', requests: { cpu: '4' } }));
    for (let i = 0; i < 5; i++)
      await client.create(podFixture({ name: `web-${i}`, requests: { cpu: '100m' } }));

    expect(await boundNode(client, 'big')).toBe('large');
    for (let i = 0; i < 5; i++) expect(['small', 'large']).toContain(await boundNode(client, `web-${i}`));
    const pod = await getPod(client, 'big');
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    const scheduled = await eventually(
      async () =>
        (await events(client, 'big', 'Scheduled')).length > 0
          ? events(client, 'big', 'Scheduled')
          : undefined,
      'the Scheduled event',
    );
    expect(scheduled[0]).toMatchObject({
      type: 'Normal',
      message: 'Successfully assigned default/big to large',
      source: { component: 'default-scheduler' },
    });
  });

  it('reports an unschedulable pod and binds it once a node that fits is added', async () => {
    const plane = await start();
    const { client } = plane;
    await createNode(client, nodeFixture({ name: 'n1', capacity: { cpu: '1', memory: '2Gi', pods: '110' } }));
    await client.create(podFixture({ name: 'huge', requests: { cpu: '16' } }));

    const failed = await eventually(async () => {
      const found = await events(client, 'huge', 'FailedScheduling');
      return found.length > 0 ? found : undefined;
    }, 'the FailedScheduling event');
    // DefaultPreemption (when registered) appends its own upstream-style sentence.
    expect(failed[0].type).toBe('Warning');
    expect(failed[0].message).toMatch(/^0\/1 nodes are available: 1 Insufficient cpu\.( preemption: .*)?$/);
    const condition = await eventually(
      async () => (await getPod(client, 'huge')).status?.conditions?.find((c) => c.type === 'PodScheduled'),
      'the PodScheduled condition',
    );
    expect(condition).toMatchObject({ status: 'False', reason: 'Unschedulable', message: failed[0].message });
    expect(plane.controlPlane.get<Scheduler>(Scheduler).pendingPods().unschedulable).toBe(1);
    expect(
      await metricValue(plane, 'scheduler_schedule_attempts_total', { result: 'unschedulable' }),
    ).toBeGreaterThan(0);

    await createNode(
      client,
      nodeFixture({ name: 'n2', capacity: { cpu: '32', memory: '64Gi', pods: '110' } }),
    );
    expect(await boundNode(client, 'huge')).toBe('n2');
    expect(
      await metricValue(plane, 'scheduler_schedule_attempts_total', {
        result: 'scheduled',
        profile: 'default-scheduler',
      }),
    ).toBe(1);
  });

  it('does not busy-loop on a pod that can never fit', async () => {
    const plane = await start();
    const { client } = plane;
    await createNode(client, nodeFixture({ name: 'n1' }));
    await client.create(podFixture({ name: 'never', requests: { cpu: '1000' } }));
    await eventually(
      async () => ((await events(client, 'never', 'FailedScheduling')).length > 0 ? true : undefined),
      'FailedScheduling',
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Parked in unschedulablePods: one attempt, no retry without a cluster event.
    expect(await metricValue(plane, 'scheduler_schedule_attempts_total', { result: 'unschedulable' })).toBe(
      1,
    );
  });

  it('leaves a pod that names another scheduler alone', async () => {
    const { client } = await start();
    await createNode(client, nodeFixture({ name: 'n1' }));
    await client.create(podFixture({ name: 'theirs', schedulerName: 'someone-else' }));
    await client.create(podFixture({ name: 'ours' }));
    await boundNode(client, 'ours');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await getPod(client, 'theirs')).spec?.nodeName).toBeUndefined();
    expect(await events(client, 'theirs', 'FailedScheduling')).toEqual([]);
  });

  it('schedules with several profiles by spec.schedulerName', async () => {
    const { client } = await start({
      config: {
        profiles: [
          { schedulerName: 'default-scheduler' },
          {
            schedulerName: 'packer',
            plugins: { score: { disabled: [{ name: 'NodeResourcesBalancedAllocation' }] } },
          },
        ],
      },
    });
    await createNode(client, nodeFixture({ name: 'n1' }));
    await client.create(podFixture({ name: 'packed', schedulerName: 'packer' }));
    expect(await boundNode(client, 'packed')).toBe('n1');
    const scheduled = await eventually(async () => {
      const found = await events(client, 'packed', 'Scheduled');
      return found.length > 0 ? found : undefined;
    }, 'the Scheduled event');
    expect(scheduled[0].source?.component).toBe('packer');
  });
});

describe('Scheduler with preemption', () => {
  it('preempts a lower-priority pod, nominates the node, and binds there once the victim is gone', async () => {
    const { client } = await start();
    await createNode(client, nodeFixture({ name: 'n1', capacity: { cpu: '1', memory: '4Gi', pods: '110' } }));
    await client.create(podFixture({ name: 'low', priority: 0, requests: { cpu: '800m' } }));
    expect(await boundNode(client, 'low')).toBe('n1');
    await client.create(podFixture({ name: 'high', priority: 1000, requests: { cpu: '800m' } }));
    const nominated = await eventually(
      async () => (await getPod(client, 'high')).status?.nominatedNodeName,
      'the nomination',
    );
    expect(nominated).toBe('n1');
    // Without a node agent the victim stays terminating: finish its deletion as a kubelet would.
    const victim = await eventually(async () => {
      const low = await getPod(client, 'low').catch(() => undefined);
      return low === undefined || low.metadata?.deletionTimestamp ? true : undefined;
    }, 'the victim to be deleted');
    expect(victim).toBe(true);
    await client
      .delete('pods', 'low', { namespace: 'default', gracePeriodSeconds: 0 })
      .catch(() => undefined);
    expect(await boundNode(client, 'high')).toBe('n1');
  });
});

describe('Scheduler failures', () => {
  it('turns a throwing plugin into a FailedScheduling error and retries with backoff', async () => {
    let calls = 0;
    const flaky: SchedulerPlugin = {
      name: 'Flaky',
      factory: (): FilterPlugin => ({
        name: 'Flaky',
        filter: () => {
          calls++;
          if (calls <= 1) throw new Error('disk on fire');
          return SchedulingStatus.success();
        },
      }),
    };
    const plane = await start({
      registrations: [flaky],
      config: { profiles: [{ plugins: { filter: { enabled: [{ name: 'Flaky' }] } } }] },
    });
    const { client } = plane;
    await createNode(client, nodeFixture({ name: 'n1' }));
    await client.create(podFixture({ name: 'p' }));
    const failed = await eventually(async () => {
      const found = await events(client, 'p', 'FailedScheduling');
      return found.length > 0 ? found : undefined;
    }, 'the FailedScheduling event');
    expect(failed[0].message).toContain('running Filter plugin "Flaky": disk on fire');
    const condition = (await getPod(client, 'p')).status?.conditions?.find((c) => c.type === 'PodScheduled');
    expect(condition?.reason).toBe('SchedulerError');
    expect(await boundNode(client, 'p')).toBe('n1');
    expect(await metricValue(plane, 'scheduler_schedule_attempts_total', { result: 'error' })).toBe(1);
  });

  it('holds a pod at Permit, rejects it on timeout, and binds it once allowed', async () => {
    let handle: SchedulingFrameworkHandle | undefined;
    let waits = 0;
    const gate: SchedulerPlugin = {
      name: 'Gate',
      factory: (_args, h): PermitPlugin => {
        handle = h;
        return {
          name: 'Gate',
          permit: () => ({ status: SchedulingStatus.wait(), timeoutMs: ++waits === 1 ? 50 : 60_000 }),
        };
      },
    };
    const { client } = await start({
      registrations: [gate],
      config: { profiles: [{ plugins: { permit: { enabled: [{ name: 'Gate' }] } } }] },
    });
    await createNode(client, nodeFixture({ name: 'n1' }));
    const created = await client.create(podFixture({ name: 'held' }));
    const failed = await eventually(async () => {
      const found = await events(client, 'held', 'FailedScheduling');
      return found.length > 0 ? found : undefined;
    }, 'the timeout rejection');
    expect(failed[0].message).toBe('rejected due to timeout after waiting 50ms at plugin Gate');
    // A rejected pod waits for a cluster event that could help, as upstream's: add a node.
    await createNode(client, nodeFixture({ name: 'n2' }));
    const waiting = await eventually(
      async () => handle?.getWaitingPod(String(created.metadata?.uid)),
      'the pod to wait at Permit again',
    );
    expect((await getPod(client, 'held')).spec?.nodeName).toBeUndefined();
    waiting.allow('Gate');
    expect(['n1', 'n2']).toContain(await boundNode(client, 'held'));
  });

  it('keeps a gated pod out of scheduling without FailedScheduling events', async () => {
    const plane = await start();
    const { client } = plane;
    await createNode(client, nodeFixture({ name: 'n1' }));
    await client.create({
      ...podFixture({ name: 'gated' }),
      spec: {
        ...podFixture({ name: 'gated' }).spec,
        containers: podFixture({ name: 'gated' }).spec?.containers ?? [],
        schedulingGates: [{ name: 'example.com/wait' }],
      },
    });
    await eventually(
      async () => (plane.controlPlane.get<Scheduler>(Scheduler).pendingPods().gated === 1 ? true : undefined),
      'the pod to be gated',
    );
    expect(await metricValue(plane, 'scheduler_pending_pods', { queue: 'gated' })).toBe(1);
    expect(await events(client, 'gated', 'FailedScheduling')).toEqual([]);
    expect(await metricValue(plane, 'scheduler_schedule_attempts_total', { result: 'unschedulable' })).toBe(
      0,
    );
  });

  it('fails the wiring when a profile names an unknown plugin, naming the field', async () => {
    await expect(
      start({ config: { profiles: [{ plugins: { filter: { enabled: [{ name: 'NoSuchPlugin' }] } } }] } }),
    ).rejects.toThrow(/profiles\[0\]\.plugins\.filter\.enabled\[0\]/);
  });

  it('rejects an invalid configuration object when the module is made', () => {
    expect(() => schedulerModule({ config: { parallelism: 0 } })).toThrow(
      /parallelism: Invalid value: 0: must be >= 1/,
    );
  });
});

describe('Scheduler with leader election', () => {
  it('schedules on one replica only, and on the other after the leader stops', async () => {
    const store = await openEmbeddedStore();
    // Both control planes share the store; only the last one to stop closes it.
    const sharedStore = new Proxy(store, {
      get(target, property) {
        if (property === 'close') return async () => {};
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const election = (identity: string): unknown =>
      leaderElectionModule({
        leaseName: 'scheduler-test',
        leaseNamespace: 'kube-system',
        identity,
        leaseDurationMs: 1500,
        renewDeadlineMs: 1000,
        retryPeriodMs: 100,
        dependsOn: ['system-namespaces'],
      });
    const a = await start({ store: sharedStore, extra: [election('a')] });
    const b = await start({ store: sharedStore, extra: [election('b')] });
    try {
      await failover(a, b);
    } finally {
      while (planes.length > 0) await planes.pop()?.stop();
      await store.close();
    }
  });
});

async function failover(a: TestControlPlane, b: TestControlPlane): Promise<void> {
  const client = a.client;
  await createNode(client, nodeFixture({ name: 'n1' }));
  for (let i = 0; i < 4; i++) await client.create(podFixture({ name: `p-${i}` }));
  for (let i = 0; i < 4; i++) await boundNode(client, `p-${i}`);

  const scheduledBy = async (plane: TestControlPlane): Promise<number> =>
    metricValue(plane, 'scheduler_schedule_attempts_total', { result: 'scheduled' });
  const counts = [await scheduledBy(a), await scheduledBy(b)];
  expect(counts.sort()).toEqual([0, 4]);

  const [leader, standby] = (await scheduledBy(a)) === 4 ? [a, b] : [b, a];
  planes.splice(planes.indexOf(leader), 1);
  await leader.stop();
  await standby.client.create(podFixture({ name: 'after-failover' }));
  await boundNode(standby.client, 'after-failover');
  expect(await scheduledBy(standby)).toBe(1);
}
