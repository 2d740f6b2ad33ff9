// SPDX-License-Identifier: Apache-2.0
// The informers, controller runtime and leader election against the real in-process ApiClient, its
// registry and the embedded store: the envtest of this kit.
import { EmbeddedStore } from '@cpkit/store-embedded';
import { Container } from 'inversify';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { Registry as MetricsRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject, UnstructuredObject } from '../api/object.js';
import { inProcessApiClientModule } from '../client/in-process-api-client-module.js';
import { ApiClient } from '../contracts/api-client.js';
import type { ReconcileRequest, Reconciler } from '../contracts/controller.js';
import { Store } from '../contracts/store.js';
import { isStatusError } from '../errors/status-error.js';
import { SharedInformerFactory } from '../informers/shared-informer-factory.js';
import { LeaderElector, leaseKind } from '../leader-election/leader-elector.js';
import { registryModule } from '../registry/registry-module.js';
import { FakeClock } from '../testing/fake-clock.js';
import { controllerFor } from './controller-builder.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function apiClient(): Promise<ApiClient> {
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  cleanups.push(() => store.close());
  const container = new Container();
  container.bind<Store>(Store).toConstantValue(store);
  container.load(registryModule(), inProcessApiClientModule());
  const client = container.get<ApiClient>(ApiClient);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  return client;
}

/** Polls `check` every 2 ms until it holds (the real clock; bounded by the test timeout). */
async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 5000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Keeps a Secret `<name>-copy` controlled by each ConfigMap, with the same data. */
class CopyReconciler implements Reconciler {
  readonly seen: string[] = [];
  constructor(private readonly client: ApiClient) {}
  async reconcile(request: ReconcileRequest): Promise<Record<string, never>> {
    this.seen.push(request.name);
    let source: UnstructuredObject;
    try {
      source = await this.client.get<UnstructuredObject>('ConfigMap', request.name, {
        namespace: request.namespace,
      });
    } catch (error) {
      if (isStatusError(error, 'NotFound')) return {};
      throw error;
    }
    const name = `${request.name}-copy`;
    try {
      await this.client.get('Secret', name, { namespace: request.namespace });
    } catch (error) {
      if (!isStatusError(error, 'NotFound')) throw error;
      await this.client.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name,
          namespace: request.namespace,
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: request.name,
              uid: source.metadata!.uid!,
              controller: true,
            },
          ],
        },
        stringData: source.data as Record<string, string>,
      });
    }
    return {};
  }
}

describe('controller runtime on the in-process ApiClient and the embedded store', () => {
  it('reconciles primaries, and repairs an owned object deleted behind its back', async () => {
    const client = await apiClient();
    const informers = new SharedInformerFactory(client);
    const reconciler = new CopyReconciler(client);
    const controller = controllerFor('ConfigMap', { informers, registry: new MetricsRegistry() })
      .owns('Secret')
      .withConcurrency(2)
      .complete(reconciler);
    const abort = new AbortController();
    cleanups.push(async () => {
      abort.abort();
      await controller.stopped();
      await informers.stopped();
    });
    await client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'before', namespace: 'default' },
      data: { k: 'v' },
    });
    await controller.start(abort.signal);
    await client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'after', namespace: 'default' },
      data: { k: 'w' },
    });

    const secrets = informers.forKind('Secret');
    await eventually(() => secrets.keys().length === 2, 'both copies exist');
    expect(secrets.keys().sort()).toEqual(['default/after-copy', 'default/before-copy']);

    await client.delete('Secret', 'after-copy', { namespace: 'default' });
    await eventually(
      () =>
        secrets.get('default/after-copy') !== undefined &&
        reconciler.seen.filter((n) => n === 'after').length >= 2,
      'the copy is recreated',
    );
    const recreated = await client.get('Secret', 'after-copy', { namespace: 'default' });
    expect(recreated.metadata?.ownerReferences?.[0]?.name).toBe('after');
  });

  it('leader election hands over through a real Lease when the leader stops', async () => {
    const client = await apiClient();
    const clock = new FakeClock();
    const electors = ['a', 'b'].map(
      (identity) =>
        new LeaderElector({
          client,
          clock,
          identity,
          leaseName: 'cpkit',
          leaseNamespace: 'default',
          jitterFactor: 0,
        }),
    );
    const aborts = electors.map(() => new AbortController());
    cleanups.push(async () => {
      for (const a of aborts) a.abort();
      await Promise.all(electors.map((e) => e.stopped()));
    });
    await electors[0].start(aborts[0].signal);
    await clock.advance(0);
    await electors[1].start(aborts[1].signal);
    await clock.advance(6000);
    expect(electors.map((e) => e.isLeader())).toEqual([true, false]);
    aborts[0].abort();
    await electors[0].stopped();
    await clock.advance(2000);
    expect(electors.map((e) => e.isLeader())).toEqual([false, true]);
    const lease = await client.get<Lease & KubeObject>(leaseKind, 'cpkit', { namespace: 'default' });
    expect(lease.spec?.holderIdentity).toBe('b');
    expect(lease.spec?.leaseTransitions).toBe(1);
    expect(lease.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});
