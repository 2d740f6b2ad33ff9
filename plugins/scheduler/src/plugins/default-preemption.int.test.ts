// SPDX-License-Identifier: Apache-2.0
// DefaultPreemption inside the real scheduler, against a control plane on the embedded store.
import type { ApiClient } from '@cpkit/core';
import { nodeFixture, podFixture, startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { schedulerModule } from '../scheduler-module.js';

const planes: TestControlPlane[] = [];
afterEach(async () => {
  while (planes.length > 0) await planes.pop()?.stop();
});

async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function start(): Promise<ApiClient> {
  const plane = await startTestControlPlane({
    store: await openEmbeddedStore(),
    modules: [schedulerModule({})],
  });
  planes.push(plane);
  return plane.client;
}

async function createNode(client: ApiClient, node: Node): Promise<void> {
  const created = await client.create(node);
  await client.updateStatus({ ...created, status: node.status });
}

function pod(name: string, cpu: string, priority: number, gracePeriod?: number): Pod {
  const p = podFixture({ name, requests: { cpu }, priority });
  if (gracePeriod !== undefined) p.spec!.terminationGracePeriodSeconds = gracePeriod;
  return p;
}

async function podsByName(client: ApiClient): Promise<Map<string, Pod>> {
  const list = await client.list<Pod>('pods', { namespace: 'default' });
  return new Map(list.items.map((p) => [p.metadata?.name ?? '', p]));
}

async function boundNode(client: ApiClient, name: string): Promise<string> {
  return eventually(
    async () => (await podsByName(client)).get(name)?.spec?.nodeName,
    `pod ${name} to be bound`,
  );
}

async function events(client: ApiClient, reason: string): Promise<Event[]> {
  const list = await client.list<Event>('events', { namespace: 'default' });
  return list.items.filter((e) => e.reason === reason);
}

/** Two 2-CPU nodes filled by four 1-CPU pods of priority 1; returns which node each pod landed on. */
async function fillCluster(client: ApiClient, gracePeriod?: number): Promise<Map<string, string>> {
  for (const name of ['n1', 'n2'])
    await createNode(client, nodeFixture({ name, capacity: { cpu: '2', memory: '8Gi', pods: '110' } }));
  const placement = new Map<string, string>();
  for (let i = 0; i < 4; i++) await client.create(pod(`low-${i}`, '1', 1, gracePeriod));
  for (let i = 0; i < 4; i++) placement.set(`low-${i}`, await boundNode(client, `low-${i}`));
  return placement;
}

describe('DefaultPreemption in the scheduler', () => {
  it('a high-priority pod preempts the low-priority pods of one node and is bound there once they are gone', async () => {
    const client = await start();
    const placement = await fillCluster(client, 0);
    await client.create(pod('high', '2', 1000));

    const node = await boundNode(client, 'high');
    const pods = await podsByName(client);
    const victims = [...placement].filter(([, n]) => n === node).map(([name]) => name);
    const survivors = [...placement].filter(([, n]) => n !== node).map(([name]) => name);
    expect(victims).toHaveLength(2);
    for (const name of victims) expect(pods.has(name), `${name} evicted`).toBe(false);
    for (const name of survivors) expect(pods.get(name)?.spec?.nodeName).toBe(placement.get(name));

    const preempted = await events(client, 'Preempted');
    expect(preempted.map((e) => e.involvedObject.name).sort()).toEqual(victims.sort());
    expect(preempted[0].message).toBe(`Preempted by pod ${pods.get('high')?.metadata?.uid} on node ${node}`);
    const failed = (await events(client, 'FailedScheduling')).filter((e) => e.involvedObject.name === 'high');
    expect(failed[0]?.message).toBe('0/2 nodes are available: 2 Insufficient cpu.');
  });

  it('waits for terminating victims on the nominated node instead of preempting more', async () => {
    const client = await start();
    // Victims keep their default 30 s grace period: only a kubelet (this test) finishes their deletion.
    const placement = await fillCluster(client);
    await client.create(pod('high', '2', 1000));

    const terminating = await eventually(async () => {
      const found = [...(await podsByName(client)).values()].filter((p) => p.metadata?.deletionTimestamp);
      return found.length === 2 ? found : undefined;
    }, 'two victims to be terminating');
    const nominated = await eventually(
      async () => (await podsByName(client)).get('high')?.status?.nominatedNodeName,
      'the nomination',
    );
    for (const victim of terminating) {
      expect(victim.spec?.nodeName).toBe(nominated);
      expect(victim.status?.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({
        status: 'True',
        reason: 'PreemptionByScheduler',
      });
    }
    // A new (too small) node makes the scheduler retry the pod: it must wait, not preempt again.
    await createNode(
      client,
      nodeFixture({ name: 'tiny', capacity: { cpu: '1', memory: '8Gi', pods: '110' } }),
    );
    const waiting = await eventually(async () => {
      const failed = (await events(client, 'FailedScheduling')).find((e) =>
        e.message?.includes('preemption: not eligible due to a terminating pod on the nominated node.'),
      );
      return failed;
    }, 'a retry that waits for the victims');
    expect(waiting.message).toBe(
      '0/3 nodes are available: 3 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node..',
    );
    expect(await events(client, 'Preempted')).toHaveLength(2);
    const during = await podsByName(client);
    expect([...during.values()].filter((p) => p.metadata?.deletionTimestamp)).toHaveLength(2);
    expect(during.get('high')?.spec?.nodeName).toBeUndefined();

    for (const victim of terminating)
      await client.delete('pods', victim.metadata?.name ?? '', {
        namespace: 'default',
        gracePeriodSeconds: 0,
      });
    expect(await boundNode(client, 'high')).toBe(nominated);
    const after = await podsByName(client);
    for (const [name, node] of placement)
      if (node !== nominated) expect(after.get(name)?.spec?.nodeName).toBe(node);
  });
});
