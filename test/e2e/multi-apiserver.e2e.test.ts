// SPDX-License-Identifier: Apache-2.0
// Two API server PROCESSES (each its own registry and scheme, HTTPS with its own certificates) on one
// real etcd, driven by HttpApiClient: writes through one are seen by watches on the other, lists agree,
// optimistic concurrency holds across instances, deletes are seen on both, and one instance going
// away does not disturb the other.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HttpApiClient, loadKubeconfig, type WatchEvent } from '@cpkit/core';
import { type EtcdCluster, startEtcdCluster } from '@cpkit/core/testing/etcd-cluster';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { startTsxChild, type TsxChild } from './support/tsx-child.js';

const childScript = resolve(import.meta.dirname, 'support/apiserver-child.ts');

let etcd: EtcdCluster;
let dir: string;
const servers: TsxChild[] = [];
const clients: HttpApiClient[] = [];
const subscriptions: Subscription[] = [];
let a: HttpApiClient;
let b: HttpApiClient;

async function startInstance(name: string): Promise<HttpApiClient> {
  const kubeconfig = join(dir, `${name}.kubeconfig`);
  const server = startTsxChild(childScript, [etcd.endpoints.join(','), join(dir, name), kubeconfig]);
  servers.push(server);
  const ready = await server.waitFor((line) => line.ready === true, 'ready line');
  const connection = loadKubeconfig(kubeconfig);
  expect(connection.server).toBe(ready.url);
  const client = new HttpApiClient(connection);
  clients.push(client);
  return client;
}

function watchInto(
  client: HttpApiClient,
  resourceVersion: string | undefined,
  events: string[],
): Subscription {
  const subscription = client
    .watch<ConfigMap>('ConfigMap', { namespace: 'shared', resourceVersion })
    .subscribe({
      next: (event: WatchEvent<ConfigMap>) =>
        events.push(`${event.type} ${event.object.metadata?.name} ${event.object.data?.v ?? ''}`.trim()),
      error: (error: { reason?: string }) => events.push(`error ${error.reason}`),
    });
  subscriptions.push(subscription);
  return subscription;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpkit-multi-apiserver-'));
  etcd = await startEtcdCluster({ name: 'multi-apiserver' });
  // One after the other: the second finds the system namespaces and RBAC policy the first made.
  a = await startInstance('a');
  b = await startInstance('b');
}, 120_000);

afterAll(async () => {
  for (const subscription of subscriptions) subscription.unsubscribe();
  for (const client of clients) client.close();
  await Promise.all(servers.map((server) => server.stop()));
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('two API server processes on one etcd', () => {
  it('serve separate addresses of one cluster', () => {
    expect(a.server).not.toBe(b.server);
  });

  it('a write through one is seen by a watch on the other, in both directions', async () => {
    await a.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shared' } });
    const from = (await b.list('ConfigMap', { namespace: 'shared' })).metadata.resourceVersion;
    const onB: string[] = [];
    const onA: string[] = [];
    watchInto(b, from, onB);
    watchInto(a, from, onA);
    const created = await a.create<ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'one', namespace: 'shared' },
      data: { v: '1' },
    });
    await b.update<ConfigMap>({ ...created, data: { v: '2' } });
    await eventually(() => onB.length >= 2 && onA.length >= 2, 'both watches see both writes');
    expect(onB).toEqual(['ADDED one 1', 'MODIFIED one 2']);
    expect(onA).toEqual(onB);
  });

  it('list the same objects with the same resourceVersions', async () => {
    for (let i = 0; i < 10; i++) {
      await (i % 2 ? a : b).create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `item-${i}`, namespace: 'shared' },
        data: { v: String(i) },
      });
    }
    const summary = (list: { items: ConfigMap[] }) =>
      list.items.map((item) => `${item.metadata?.name}@${item.metadata?.resourceVersion}`);
    const fromA = await a.list<ConfigMap>('ConfigMap', { namespace: 'shared' });
    const fromB = await b.list<ConfigMap>('ConfigMap', { namespace: 'shared' });
    expect(summary(fromA)).toHaveLength(11);
    expect(summary(fromB)).toEqual(summary(fromA));
    // A continue token issued by one instance pages through the other.
    const page = await a.list('ConfigMap', { namespace: 'shared', limit: 4 });
    const rest = await b.list('ConfigMap', { namespace: 'shared', continue: page.metadata.continue });
    expect([...page.items, ...rest.items].map((item) => item.metadata?.name)).toEqual(
      fromA.items.map((item) => item.metadata?.name),
    );
    // An exact read at a resourceVersion one instance reported is served by the other.
    const exact = await b.list('ConfigMap', {
      namespace: 'shared',
      resourceVersion: page.metadata.resourceVersion,
      resourceVersionMatch: 'Exact',
    });
    expect(exact.items).toHaveLength(11);
  });

  it('fail a stale update with Conflict across instances', async () => {
    const readOnA = await a.get<ConfigMap>('ConfigMap', 'item-0', { namespace: 'shared' });
    const readOnB = await b.get<ConfigMap>('ConfigMap', 'item-0', { namespace: 'shared' });
    expect(readOnB.metadata?.resourceVersion).toBe(readOnA.metadata?.resourceVersion);
    await b.update<ConfigMap>({ ...readOnB, data: { v: 'from-b' } });
    await expect(a.update<ConfigMap>({ ...readOnA, data: { v: 'from-a' } })).rejects.toMatchObject({
      name: 'StatusError',
      reason: 'Conflict',
      code: 409,
    });
    expect((await a.get<ConfigMap>('ConfigMap', 'item-0', { namespace: 'shared' })).data).toEqual({
      v: 'from-b',
    });
    await expect(
      a.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'item-0', namespace: 'shared' } }),
    ).rejects.toMatchObject({ reason: 'AlreadyExists', code: 409 });
  });

  it('see a delete on both: watches get DELETED and reads NotFound', async () => {
    const from = (await a.list('ConfigMap', { namespace: 'shared' })).metadata.resourceVersion;
    const onA: string[] = [];
    const onB: string[] = [];
    watchInto(a, from, onA);
    watchInto(b, from, onB);
    await b.delete('ConfigMap', 'item-1', { namespace: 'shared' });
    await eventually(() => onA.length >= 1 && onB.length >= 1, 'both watches see the delete');
    expect(onA).toEqual(['DELETED item-1 1']);
    expect(onB).toEqual(['DELETED item-1 1']);
    for (const client of [a, b]) {
      await expect(client.get('ConfigMap', 'item-1', { namespace: 'shared' })).rejects.toMatchObject({
        reason: 'NotFound',
        code: 404,
      });
    }
  });

  it('keep serving through one when the other process is killed', async () => {
    const onA: string[] = [];
    const onB: string[] = [];
    const from = (await a.list('ConfigMap', { namespace: 'shared' })).metadata.resourceVersion;
    watchInto(a, from, onA);
    watchInto(b, from, onB);
    await b.list('ConfigMap', { namespace: 'shared' });
    await servers[1]?.kill();
    // B's open watches end with an error the caller can act on (an informer re-lists elsewhere).
    await eventually(
      () => onB.includes('error ServiceUnavailable'),
      'the watch on the killed instance fails',
    );
    await expect(b.list('ConfigMap', { namespace: 'shared' })).rejects.toMatchObject({
      reason: 'ServiceUnavailable',
    });
    await a.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'after-kill', namespace: 'shared' },
      data: { v: 'x' },
    });
    await eventually(() => onA.includes('ADDED after-kill x'), 'the surviving instance serves and watches');
  });
});
