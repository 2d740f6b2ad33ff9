// SPDX-License-Identifier: Apache-2.0
import { EmbeddedStore } from '@cpkit/store-embedded';
import type { Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import type { UnstructuredObject } from '../api/object.js';
import { DefaultScheme } from '../api/scheme.js';
import type { WatchEvent } from '../contracts/api-client.js';
import { StatusError } from '../errors/status-error.js';
import { FakeClock } from '../testing/fake-clock.js';
import { expectStatusError } from '../testing/status-rejection.js';
import { type RegistryOptions, StoreRegistry, storageKey } from './registry.js';

// ------------------------------------------------------------------------------------------------
// Fixtures

interface Setup {
  store: EmbeddedStore;
  scheme: DefaultScheme;
  registry: StoreRegistry;
  clock: FakeClock;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(options: RegistryOptions = {}): Promise<Setup> {
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  cleanups.push(() => store.close());
  const scheme = new DefaultScheme();
  registerBuiltinKinds(scheme);
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const registry = new StoreRegistry(store, scheme, clock, options);
  for (const name of ['default', 'other']) {
    await registry.create<UnstructuredObject>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  return { store, scheme, registry, clock };
}

function configMap(
  name: string,
  extra: Partial<UnstructuredObject> = {},
  namespace = 'default',
): UnstructuredObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { a: '1' }, ...extra };
}

function pod(
  name: string,
  extra: { labels?: Record<string, string>; nodeName?: string; namespace?: string } = {},
): UnstructuredObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: extra.namespace ?? 'default', labels: extra.labels },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }], nodeName: extra.nodeName },
  };
}

function deployment(name: string, replicas = 1): UnstructuredObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
      },
    },
  };
}

/** Runs `fn`, which must fail, and checks the store did not change. */
async function failsWithoutWriting(store: EmbeddedStore, fn: () => Promise<unknown>): Promise<StatusError> {
  const before = await store.currentRevision();
  const error = await expectStatusError(fn());
  expect(await store.currentRevision()).toBe(before);
  return error;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

interface Recorder {
  events: WatchEvent[];
  error?: StatusError;
  completed: boolean;
  subscription: Subscription;
  summary(): string[];
}

function record(source: import('rxjs').Observable<WatchEvent>): Recorder {
  const recorder: Recorder = {
    events: [],
    completed: false,
    subscription: undefined as unknown as Subscription,
    summary: () => recorder.events.map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`.trim()),
  };
  recorder.subscription = source.subscribe({
    next: (event) => recorder.events.push(event),
    error: (error: StatusError) => {
      recorder.error = error;
    },
    complete: () => {
      recorder.completed = true;
    },
  });
  cleanups.push(() => recorder.subscription.unsubscribe());
  return recorder;
}

// ------------------------------------------------------------------------------------------------

describe('create', () => {
  it('sets uid, creationTimestamp, resourceVersion and generation as the server owns them', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(deployment('web'));
    const revision = await store.currentRevision();
    expect(created.metadata).toMatchObject({
      name: 'web',
      namespace: 'default',
      creationTimestamp: '2026-01-01T12:00:00Z',
      resourceVersion: String(revision),
      generation: 1,
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    const stored = await store.get(storageKey(registry.scheme.resolve('deployments'), 'default', 'web'));
    expect(stored.key).toBe('/registry/apps/deployments/default/web');
    expect(JSON.parse(stored.value).metadata.resourceVersion).toBeUndefined();
    // Kinds upstream does not track have no generation.
    expect((await registry.create<UnstructuredObject>(configMap('c'))).metadata?.generation).toBeUndefined();
  });

  it('ignores the system metadata a client sends and refuses a resourceVersion', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(
      configMap('c', {
        metadata: {
          name: 'c',
          namespace: 'default',
          uid: 'mine',
          creationTimestamp: '2000-01-01T00:00:00Z',
          generation: 7,
          deletionTimestamp: '2000-01-01T00:00:00Z',
        },
      }),
    );
    expect(created.metadata?.uid).not.toBe('mine');
    expect(created.metadata?.creationTimestamp).toBe('2026-01-01T12:00:00Z');
    expect(created.metadata?.deletionTimestamp).toBeUndefined();
    const error = await failsWithoutWriting(store, () =>
      registry.create<UnstructuredObject>(configMap('d', { metadata: { name: 'd', resourceVersion: '5' } })),
    );
    expect(error.reason).toBe('BadRequest');
    expect(error.message).toBe('resourceVersion should not be set on objects to be created');
  });

  it('generates names from generateName, truncating long prefixes', async () => {
    const { registry } = await setup();
    const a = await registry.create<UnstructuredObject>(
      configMap('', { metadata: { generateName: 'web-', namespace: 'default' } }),
    );
    expect(a.metadata?.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const ns = await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { generateName: 'team-' },
    });
    expect(ns.metadata?.labels?.['kubernetes.io/metadata.name']).toBe(ns.metadata?.name);
    const long = 'x'.repeat(70);
    const b = await registry.create<UnstructuredObject>(
      configMap('', { metadata: { generateName: long, namespace: 'default' } }),
    );
    expect(b.metadata?.name).toHaveLength(63);
    expect(b.metadata?.name?.startsWith('x'.repeat(58))).toBe(true);
  });

  it('places namespaced objects in the requested namespace and strips it from cluster-scoped ones', async () => {
    const { registry, store } = await setup();
    expect(
      (await registry.create<UnstructuredObject>(configMap('x', { metadata: { name: 'x' } }))).metadata
        ?.namespace,
    ).toBe('default');
    expect(
      (
        await registry.create<UnstructuredObject>(configMap('y', { metadata: { name: 'y' } }), {
          namespace: 'other',
        })
      ).metadata?.namespace,
    ).toBe('other');
    const node = await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', namespace: 'default' },
    });
    expect(node.metadata?.namespace).toBeUndefined();
    const mismatch = await failsWithoutWriting(store, () =>
      registry.create<UnstructuredObject>(configMap('z', {}, 'default'), { namespace: 'other' }),
    );
    expect(mismatch.message).toBe(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  });

  it('fails with AlreadyExists and the upstream message', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(configMap('c'));
    const error = await failsWithoutWriting(store, () => registry.create<UnstructuredObject>(configMap('c')));
    expect(error.reason).toBe('AlreadyExists');
    expect(error.code).toBe(409);
    expect(error.message).toBe('configmaps "c" already exists');
    const deploy = await expectStatusError(
      (async () => {
        await registry.create<UnstructuredObject>(deployment('d'));
        await registry.create<UnstructuredObject>(deployment('d'));
      })(),
    );
    expect(deploy.message).toBe('deployments.apps "d" already exists');
  });

  it.each([
    ['a bad name', configMap('Bad_Name'), 'metadata.name'],
    ['no name at all', configMap(''), 'metadata.name'],
    [
      'a bad label key',
      configMap('c', { metadata: { name: 'c', labels: { 'bad key': 'v' } } }),
      'metadata.labels',
    ],
    [
      'a bad label value',
      configMap('c', { metadata: { name: 'c', labels: { k: 'a b' } } }),
      'metadata.labels',
    ],
    [
      'a bad annotation key',
      configMap('c', { metadata: { name: 'c', annotations: { '-x': 'v' } } }),
      'metadata.annotations',
    ],
    [
      'an owner reference without uid',
      configMap('c', {
        metadata: {
          name: 'c',
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs' } as never],
        },
      }),
      'metadata.ownerReferences.uid',
    ],
    [
      'an owner reference without kind',
      configMap('c', {
        metadata: { name: 'c', ownerReferences: [{ apiVersion: 'apps/v1', name: 'rs', uid: 'u' } as never] },
      }),
      'metadata.ownerReferences.kind',
    ],
    ['a bad config key', configMap('c', { data: { 'a b': 'x' } }), 'data[a b]'],
    [
      'a namespace name that is not a label',
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } },
      'metadata.name',
    ],
  ])('rejects %s with 422 Invalid naming the field, writing nothing', async (_what, object, field) => {
    const { registry, store } = await setup();
    const error = await failsWithoutWriting(store, () => registry.create<UnstructuredObject>(object));
    expect(error.reason).toBe('Invalid');
    expect(error.code).toBe(422);
    expect(error.details?.causes?.map((c) => c.field)).toContain(field);
    expect(error.message).toMatch(/^(ConfigMap|Namespace) ".*" is invalid: /);
  });

  it('reports metadata and spec problems together in one Invalid answer', async () => {
    const { registry, store } = await setup();
    const bad = pod('Bad_Name', { labels: { 'bad key!': 'v' } });
    delete (bad.spec as { containers?: unknown }).containers;
    const error = await failsWithoutWriting(store, () => registry.create<UnstructuredObject>(bad));
    expect(error.reason).toBe('Invalid');
    expect(error.details?.causes?.map((c) => c.field).sort()).toEqual([
      'metadata.labels',
      'metadata.name',
      'spec.containers',
    ]);
  });

  it('requires the namespace to exist and not be terminating (NamespaceLifecycle)', async () => {
    const { registry, store } = await setup();
    const missing = await failsWithoutWriting(store, () =>
      registry.create<UnstructuredObject>(configMap('c', {}, 'nope')),
    );
    expect(missing.reason).toBe('NotFound');
    expect(missing.message).toBe('namespaces "nope" not found');
    await registry.delete<UnstructuredObject>('namespaces', 'other');
    const terminating = await failsWithoutWriting(store, () =>
      registry.create<UnstructuredObject>(configMap('c', {}, 'other')),
    );
    expect(terminating.reason).toBe('Forbidden');
    expect(terminating.code).toBe(403);
    expect(terminating.message).toBe(
      'configmaps "c" is forbidden: unable to create new content in namespace other because it is being terminated',
    );
    expect(terminating.details?.causes?.[0]).toMatchObject({
      reason: 'NamespaceTerminating',
      field: 'metadata.namespace',
    });
  });

  it('never persists a dry run', async () => {
    const { registry, store } = await setup();
    const before = await store.currentRevision();
    const result = await registry.create<UnstructuredObject>(configMap('c'), { dryRun: ['All'] });
    expect(result.metadata?.uid).toBeDefined();
    expect(result.metadata?.resourceVersion).toBeUndefined();
    expect(await store.currentRevision()).toBe(before);
    expect((await expectStatusError(registry.get<UnstructuredObject>('configmaps', 'c'))).reason).toBe(
      'NotFound',
    );
    expect(
      (
        await expectStatusError(
          registry.create<UnstructuredObject>(configMap('c'), { dryRun: ['Some' as 'All'] }),
        )
      ).reason,
    ).toBe('BadRequest');
  });

  it('drops status on create for kinds with a status subresource and sets the initial one', async () => {
    const { registry } = await setup();
    const d = await registry.create<UnstructuredObject>({ ...deployment('d'), status: { replicas: 5 } });
    expect(d.status).toBeUndefined();
    const p = await registry.create<UnstructuredObject>({ ...pod('p'), status: { phase: 'Running' } });
    expect(p.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    const c = await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'fresh' },
    });
    expect(c.status).toEqual({ phase: 'Active' });
    expect(c.spec).toEqual({ finalizers: ['kubernetes'] });
    expect(c.metadata?.labels).toEqual({ 'kubernetes.io/metadata.name': 'fresh' });
  });

  it('rejects objects that are not JSON objects or name no known kind', async () => {
    const { registry, store } = await setup();
    for (const bad of [
      null,
      'pod',
      [1],
      { kind: 'Pod' },
      { apiVersion: 'v1', kind: 'Gadget', metadata: { name: 'g' } },
    ]) {
      const error = await failsWithoutWriting(store, () =>
        registry.create<UnstructuredObject>(bad as UnstructuredObject),
      );
      expect(['BadRequest', 'NotFound']).toContain(error.reason);
    }
    const mismatch = await failsWithoutWriting(store, () =>
      registry.create<UnstructuredObject>(configMap('c'), { kind: 'pods' }),
    );
    expect(mismatch.message).toContain('does not match the expected');
  });

  it('never keeps a reference to the object it was given', async () => {
    const { registry } = await setup();
    const input = configMap('c');
    const created = await registry.create<UnstructuredObject>(input);
    (input.data as Record<string, string>).a = 'changed';
    (created.data as Record<string, string>).a = 'changed too';
    expect((await registry.get<UnstructuredObject>('configmaps', 'c')).data).toEqual({ a: '1' });
  });
});

describe('get', () => {
  it('reads an object and fails with the upstream NotFound message', async () => {
    const { registry } = await setup();
    await registry.create<UnstructuredObject>(pod('web'));
    expect((await registry.get<UnstructuredObject>('pods', 'web')).metadata?.name).toBe('web');
    const missing = await expectStatusError(registry.get<UnstructuredObject>('pods', 'nope'));
    expect(missing.reason).toBe('NotFound');
    expect(missing.code).toBe(404);
    expect(missing.message).toBe('pods "nope" not found');
    expect(missing.details).toMatchObject({ name: 'nope', kind: 'pods' });
    expect((await expectStatusError(registry.get<UnstructuredObject>('deployments', 'x'))).message).toBe(
      'deployments.apps "x" not found',
    );
    expect(
      (await expectStatusError(registry.get<UnstructuredObject>('pods', 'web', { namespace: 'other' })))
        .reason,
    ).toBe('NotFound');
  });

  it.each([
    ['an empty name', ''],
    ['a name with a slash', 'a/b'],
  ])('rejects %s with BadRequest', async (_what, name) => {
    const { registry } = await setup();
    expect((await expectStatusError(registry.get<UnstructuredObject>('pods', name))).reason).toBe(
      'BadRequest',
    );
  });

  it('refuses a resourceVersion newer than the store with 504 Too large resource version', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(pod('web'));
    const current = await store.currentRevision();
    expect(
      (await registry.get<UnstructuredObject>('pods', 'web', { resourceVersion: String(current) })).metadata
        ?.name,
    ).toBe('web');
    const error = await expectStatusError(
      registry.get<UnstructuredObject>('pods', 'web', { resourceVersion: String(current + 10) }),
    );
    expect(error.reason).toBe('Timeout');
    expect(error.message).toBe(`Too large resource version: ${current + 10}, current: ${current}`);
    expect(
      (await expectStatusError(registry.get<UnstructuredObject>('pods', 'web', { resourceVersion: 'abc' })))
        .reason,
    ).toBe('BadRequest');
  });
});

describe('update', () => {
  it('bumps resourceVersion always and generation only when the spec changes', async () => {
    const { registry } = await setup();
    const created = await registry.create<UnstructuredObject>(deployment('web'));
    const relabeled = await registry.update<UnstructuredObject>({
      ...created,
      metadata: { ...created.metadata, labels: { x: 'y' } },
    });
    expect(Number(relabeled.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    );
    expect(relabeled.metadata?.generation).toBe(1);
    const scaled = await registry.update<UnstructuredObject>({
      ...relabeled,
      spec: { ...(relabeled.spec as object), replicas: 3 },
    });
    expect(scaled.metadata?.generation).toBe(2);
    expect(scaled.metadata?.uid).toBe(created.metadata?.uid);
    expect(scaled.metadata?.creationTimestamp).toBe(created.metadata?.creationTimestamp);
  });

  it('rejects a stale resourceVersion with the upstream Conflict message and changes nothing', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(configMap('c'));
    await registry.update<UnstructuredObject>({ ...created, data: { a: '2' } });
    const error = await failsWithoutWriting(store, () =>
      registry.update<UnstructuredObject>({ ...created, data: { a: '3' } }),
    );
    expect(error.reason).toBe('Conflict');
    expect(error.code).toBe(409);
    expect(error.message).toBe(
      'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect((await registry.get<UnstructuredObject>('configmaps', 'c')).data).toEqual({ a: '2' });
  });

  it('updates unconditionally without a resourceVersion', async () => {
    const { registry } = await setup();
    await registry.create<UnstructuredObject>(configMap('c'));
    await registry.update<UnstructuredObject>(configMap('c', { data: { a: '2' } }));
    const last = await registry.update<UnstructuredObject>(configMap('c', { data: { a: '3' } }));
    expect(last.data).toEqual({ a: '3' });
  });

  it('does not write when nothing changes', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(deployment('web'));
    const before = await store.currentRevision();
    const same = await registry.update<UnstructuredObject>(created);
    expect(same.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(await store.currentRevision()).toBe(before);
  });

  it('fails with NotFound for a missing object and Conflict for another uid', async () => {
    const { registry, store } = await setup();
    expect((await expectStatusError(registry.update<UnstructuredObject>(configMap('nope')))).message).toBe(
      'configmaps "nope" not found',
    );
    await registry.create<UnstructuredObject>(configMap('c'));
    const error = await failsWithoutWriting(store, () =>
      registry.update<UnstructuredObject>(
        configMap('c', { metadata: { name: 'c', namespace: 'default', uid: 'other-uid' } }),
      ),
    );
    expect(error.reason).toBe('Conflict');
    expect(error.message).toContain('Precondition failed: UID in precondition: other-uid');
  });

  it('keeps status on a main update and spec on a status update', async () => {
    const { registry } = await setup();
    const created = await registry.create<UnstructuredObject>(deployment('web'));
    const withStatus = await registry.update<UnstructuredObject>(
      { ...created, status: { replicas: 1 } },
      { subresource: 'status' },
    );
    expect(withStatus.status).toEqual({ replicas: 1 });
    expect(withStatus.metadata?.generation).toBe(1);
    const mainUpdate = await registry.update<UnstructuredObject>({
      ...withStatus,
      spec: { ...(withStatus.spec as object), replicas: 4 },
      status: { replicas: 99 },
    });
    expect(mainUpdate.status).toEqual({ replicas: 1 });
    expect((mainUpdate.spec as { replicas: number }).replicas).toBe(4);
    const statusUpdate = await registry.update<UnstructuredObject>(
      {
        ...mainUpdate,
        spec: { replicas: 0 },
        metadata: { ...mainUpdate.metadata, labels: { sneaky: 'yes' } },
        status: { replicas: 4 },
      },
      { subresource: 'status' },
    );
    expect((statusUpdate.spec as { replicas: number }).replicas).toBe(4);
    expect(statusUpdate.metadata?.labels).toBeUndefined();
    expect(statusUpdate.status).toEqual({ replicas: 4 });
    expect(statusUpdate.metadata?.generation).toBe(2);
  });

  it('keeps managedFields on a status write unless the caller records them (managedFieldsFromRequest)', async () => {
    const { registry } = await setup();
    const entry = (manager: string, subresource?: string) => ({
      manager,
      operation: 'Update',
      apiVersion: 'apps/v1',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': {} },
      ...(subresource ? { subresource } : {}),
    });
    const created = await registry.create<UnstructuredObject>({
      ...deployment('web'),
      metadata: { name: 'web', namespace: 'default', managedFields: [entry('creator')] },
    });
    const recorded = [entry('creator'), entry('status-writer', 'status')];
    // Without the option a status write keeps the stored metadata, managedFields included.
    const kept = await registry.update<UnstructuredObject>(
      { ...created, metadata: { ...created.metadata, managedFields: recorded }, status: { replicas: 1 } },
      { subresource: 'status' },
    );
    expect(kept.metadata?.managedFields).toEqual([entry('creator')]);
    // With it, the request's managedFields are stored, and nothing else of its metadata.
    const taken = await registry.update<UnstructuredObject>(
      {
        ...kept,
        metadata: { ...kept.metadata, labels: { sneaky: 'yes' }, managedFields: recorded },
        status: { replicas: 2 },
      },
      { subresource: 'status', managedFieldsFromRequest: true },
    );
    expect(taken.metadata?.managedFields).toEqual(recorded);
    expect(taken.metadata?.labels).toBeUndefined();
    expect(taken.status).toEqual({ replicas: 2 });
    // Left out, they stay as stored; patches take the option too, and an empty list clears them.
    const omitted = await registry.update<UnstructuredObject>(
      { ...taken, metadata: { name: 'web', namespace: 'default' }, status: { replicas: 3 } },
      { subresource: 'status', managedFieldsFromRequest: true },
    );
    expect(omitted.metadata?.managedFields).toEqual(recorded);
    const patched = await registry.patch<UnstructuredObject>(
      'deployments',
      'web',
      'merge',
      { metadata: { managedFields: [entry('patcher', 'status')] }, status: { replicas: 4 } },
      { subresource: 'status', managedFieldsFromRequest: true },
    );
    expect(patched.metadata?.managedFields).toEqual([entry('patcher', 'status')]);
    const cleared = await registry.patch<UnstructuredObject>(
      'deployments',
      'web',
      'json',
      [{ op: 'replace', path: '/metadata/managedFields', value: [] }],
      { subresource: 'status', managedFieldsFromRequest: true },
    );
    expect(cleared.metadata?.managedFields).toBeUndefined();
  });

  it('lets a pod status update change labels, as upstream does', async () => {
    const { registry } = await setup();
    const created = await registry.create<UnstructuredObject>(pod('p'));
    const updated = await registry.update<UnstructuredObject>(
      {
        ...created,
        metadata: { ...created.metadata, labels: { ready: 'true' } },
        status: { phase: 'Running' },
      },
      { subresource: 'status' },
    );
    expect(updated.metadata?.labels).toEqual({ ready: 'true' });
    expect((updated.status as { phase: string }).phase).toBe('Running');
  });

  it.each([
    ['a subresource the kind does not have', 'configmaps', 'status', 'NotFound'],
    ['a subresource the registry cannot write', 'deployments', 'scale', 'MethodNotAllowed'],
  ])('rejects %s', async (_what, resource, subresource, reason) => {
    const { registry, store } = await setup();
    const object = resource === 'configmaps' ? configMap('c') : deployment('c');
    const created = await registry.create<UnstructuredObject>(object);
    const error = await failsWithoutWriting(store, () =>
      registry.update<UnstructuredObject>(created, { subresource }),
    );
    expect(error.reason).toBe(reason);
  });

  it('validates updates with the kind rules and changes nothing when invalid', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(deployment('web'));
    const error = await failsWithoutWriting(store, () =>
      registry.update<UnstructuredObject>({
        ...created,
        spec: { ...(created.spec as object), replicas: -1, selector: { matchLabels: { app: 'other' } } },
      }),
    );
    expect(error.reason).toBe('Invalid');
    expect(error.details?.causes?.map((c) => c.field)).toEqual(
      expect.arrayContaining(['spec.replicas', 'spec.template.metadata.labels', 'spec.selector']),
    );
    expect(error.message).toContain('Deployment.apps "web" is invalid: ');
  });

  it('refuses to change the name or namespace through a patch', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(configMap('c'));
    const error = await failsWithoutWriting(store, () =>
      registry.patch<UnstructuredObject>('configmaps', 'c', 'merge', { metadata: { name: 'd' } }),
    );
    expect(error.reason).toBe('Invalid');
    expect(error.details?.causes?.[0]).toMatchObject({ field: 'metadata.name' });
  });
});

describe('patch', () => {
  it('applies JSON merge patches (null removes)', async () => {
    const { registry } = await setup();
    await registry.create<UnstructuredObject>(
      configMap('c', { metadata: { name: 'c', namespace: 'default', labels: { a: '1', b: '2' } } }),
    );
    const patched = await registry.patch<UnstructuredObject>('configmaps', 'c', 'merge', {
      metadata: { labels: { a: null, c: '3' } },
      data: { z: '9' },
    });
    expect(patched.metadata?.labels).toEqual({ b: '2', c: '3' });
    expect(patched.data).toEqual({ a: '1', z: '9' });
  });

  it('applies JSON patches and answers 422 when one cannot apply, 400 when malformed', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(deployment('web'));
    const patched = await registry.patch<UnstructuredObject>('deployments.apps', 'web', 'json', [
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels', value: { tier: 'fe' } },
    ]);
    expect((patched.spec as { replicas: number }).replicas).toBe(5);
    expect(patched.metadata?.generation).toBe(2);
    const failedTest = await failsWithoutWriting(store, () =>
      registry.patch<UnstructuredObject>('deployments', 'web', 'json', [
        { op: 'test', path: '/spec/replicas', value: 1 },
      ]),
    );
    expect(failedTest.code).toBe(422);
    const missing = await failsWithoutWriting(store, () =>
      registry.patch<UnstructuredObject>('deployments', 'web', 'json', [
        { op: 'replace', path: '/spec/nope/deeper', value: 1 },
      ]),
    );
    expect(missing.code).toBe(422);
    for (const malformed of [{ op: 'replace' }, [{ op: 'explode', path: '/a' }], [{ op: 'add' }]]) {
      expect(
        (
          await failsWithoutWriting(store, () =>
            registry.patch<UnstructuredObject>('deployments', 'web', 'json', malformed),
          )
        ).reason,
      ).toBe('BadRequest');
    }
    expect(
      (
        await failsWithoutWriting(store, () =>
          registry.patch<UnstructuredObject>('deployments', 'web', 'merge', [1]),
        )
      ).reason,
    ).toBe('BadRequest');
    const badType = await failsWithoutWriting(store, () =>
      registry.patch<UnstructuredObject>('deployments', 'web', 'strategic' as 'merge', {}),
    );
    expect(badType.reason).toBe('UnsupportedMediaType');
  });

  it('honours a resourceVersion in the patch and retries conflict-free without one', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(configMap('c'));
    await registry.patch<UnstructuredObject>('configmaps', 'c', 'merge', { data: { b: '2' } });
    const stale = await failsWithoutWriting(store, () =>
      registry.patch<UnstructuredObject>('configmaps', 'c', 'merge', {
        metadata: { resourceVersion: created.metadata?.resourceVersion },
        data: { x: '1' },
      }),
    );
    expect(stale.reason).toBe('Conflict');
    // Twenty concurrent patches without a resourceVersion: every one lands.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        registry.patch<UnstructuredObject>('configmaps', 'c', 'merge', {
          metadata: { labels: { [`k${i}`]: 'v' } },
        }),
      ),
    );
    expect(
      Object.keys((await registry.get<UnstructuredObject>('configmaps', 'c')).metadata?.labels ?? {}),
    ).toHaveLength(20);
  });

  it('patches the status subresource without touching the spec', async () => {
    const { registry } = await setup();
    await registry.create<UnstructuredObject>(deployment('web'));
    const patched = await registry.patch<UnstructuredObject>(
      'deployments',
      'web',
      'merge',
      { spec: { replicas: 9 }, status: { readyReplicas: 1 } },
      { subresource: 'status' },
    );
    expect(patched.status).toEqual({ readyReplicas: 1 });
    expect((patched.spec as { replicas: number }).replicas).toBe(1);
  });

  it('does not persist a dry-run patch', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(configMap('c'));
    const before = await store.currentRevision();
    const result = await registry.patch<UnstructuredObject>(
      'configmaps',
      'c',
      'merge',
      { data: { a: 'dry' } },
      { dryRun: ['All'] },
    );
    expect(result.data).toEqual({ a: 'dry' });
    expect(await store.currentRevision()).toBe(before);
    expect((await registry.get<UnstructuredObject>('configmaps', 'c')).data).toEqual({ a: '1' });
  });
});

describe('delete', () => {
  it('deletes an object without finalizers and returns its last state at the deletion revision', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(configMap('c'));
    const deleted = await registry.delete<UnstructuredObject>('configmaps', 'c');
    expect(deleted.metadata?.resourceVersion).toBe(String(await store.currentRevision()));
    expect(deleted.data).toEqual({ a: '1' });
    expect((await expectStatusError(registry.get<UnstructuredObject>('configmaps', 'c'))).reason).toBe(
      'NotFound',
    );
    expect((await expectStatusError(registry.delete<UnstructuredObject>('configmaps', 'c'))).message).toBe(
      'configmaps "c" not found',
    );
  });

  it('only marks an object with finalizers; removing the last finalizer deletes it', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>({
      ...deployment('web'),
      metadata: { name: 'web', namespace: 'default', finalizers: ['example.com/a', 'example.com/b'] },
    });
    const marked = await registry.delete<UnstructuredObject>('deployments', 'web');
    expect(marked.metadata).toMatchObject({
      deletionTimestamp: '2026-01-01T12:00:00Z',
      deletionGracePeriodSeconds: 0,
      generation: 2,
      finalizers: ['example.com/a', 'example.com/b'],
    });
    // No new finalizers once deletion started.
    const added = await failsWithoutWriting(store, () =>
      registry.patch<UnstructuredObject>('deployments', 'web', 'merge', {
        metadata: { finalizers: ['example.com/a', 'example.com/b', 'example.com/c'] },
      }),
    );
    expect(added.reason).toBe('Invalid');
    expect(added.message).toContain('no new finalizers can be added if the object is being deleted');
    // An update cannot clear the deletion mark.
    const current = await registry.get<UnstructuredObject>('deployments', 'web');
    const cleared = await registry.update<UnstructuredObject>({
      ...current,
      metadata: {
        ...current.metadata,
        deletionTimestamp: undefined,
        finalizers: ['example.com/a', 'example.com/b'],
        labels: { x: 'y' },
      },
    });
    expect(cleared.metadata?.deletionTimestamp).toBe('2026-01-01T12:00:00Z');
    await registry.patch<UnstructuredObject>('deployments', 'web', 'json', [
      { op: 'remove', path: '/metadata/finalizers/0' },
    ]);
    expect((await registry.get<UnstructuredObject>('deployments', 'web')).metadata?.finalizers).toEqual([
      'example.com/b',
    ]);
    await registry.patch<UnstructuredObject>('deployments', 'web', 'merge', {
      metadata: { finalizers: null },
    });
    expect((await expectStatusError(registry.get<UnstructuredObject>('deployments', 'web'))).reason).toBe(
      'NotFound',
    );
  });

  it('checks uid and resourceVersion preconditions', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(configMap('c'));
    const uid = await failsWithoutWriting(store, () =>
      registry.delete<UnstructuredObject>('configmaps', 'c', { preconditions: { uid: 'x' } }),
    );
    expect(uid.reason).toBe('Conflict');
    expect(uid.message).toBe(
      `Operation cannot be fulfilled on configmaps "c": Precondition failed: UID in precondition: x, UID in object meta: ${created.metadata?.uid}`,
    );
    const version = await failsWithoutWriting(store, () =>
      registry.delete<UnstructuredObject>('configmaps', 'c', { preconditions: { resourceVersion: '1' } }),
    );
    expect(version.message).toContain(
      'Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta:',
    );
    await registry.delete<UnstructuredObject>('configmaps', 'c', {
      preconditions: { uid: created.metadata?.uid, resourceVersion: created.metadata?.resourceVersion },
    });
    expect((await expectStatusError(registry.get<UnstructuredObject>('configmaps', 'c'))).reason).toBe(
      'NotFound',
    );
  });

  it.each([
    ['Orphan', ['orphan']],
    ['Foreground', ['foregroundDeletion']],
  ] as const)(
    'propagationPolicy %s adds the %j finalizer and keeps the object',
    async (policy, finalizers) => {
      const { registry } = await setup();
      await registry.create<UnstructuredObject>(configMap('c'));
      const marked = await registry.delete<UnstructuredObject>('configmaps', 'c', {
        propagationPolicy: policy,
      });
      expect(marked.metadata?.finalizers).toEqual(finalizers);
      expect(marked.metadata?.deletionTimestamp).toBeDefined();
      expect((await registry.get<UnstructuredObject>('configmaps', 'c')).metadata?.finalizers).toEqual(
        finalizers,
      );
    },
  );

  it('propagationPolicy Background drops the garbage collector finalizers', async () => {
    const { registry } = await setup();
    await registry.create<UnstructuredObject>(configMap('c'));
    await registry.delete<UnstructuredObject>('configmaps', 'c', { propagationPolicy: 'Orphan' });
    await registry.delete<UnstructuredObject>('configmaps', 'c', { propagationPolicy: 'Background' });
    expect((await expectStatusError(registry.get<UnstructuredObject>('configmaps', 'c'))).reason).toBe(
      'NotFound',
    );
  });

  it.each([
    ['a bad propagationPolicy', { propagationPolicy: 'Sometimes' }],
    ['a negative grace period', { gracePeriodSeconds: -1 }],
    ['a bad dryRun', { dryRun: ['Partly'] }],
  ])('rejects %s with BadRequest and deletes nothing', async (_what, options) => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(configMap('c'));
    const error = await failsWithoutWriting(store, () =>
      registry.delete<UnstructuredObject>('configmaps', 'c', options as never),
    );
    expect(error.reason).toBe('BadRequest');
  });

  it('deletes scheduled pods gracefully and unscheduled ones at once', async () => {
    const { registry } = await setup();
    await registry.create<UnstructuredObject>(pod('scheduled', { nodeName: 'n1' }));
    await registry.create<UnstructuredObject>(pod('pending'));
    const marked = await registry.delete<UnstructuredObject>('pods', 'scheduled');
    expect(marked.metadata).toMatchObject({
      deletionTimestamp: '2026-01-01T12:00:30Z',
      deletionGracePeriodSeconds: 30,
    });
    const shorter = await registry.delete<UnstructuredObject>('pods', 'scheduled', { gracePeriodSeconds: 5 });
    expect(shorter.metadata).toMatchObject({
      deletionTimestamp: '2026-01-01T12:00:05Z',
      deletionGracePeriodSeconds: 5,
    });
    const longer = await registry.delete<UnstructuredObject>('pods', 'scheduled', { gracePeriodSeconds: 60 });
    expect(longer.metadata?.deletionGracePeriodSeconds).toBe(5);
    // The node agent confirms with a zero grace period.
    await registry.delete<UnstructuredObject>('pods', 'scheduled', { gracePeriodSeconds: 0 });
    expect((await expectStatusError(registry.get<UnstructuredObject>('pods', 'scheduled'))).reason).toBe(
      'NotFound',
    );
    await registry.delete<UnstructuredObject>('pods', 'pending');
    expect((await expectStatusError(registry.get<UnstructuredObject>('pods', 'pending'))).reason).toBe(
      'NotFound',
    );
  });

  it('never persists a dry-run delete', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(configMap('c'));
    const before = await store.currentRevision();
    await registry.delete<UnstructuredObject>('configmaps', 'c', { dryRun: ['All'] });
    expect(await store.currentRevision()).toBe(before);
    expect((await registry.get<UnstructuredObject>('configmaps', 'c')).metadata?.name).toBe('c');
  });
});

describe('namespaces', () => {
  it('terminate on delete and go once the finalize subresource clears spec.finalizers', async () => {
    const { registry } = await setup();
    const terminating = await registry.delete<UnstructuredObject>('namespaces', 'other');
    expect(terminating.status).toEqual({ phase: 'Terminating' });
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    // A main update cannot drop spec.finalizers: only the finalize subresource can.
    const current = await registry.get<UnstructuredObject>('namespaces', 'other');
    const updated = await registry.update<UnstructuredObject>({ ...current, spec: { finalizers: [] } });
    expect(updated.spec).toEqual({ finalizers: ['kubernetes'] });
    await registry.update<UnstructuredObject>(
      { ...current, spec: { finalizers: [] } },
      { subresource: 'finalize' },
    );
    expect((await expectStatusError(registry.get<UnstructuredObject>('namespaces', 'other'))).reason).toBe(
      'NotFound',
    );
  });

  it('cannot delete the default namespace', async () => {
    const { registry, store } = await setup();
    const error = await failsWithoutWriting(store, () =>
      registry.delete<UnstructuredObject>('namespaces', 'default'),
    );
    expect(error.reason).toBe('Forbidden');
    expect(error.message).toBe('namespaces "default" is forbidden: this namespace may not be deleted');
  });

  it('filter by status.phase', async () => {
    const { registry } = await setup();
    await registry.delete<UnstructuredObject>('namespaces', 'other');
    const active = await registry.list<UnstructuredObject>('namespaces', {
      fieldSelector: 'status.phase=Active',
    });
    expect(active.items.map((n) => n.metadata?.name)).toEqual(['default']);
  });
});

describe('list', () => {
  async function seeded(): Promise<Setup> {
    const s = await setup();
    await s.registry.create<UnstructuredObject>(
      pod('a', { labels: { app: 'web', tier: 'fe' }, nodeName: 'n1' }),
    );
    await s.registry.create<UnstructuredObject>(
      pod('b', { labels: { app: 'web', tier: 'be' }, nodeName: 'n2' }),
    );
    await s.registry.create<UnstructuredObject>(pod('c', { labels: { app: 'db' }, nodeName: 'n1' }));
    await s.registry.create<UnstructuredObject>(pod('d', { labels: { app: 'web' }, namespace: 'other' }));
    return s;
  }

  it.each([
    [{}, ['a', 'b', 'c', 'd']],
    [{ namespace: 'default' }, ['a', 'b', 'c']],
    [{ namespace: 'other' }, ['d']],
    [{ labelSelector: 'app=web' }, ['a', 'b', 'd']],
    [{ labelSelector: 'app=web,tier in (fe)' }, ['a']],
    [{ labelSelector: '!tier' }, ['c', 'd']],
    [{ labelSelector: 'app!=web' }, ['c']],
    [{ fieldSelector: 'spec.nodeName=n1' }, ['a', 'c']],
    [{ fieldSelector: 'spec.nodeName=' }, ['d']],
    [{ fieldSelector: 'metadata.name=b' }, ['b']],
    [{ fieldSelector: 'metadata.name=b', namespace: 'default' }, ['b']],
    [{ fieldSelector: 'metadata.namespace!=default' }, ['d']],
    [{ fieldSelector: 'status.phase=Pending', labelSelector: 'tier' }, ['a', 'b']],
  ])('%j selects %j', async (options, names) => {
    const { registry } = await seeded();
    const list = await registry.list<UnstructuredObject>('pods', options);
    expect(list.items.map((p) => p.metadata?.name)).toEqual(names);
    expect(list.kind).toBe('PodList');
    expect(list.apiVersion).toBe('v1');
  });

  it('reports the store revision as the list resourceVersion', async () => {
    const { registry, store } = await seeded();
    const list = await registry.list<UnstructuredObject>('pods');
    expect(list.metadata.resourceVersion).toBe(String(await store.currentRevision()));
  });

  it.each([
    [{ fieldSelector: 'spec.foo=bar' }, 'field label not supported: spec.foo'],
    [{ labelSelector: 'a in (' }, 'unable to parse'],
    [{ limit: -1 }, 'limit must be a positive integer'],
    [{ limit: 1.5 }, 'limit must be a positive integer'],
    [{ continue: 'garbage' }, 'continue key is not valid'],
    [
      { resourceVersionMatch: 'Exact' },
      'resourceVersionMatch is forbidden unless resourceVersion is provided',
    ],
    [
      { resourceVersion: '0', resourceVersionMatch: 'Exact' },
      'resourceVersionMatch "Exact" is forbidden for resourceVersion "0"',
    ],
    [{ resourceVersion: 'x' }, 'Invalid value for resourceVersion'],
    [{ resourceVersion: '1', resourceVersionMatch: 'Latest' }, 'resourceVersionMatch: Unsupported value'],
  ])('rejects %j with BadRequest', async (options, message) => {
    const { registry } = await seeded();
    const error = await expectStatusError(registry.list<UnstructuredObject>('pods', options as never));
    expect(error.reason).toBe('BadRequest');
    expect(error.message).toContain(message);
  });

  it('pages with limit/continue at one revision while writes continue', async () => {
    const { registry } = await setup();
    for (let i = 0; i < 10; i++) await registry.create<UnstructuredObject>(configMap(`c${i}`));
    const first = await registry.list<UnstructuredObject>('configmaps', { limit: 4 });
    expect(first.items.map((c) => c.metadata?.name)).toEqual(['c0', 'c1', 'c2', 'c3']);
    await registry.delete<UnstructuredObject>('configmaps', 'c5');
    await registry.create<UnstructuredObject>(configMap('c99'));
    const second = await registry.list<UnstructuredObject>('configmaps', {
      limit: 4,
      continue: first.metadata.continue,
    });
    expect(second.items.map((c) => c.metadata?.name)).toEqual(['c4', 'c5', 'c6', 'c7']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const third = await registry.list<UnstructuredObject>('configmaps', {
      limit: 4,
      continue: second.metadata.continue,
    });
    expect(third.items.map((c) => c.metadata?.name)).toEqual(['c8', 'c9']);
    expect(third.metadata.continue).toBeUndefined();
    const otherList = await expectStatusError(
      registry.list<UnstructuredObject>('secrets', { continue: first.metadata.continue }),
    );
    expect(otherList.message).toContain('different list');
    const withVersion = await expectStatusError(
      registry.list<UnstructuredObject>('configmaps', {
        continue: first.metadata.continue,
        resourceVersion: '3',
      }),
    );
    expect(withVersion.message).toBe('specifying resource version is not allowed when using continue');
  });

  it('fills each page up to the limit when a selector filters', async () => {
    const { registry } = await setup();
    for (let i = 0; i < 20; i++) {
      await registry.create<UnstructuredObject>(
        configMap(`c${String(i).padStart(2, '0')}`, {
          metadata: { name: `c${String(i).padStart(2, '0')}`, labels: { even: String(i % 2 === 0) } },
        }),
      );
    }
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await registry.list<UnstructuredObject>('configmaps', {
        labelSelector: 'even=true',
        limit: 3,
        continue: token,
      });
      pages++;
      if (page.metadata.continue) expect(page.items).toHaveLength(3);
      expect(page.metadata.remainingItemCount).toBeUndefined();
      names.push(...page.items.map((c) => String(c.metadata?.name)));
      token = page.metadata.continue;
    } while (token);
    expect(names).toEqual(['c00', 'c02', 'c04', 'c06', 'c08', 'c10', 'c12', 'c14', 'c16', 'c18']);
    expect(pages).toBeLessThanOrEqual(5);
  });

  it('lists at an exact older resourceVersion, and 410 Expired once compacted', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(configMap('c'));
    await registry.update<UnstructuredObject>({ ...created, data: { a: '2' } });
    const old = await registry.list<UnstructuredObject>('configmaps', {
      resourceVersion: created.metadata?.resourceVersion,
      resourceVersionMatch: 'Exact',
    });
    expect(old.items[0].data).toEqual({ a: '1' });
    expect(old.metadata.resourceVersion).toBe(created.metadata?.resourceVersion);
    // The legacy form: a resourceVersion with a limit and no match is Exact too.
    const legacy = await registry.list<UnstructuredObject>('configmaps', {
      resourceVersion: created.metadata?.resourceVersion,
      limit: 5,
    });
    expect(legacy.items[0].data).toEqual({ a: '1' });
    const latest = await registry.list<UnstructuredObject>('configmaps', {
      resourceVersion: created.metadata?.resourceVersion,
      resourceVersionMatch: 'NotOlderThan',
    });
    expect(latest.items[0].data).toEqual({ a: '2' });
    await store.compact(await store.currentRevision());
    const expired = await expectStatusError(
      registry.list<UnstructuredObject>('configmaps', {
        resourceVersion: created.metadata?.resourceVersion,
        resourceVersionMatch: 'Exact',
      }),
    );
    expect(expired.reason).toBe('Expired');
    expect(expired.code).toBe(410);
    const tooLarge = await expectStatusError(
      registry.list<UnstructuredObject>('configmaps', {
        resourceVersion: '999999',
        resourceVersionMatch: 'NotOlderThan',
      }),
    );
    expect(tooLarge.reason).toBe('Timeout');
  });

  it('answers 410 Expired for a continue token whose revision was compacted', async () => {
    const { registry, store } = await setup();
    for (let i = 0; i < 3; i++) await registry.create<UnstructuredObject>(configMap(`c${i}`));
    const first = await registry.list<UnstructuredObject>('configmaps', { limit: 1 });
    await registry.create<UnstructuredObject>(configMap('later'));
    await store.compact(await store.currentRevision());
    const error = await expectStatusError(
      registry.list<UnstructuredObject>('configmaps', { limit: 1, continue: first.metadata.continue }),
    );
    expect(error.reason).toBe('Expired');
    expect(error.message).toContain('continue parameter is too old');
  });
});

describe('watch', () => {
  it.each([undefined, '0'])(
    'with resourceVersion %j starts with ADDED for the current state, then streams changes',
    async (resourceVersion) => {
      const { registry } = await setup();
      await registry.create<UnstructuredObject>(configMap('a'));
      const watch = record(registry.watch<UnstructuredObject>('configmaps', { resourceVersion }));
      await until(() => watch.events.length === 1, 'initial ADDED');
      await registry.create<UnstructuredObject>(configMap('b'));
      await registry.patch<UnstructuredObject>('configmaps', 'a', 'merge', { data: { x: '1' } });
      const deleted = await registry.delete<UnstructuredObject>('configmaps', 'b');
      await until(() => watch.events.length === 4, 'four events');
      expect(watch.summary()).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b']);
      expect(watch.events[3].object.metadata?.resourceVersion).toBe(deleted.metadata?.resourceVersion);
    },
  );

  it('replays history after a given resourceVersion, in order', async () => {
    const { registry } = await setup();
    const a = await registry.create<UnstructuredObject>(configMap('a'));
    await registry.create<UnstructuredObject>(configMap('b'));
    await registry.delete<UnstructuredObject>('configmaps', 'a');
    const watch = record(
      registry.watch<UnstructuredObject>('configmaps', { resourceVersion: a.metadata?.resourceVersion }),
    );
    await until(() => watch.events.length === 2, 'replayed history');
    expect(watch.summary()).toEqual(['ADDED b', 'DELETED a']);
  });

  it('turns selector transitions into ADDED and DELETED', async () => {
    const { registry } = await setup();
    await registry.create<UnstructuredObject>(
      configMap('a', { metadata: { name: 'a', labels: { app: 'web' } } }),
    );
    const watch = record(registry.watch<UnstructuredObject>('configmaps', { labelSelector: 'app=web' }));
    await until(() => watch.events.length === 1, 'initial ADDED');
    await registry.patch<UnstructuredObject>('configmaps', 'a', 'merge', {
      metadata: { labels: { app: 'db' } },
    });
    await registry.patch<UnstructuredObject>('configmaps', 'a', 'merge', { data: { ignored: 'yes' } });
    await registry.patch<UnstructuredObject>('configmaps', 'a', 'merge', {
      metadata: { labels: { app: 'web' } },
    });
    await registry.patch<UnstructuredObject>('configmaps', 'a', 'merge', { data: { seen: 'yes' } });
    await until(() => watch.events.length === 4, 'four events');
    expect(watch.summary()).toEqual(['ADDED a', 'DELETED a', 'ADDED a', 'MODIFIED a']);
    // The DELETED event carries the last state that matched, at the revision of the change.
    expect(watch.events[1].object.metadata?.labels).toEqual({ app: 'web' });
    expect(Number(watch.events[1].object.metadata?.resourceVersion)).toBeGreaterThan(
      Number(watch.events[0].object.metadata?.resourceVersion),
    );
  });

  it('sees only its namespace and its field selector', async () => {
    const { registry } = await setup();
    const watch = record(
      registry.watch<UnstructuredObject>('pods', { namespace: 'other', fieldSelector: 'spec.nodeName=n1' }),
    );
    await registry.create<UnstructuredObject>(pod('x', { nodeName: 'n1' }));
    await registry.create<UnstructuredObject>(pod('y', { nodeName: 'n1', namespace: 'other' }));
    await registry.create<UnstructuredObject>(pod('z', { nodeName: 'n2', namespace: 'other' }));
    await until(() => watch.events.length >= 1, 'one event');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(watch.summary()).toEqual(['ADDED y']);
  });

  it('errors with 410 Expired when the resourceVersion was compacted', async () => {
    const { registry, store } = await setup();
    const a = await registry.create<UnstructuredObject>(configMap('a'));
    await registry.create<UnstructuredObject>(configMap('b'));
    await store.compact(await store.currentRevision());
    const watch = record(
      registry.watch<UnstructuredObject>('configmaps', {
        resourceVersion: String(Number(a.metadata?.resourceVersion) - 1),
      }),
    );
    await until(() => watch.error !== undefined, 'an error');
    expect(watch.error?.reason).toBe('Expired');
    expect(watch.error?.code).toBe(410);
    expect(watch.error?.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('errors with BadRequest for bad selectors or resourceVersions', async () => {
    const { registry } = await setup();
    for (const options of [
      { fieldSelector: 'spec.nope=1' },
      { resourceVersion: '-1' },
      { labelSelector: '==' },
    ]) {
      const watch = record(registry.watch<UnstructuredObject>('configmaps', options));
      await until(() => watch.error !== undefined, 'an error');
      expect(watch.error?.reason).toBe('BadRequest');
    }
  });

  it('sends bookmarks when asked, and completes after timeoutSeconds', async () => {
    const { registry, clock } = await setup({ bookmarkIntervalMs: 1000 });
    const watch = record(
      registry.watch<UnstructuredObject>('configmaps', { allowWatchBookmarks: true, timeoutSeconds: 5 }),
    );
    const created = await registry.create<UnstructuredObject>(configMap('a'));
    await until(() => watch.events.length === 1, 'ADDED');
    await until(() => clock.pendingTimers() === 2, 'the bookmark and timeout timers');
    await clock.advance(1000);
    await until(() => watch.events.length === 2, 'a bookmark');
    expect(watch.events[1]).toEqual({
      type: 'BOOKMARK',
      object: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { resourceVersion: created.metadata?.resourceVersion },
      },
    });
    expect(watch.completed).toBe(false);
    await clock.advance(4000);
    await until(() => watch.completed, 'completion');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stops delivering after unsubscribe', async () => {
    const { registry } = await setup();
    const watch = record(registry.watch<UnstructuredObject>('configmaps'));
    await registry.create<UnstructuredObject>(configMap('a'));
    await until(() => watch.events.length === 1, 'ADDED');
    watch.subscription.unsubscribe();
    await registry.create<UnstructuredObject>(configMap('b'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(watch.events).toHaveLength(1);
  });

  it('gives every watcher its own copy of each object', async () => {
    const { registry } = await setup();
    const first = record(registry.watch<UnstructuredObject>('configmaps'));
    const second = record(registry.watch<UnstructuredObject>('configmaps'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await registry.create<UnstructuredObject>(configMap('a'));
    await until(() => first.events.length === 1 && second.events.length === 1, 'both watchers');
    expect(first.events[0].object).not.toBe(second.events[0].object);
    expect(first.events[0].object).toEqual(second.events[0].object);
  });
});

describe('custom kinds', () => {
  it('serves a kind registered at run time, with its own validation and generation', async () => {
    const { registry, scheme } = await setup();
    scheme.register({
      group: 'example.com',
      version: 'v1',
      kind: 'Widget',
      resource: 'widgets',
      namespaced: true,
      subresources: ['status'],
      selectableFields: (w) => ({
        'spec.color': String((w.spec as { color?: string } | undefined)?.color ?? ''),
      }),
      validate: (w) =>
        (w.spec as { size?: number } | undefined)?.size === undefined
          ? [{ reason: 'FieldValueRequired', field: 'spec.size', message: 'Required value' }]
          : [],
    });
    const invalid = await expectStatusError(
      registry.create<UnstructuredObject>({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w' },
        spec: {},
      }),
    );
    expect(invalid.message).toBe('Widget.example.com "w" is invalid: spec.size: Required value');
    const created = await registry.create<UnstructuredObject>({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: { size: 1, color: 'red' },
    });
    expect(created.metadata?.generation).toBe(1);
    const changed = await registry.patch<UnstructuredObject>('widgets.example.com', 'w', 'merge', {
      spec: { size: 2 },
    });
    expect(changed.metadata?.generation).toBe(2);
    expect(
      (await registry.list<UnstructuredObject>('widgets', { fieldSelector: 'spec.color=red' })).items,
    ).toHaveLength(1);
    expect((await expectStatusError(registry.get<UnstructuredObject>('widgets', 'nope'))).message).toBe(
      'widgets.example.com "nope" not found',
    );
  });
});
