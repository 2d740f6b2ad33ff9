// SPDX-License-Identifier: Apache-2.0
// The cpkit scheduler as a separate PROCESS, bound to an HttpApiClient, against an API server that
// runs no scheduler (HTTPS, client certificate from the admin kubeconfig, RBAC): nodes and pods are
// created through the API, the remote scheduler binds them (pods/binding over HTTPS) and holds its
// leader Lease over HTTPS; with the process stopped, pods stay pending until it comes back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { apiServerModule, HttpApiServer } from '@cpkit/apiserver';
import { HttpApiClient, type Lease, loadKubeconfig } from '@cpkit/core';
import { nodeFixture, podFixture, startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { EmbeddedStore } from '@cpkit/store-embedded';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { startTsxChild, type TsxChild } from './support/tsx-child.js';

const schedulerScript = resolve(import.meta.dirname, 'support/scheduler-child.ts');

let dir: string;
let cp: TestControlPlane;
let kubeconfig: string;
let api: HttpApiClient;
let scheduler: TsxChild | undefined;

function startScheduler(identity: string): TsxChild {
  scheduler = startTsxChild(schedulerScript, [kubeconfig, identity], { CPKIT_LOG_LEVEL: 'info' });
  return scheduler;
}

/** A Ready node with 4 CPUs; its status goes through the status subresource, as a kubelet's does. */
async function createNode(name: string): Promise<void> {
  const fixture = nodeFixture({ name });
  const created = await api.create<Node>(fixture);
  await api.updateStatus<Node>({ ...created, status: fixture.status });
}

const nodeOf = async (name: string, namespace = 'default'): Promise<string | undefined> =>
  (await api.get<Pod>('Pod', name, { namespace })).spec?.nodeName;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpkit-scheduler-over-http-'));
  kubeconfig = join(dir, 'admin.kubeconfig');
  cp = await startTestControlPlane({
    store: await EmbeddedStore.open({ compactionIntervalMs: 0 }),
    modules: [apiServerModule({ port: 0, dataDir: join(dir, 'server'), kubeconfigPath: kubeconfig })],
  });
  const address = cp.controlPlane.get<HttpApiServer>(HttpApiServer).address();
  expect(address?.protocol).toBe('https');
  api = new HttpApiClient(loadKubeconfig(kubeconfig));
}, 60_000);

afterAll(async () => {
  await scheduler?.stop();
  api?.close();
  await cp?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the scheduler in its own process over HTTPS', () => {
  it('binds pods created through the API to nodes, holding its Lease over HTTPS', async () => {
    const child = startScheduler('remote-1');
    await child.waitFor((line) => line.msg === 'scheduler process started', 'start-up');
    await createNode('worker-1');
    await createNode('worker-2');
    for (let i = 0; i < 4; i++) {
      await api.create<Pod>(podFixture({ name: `web-${i}`, requests: { cpu: '100m', memory: '64Mi' } }));
    }
    await eventually(
      async () => {
        const pods = await api.list<Pod>('Pod', { namespace: 'default' });
        return pods.items.filter((pod) => pod.spec?.nodeName).length === 4;
      },
      'all four pods are bound',
      30_000,
    );
    const pods = await api.list<Pod>('Pod', { namespace: 'default' });
    for (const pod of pods.items) {
      expect(['worker-1', 'worker-2']).toContain(pod.spec?.nodeName);
      expect(pod.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'PodScheduled', status: 'True' }),
      );
    }
    // The default scoring spreads the load over both nodes.
    expect(new Set(pods.items.map((pod) => pod.spec?.nodeName)).size).toBe(2);
    const lease = await api.get<Lease>('Lease', 'cpkit-remote-scheduler', { namespace: 'kube-system' });
    expect(lease.spec?.holderIdentity).toBe('remote-1');
  }, 90_000);

  it('leaves pods pending while the process is down and binds them once it is back', async () => {
    expect(await scheduler?.stop()).toBe(0);
    await api.create<Pod>(podFixture({ name: 'while-down' }));
    // Nothing else in the cluster schedules: the pod really waits for the remote scheduler.
    await new Promise((resolveWait) => setTimeout(resolveWait, 1500));
    expect(await nodeOf('while-down')).toBeUndefined();
    const child = startScheduler('remote-2');
    await child.waitFor((line) => line.msg === 'scheduler process started', 'start-up');
    await eventually(
      async () => (await nodeOf('while-down')) !== undefined,
      'the pod is bound after restart',
      60_000,
    );
    // A pod that fits nowhere stays pending; the remote scheduler reports it through the status
    // subresource (PodScheduled=False) and a FailedScheduling event, both over HTTPS.
    await api.create<Pod>(podFixture({ name: 'too-big', requests: { cpu: '500' } }));
    await eventually(
      async () =>
        ((await api.get<Pod>('Pod', 'too-big', { namespace: 'default' })).status?.conditions ?? []).some(
          (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
        ),
      'the pod is marked unschedulable',
      30_000,
    );
    expect(await nodeOf('too-big')).toBeUndefined();
    await eventually(
      async () =>
        (
          await api.list('Event', { namespace: 'default', fieldSelector: 'involvedObject.name=too-big' })
        ).items.some((event) => (event as { reason?: string }).reason === 'FailedScheduling'),
      'a FailedScheduling event',
      30_000,
    );
  }, 120_000);
});
