// SPDX-License-Identifier: Apache-2.0
import { EmbeddedStore } from '@cpkit/store-embedded';
import type { Binding, Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import { DefaultScheme } from '../api/scheme.js';
import { InProcessApiClient } from '../client/in-process-api-client.js';
import { StatusError } from '../errors/status-error.js';
import { FakeClock } from '../testing/fake-clock.js';
import { expectStatusError } from '../testing/status-rejection.js';
import { StoreRegistry } from './registry.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(): Promise<{ client: InProcessApiClient; store: EmbeddedStore; clock: FakeClock }> {
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  cleanups.push(() => store.close());
  const scheme = new DefaultScheme();
  registerBuiltinKinds(scheme);
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const client = new InProcessApiClient(new StoreRegistry(store, scheme, clock));
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  return { client, store, clock };
}

function pod(name: string, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }], ...spec },
  };
}

function binding(name: string, node: string, extra: Partial<Binding['metadata']> = {}): Binding {
  return {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name, namespace: 'default', ...extra },
    target: { kind: 'Node', name: node },
  };
}

describe('pods/binding', () => {
  it('assigns the pod, copies the annotations and records PodScheduled=True', async () => {
    const { client } = await setup();
    const created = await client.create(pod('web'));
    await client.bind(binding('web', 'n1', { uid: created.metadata?.uid, annotations: { note: 'x' } }));
    const bound = await client.get<Pod>('pods', 'web', { namespace: 'default' });
    expect(bound.spec?.nodeName).toBe('n1');
    expect(bound.metadata?.annotations).toEqual({ note: 'x' });
    expect(bound.status?.conditions).toEqual([
      { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T12:00:00Z' },
    ]);
    expect(Number(bound.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    );
  });

  it('replaces a PodScheduled=False condition written by the scheduler', async () => {
    const { client, clock } = await setup();
    const created = await client.create(pod('web'));
    await client.updateStatus({
      ...created,
      status: {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes are available',
            lastTransitionTime: '2026-01-01T12:00:00Z',
          },
        ],
      },
    });
    await clock.advance(5000);
    await client.bind(binding('web', 'n1'));
    const bound = await client.get<Pod>('pods', 'web', { namespace: 'default' });
    expect(bound.status?.conditions).toEqual([
      { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T12:00:05Z' },
    ]);
  });

  it.each<[string, (uid: string) => Binding, Partial<Pod['spec']>, string, string]>([
    [
      'an assigned pod',
      () => binding('web', 'n2'),
      { nodeName: 'n1' },
      'Conflict',
      'Operation cannot be fulfilled on pods "web": pod web is already assigned to node "n1"',
    ],
    [
      'a gated pod',
      () => binding('web', 'n2'),
      { schedulingGates: [{ name: 'wait' }] },
      'Conflict',
      'pod web has non-empty .spec.schedulingGates',
    ],
    [
      'a stale uid',
      () => binding('web', 'n2', { uid: 'not-the-uid' }),
      {},
      'Conflict',
      'Precondition failed: UID in precondition: not-the-uid',
    ],
    [
      'a missing target name',
      () => ({ metadata: { name: 'web' }, target: { kind: 'Node' } }),
      {},
      'Invalid',
      'Binding "web" is invalid: target.name: Required value',
    ],
    [
      'a target that is not a node',
      () => ({ metadata: { name: 'web' }, target: { kind: 'Pod', name: 'n1' } }),
      {},
      'Invalid',
      'target.kind: Unsupported value: "Pod"',
    ],
  ])('refuses %s without writing', async (_, makeBinding, spec, reason, message) => {
    const { client, store } = await setup();
    const created = await client.create(pod('web', spec));
    const before = await store.currentRevision();
    const error = await expectStatusError(client.bind(makeBinding(String(created.metadata?.uid))));
    expect(error.reason).toBe(reason);
    expect(error.message).toContain(message);
    expect(await store.currentRevision()).toBe(before);
  });

  it('is NotFound for a missing pod and refuses updates that set nodeName', async () => {
    const { client } = await setup();
    const missing = await expectStatusError(client.bind(binding('ghost', 'n1')));
    expect(missing.reason).toBe('NotFound');
    expect(missing.message).toBe('pods "ghost" not found');
    const created = await client.create(pod('web'));
    const update = await expectStatusError(
      client.update({
        ...created,
        spec: { ...created.spec, containers: created.spec?.containers ?? [], nodeName: 'n1' },
      }),
    );
    expect(update.reason).toBe('Invalid');
    const viaUpdate = await expectStatusError(
      client.patch('pods', 'web', 'merge', { spec: { nodeName: 'n1' } }, { namespace: 'default' }),
    );
    expect(viaUpdate.reason).toBe('Invalid');
  });

  it('lets exactly one of two concurrent bindings win', async () => {
    const { client } = await setup();
    await client.create(pod('web'));
    const results = await Promise.allSettled([
      client.bind(binding('web', 'n1')),
      client.bind(binding('web', 'n2')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((failure.reason as StatusError).reason).toBe('Conflict');
  });
});
