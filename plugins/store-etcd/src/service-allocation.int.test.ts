// SPDX-License-Identifier: Apache-2.0
// Service ClusterIP allocation (core's StoreServiceAllocator) on real etcd: two registries, each with its
// own allocator and its own etcd connection, as two API server processes would have.
import { randomUUID } from 'node:crypto';
import {
  DefaultScheme,
  registerBuiltinKinds,
  type StatusError,
  StoreRegistry,
  StoreServiceAllocator,
  type UnstructuredObject,
} from '@cpkit/core';
import { type EtcdCluster, startEtcdCluster } from '@cpkit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdStore, openEtcdStore } from './index.js';

let etcd: EtcdCluster;
const stores: EtcdStore[] = [];
beforeAll(async () => {
  etcd = await startEtcdCluster({ name: 'service-allocation' });
});
afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
  await etcd?.stop();
});

describe('Service allocation on etcd', () => {
  it('never hands one IP or node port to two services created through two API servers', async () => {
    const prefix = `/t-${randomUUID()}`;
    const registries: StoreRegistry[] = [];
    for (let i = 0; i < 2; i++) {
      const store = await openEtcdStore({ endpoints: etcd.endpoints, prefix });
      stores.push(store);
      const scheme = new DefaultScheme();
      registerBuiltinKinds(scheme);
      const allocator = new StoreServiceAllocator(store, {
        serviceClusterIPRange: '10.0.0.0/27',
        nodePortRange: '30000-30039',
      });
      registries.push(new StoreRegistry(store, scheme, undefined, { hooks: [allocator] }));
    }
    await registries[0]?.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'default' },
    });
    // 29 addresses to hand out (the first is the kubernetes service's), 36 creates over both servers.
    const results = await Promise.allSettled(
      Array.from({ length: 36 }, (_, i) =>
        (registries[i % 2] as StoreRegistry).create<UnstructuredObject>({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: `s${i}`, namespace: 'default' },
          spec: { type: 'NodePort', ports: [{ port: 80 }] },
        }),
      ),
    );
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const spec = (s: UnstructuredObject) => s.spec as { clusterIP: string; ports: { nodePort: number }[] };
    expect(created.length).toBe(29);
    expect(new Set(created.map((s) => spec(s).clusterIP)).size).toBe(29);
    expect(new Set(created.map((s) => spec(s).ports[0]?.nodePort)).size).toBe(29);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as StatusError).message).toContain('range is full');
    }
    // What one server releases, the other can hand out again.
    const victim = created[0] as UnstructuredObject;
    await registries[0]?.delete('services', String(victim.metadata?.name), { namespace: 'default' });
    const again = await registries[1]?.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'again', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    });
    expect(spec(again as UnstructuredObject).clusterIP).toBe(spec(victim).clusterIP);
  });
});
