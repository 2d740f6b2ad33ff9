// SPDX-License-Identifier: Apache-2.0
// The starter's scheduler in a real in-process control plane: the embedded store, the registry, the
// in-process ApiClient and the scheduler module loaded with scheduler-config.yaml, as main.ts wires it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiClient, MetricsRegistry } from '@cpkit/core';
import { nodeFixture, podFixture, startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import {
  loadSchedulerConfigurationSync,
  type SchedulerConfiguration,
  schedulerModule,
} from '@cpkit/scheduler';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { PodGroupLabel, PodGroupMinMemberAnnotation } from './gang-permit.js';
import { customPluginRegistrations, customSchedulerConfigPath } from './index.js';

const planes: TestControlPlane[] = [];
afterEach(async () => {
  while (planes.length > 0) await planes.pop()?.stop();
});

async function start(
  config: SchedulerConfiguration | string = customSchedulerConfigPath,
): Promise<TestControlPlane> {
  const plane = await startTestControlPlane({
    store: await openEmbeddedStore(),
    modules: [schedulerModule({ config, registrations: customPluginRegistrations })],
  });
  planes.push(plane);
  return plane;
}

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

/** Creates a node with its status (the registry ignores status on create; a node agent reports it). */
async function createNode(client: ApiClient, node: Node): Promise<void> {
  const created = await client.create(node);
  await client.updateStatus({ ...created, status: node.status });
}

const nodeOf = async (client: ApiClient, name: string): Promise<string | undefined> =>
  (await client.get<Pod>('pods', name, { namespace: 'default' })).spec?.nodeName;

const boundNode = (client: ApiClient, name: string): Promise<string> =>
  eventually(() => nodeOf(client, name), `pod ${name} to be bound`);

async function createCluster(client: ApiClient): Promise<void> {
  const capacity = { cpu: '4', memory: '8Gi', pods: '110' };
  for (const name of ['reserved-1', 'reserved-2']) {
    await createNode(client, nodeFixture({ name, labels: { 'node-pool': 'reserved' }, capacity }));
  }
  for (const name of ['general-1', 'general-2']) await createNode(client, nodeFixture({ name, capacity }));
}

function gangMember(name: string, gang: string, minMember: number): Pod {
  const pod = podFixture({
    name,
    labels: { [PodGroupLabel]: gang },
    requests: { cpu: '500m', memory: '512Mi' },
  });
  pod.metadata = { ...pod.metadata, annotations: { [PodGroupMinMemberAnnotation]: String(minMember) } };
  return pod;
}

describe('the custom scheduler (scheduler-config.yaml)', () => {
  it('packs pods onto one reserved node until it is full, then onto the other; general nodes stay empty', async () => {
    const plane = await start();
    const { client } = plane;
    await createCluster(client);
    for (let i = 0; i < 5; i++) {
      await client.create(podFixture({ name: `web-${i}`, requests: { cpu: '1', memory: '512Mi' } }));
    }
    const placements: string[] = [];
    for (let i = 0; i < 5; i++) placements.push(await boundNode(client, `web-${i}`));

    // 4 × 1 CPU fill one 4-CPU reserved node; the fifth goes to the other reserved node.
    const first = placements[0];
    expect(first).toMatch(/^reserved-/);
    expect(placements.slice(0, 4)).toEqual([first, first, first, first]);
    expect(placements[4]).toBe(first === 'reserved-1' ? 'reserved-2' : 'reserved-1');

    const registry = plane.controlPlane.get<MetricsRegistry>(MetricsRegistry);
    const attempts = await registry.getSingleMetric('scheduler_schedule_attempts_total')?.get();
    const scheduled = attempts?.values.find(
      (v) => v.labels.result === 'scheduled' && v.labels.profile === 'default-scheduler',
    );
    expect(scheduled?.value).toBe(5);
  });

  it('spreads the same pods without the custom plugins (the default profile), so the plugin made the difference', async () => {
    const { client } = await start({});
    await createCluster(client);
    for (let i = 0; i < 4; i++) {
      await client.create(podFixture({ name: `web-${i}`, requests: { cpu: '1', memory: '512Mi' } }));
    }
    const placements = new Set<string>();
    for (let i = 0; i < 4; i++) placements.add(await boundNode(client, `web-${i}`));
    expect(placements.size).toBe(4); // LeastAllocated: each pod on the emptiest node
  });

  it('binds a gang once all its members have a node', async () => {
    const { client } = await start();
    await createCluster(client);
    for (let i = 0; i < 3; i++) await client.create(gangMember(`train-${i}`, 'train', 3));
    for (let i = 0; i < 3; i++) expect(await boundNode(client, `train-${i}`)).toMatch(/^reserved-/);
  });

  it('holds an incomplete gang at Permit, then rejects all its members with FailedScheduling', async () => {
    const config = loadSchedulerConfigurationSync(customSchedulerConfigPath);
    const gangArgs = config.profiles![0].pluginConfig!.find((c) => c.name === 'GangPermit')!;
    gangArgs.args = { permitWaitingTimeSeconds: 1 };
    const { client } = await start(config);
    await createCluster(client);
    await client.create(gangMember('mpi-0', 'mpi', 3));
    await client.create(gangMember('mpi-1', 'mpi', 3));

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await nodeOf(client, 'mpi-0')).toBeUndefined(); // waiting at Permit, not bound
    expect(await nodeOf(client, 'mpi-1')).toBeUndefined();

    const failures = await eventually(async () => {
      const events = await client.list<Event>('events', { namespace: 'default' });
      const failed = events.items.filter((e) => e.reason === 'FailedScheduling');
      const names = new Set(failed.map((e) => e.involvedObject.name));
      return names.has('mpi-0') && names.has('mpi-1') ? failed : undefined;
    }, 'FailedScheduling events for both members');
    const messages = failures.map((e) => e.message).join('\n');
    expect(messages).toContain('rejected due to timeout after waiting 1s at plugin GangPermit');
    expect(messages).toContain('gang default/mpi was rejected');
    expect(await nodeOf(client, 'mpi-0')).toBeUndefined();
    expect(await nodeOf(client, 'mpi-1')).toBeUndefined();
  });

  it('refuses to start with bad plugin args, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpkit-custom-scheduler-'));
    const path = join(dir, 'scheduler-config.yaml');
    writeFileSync(
      path,
      [
        'apiVersion: kubescheduler.config.k8s.io/v1',
        'kind: KubeSchedulerConfiguration',
        'profiles:',
        '  - plugins:',
        '      multiPoint:',
        '        enabled: [{ name: NodeLabelPacking, weight: 5 }]',
        '    pluginConfig:',
        '      - name: NodeLabelPacking',
        '        args: { preferredValues: [reserved] }',
      ].join('\n'),
    );
    const error = await start(path).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('profiles[0].pluginConfig[0].args');
    expect((error as Error).message).toContain('labelKey: Required value');
  });
});
