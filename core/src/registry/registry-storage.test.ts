// SPDX-License-Identifier: Apache-2.0
// How objects are stored and handed back: ObjectMeta's `omitempty` maps and lists, managedFields
// kept across updates, and the serialized fast paths (GET text from the store, watch events sharing
// one text).
import { EmbeddedStore } from '@cpkit/store-embedded';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import type { UnstructuredObject } from '../api/object.js';
import { DefaultScheme } from '../api/scheme.js';
import type { WatchEvent } from '../contracts/api-client.js';
import { StoreRegistry, serializedObject, withResourceVersion } from './registry.js';

let store: EmbeddedStore;
let registry: StoreRegistry;
const cm = { group: '', version: 'v1', kind: 'ConfigMap' };

beforeAll(async () => {
  store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  const scheme = new DefaultScheme();
  registerBuiltinKinds(scheme);
  registry = new StoreRegistry(store, scheme);
  await registry.create<UnstructuredObject>({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'default' },
  });
});

afterAll(async () => {
  await store.close();
});

describe('empty metadata collections', () => {
  it('are dropped on create', async () => {
    const created = await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'default', labels: {}, annotations: {}, finalizers: [] },
    });
    expect(Object.keys(created.metadata ?? {})).not.toContain('labels');
    expect(created.metadata).not.toHaveProperty('annotations');
    expect(created.metadata).not.toHaveProperty('finalizers');
  });

  it('disappear when a patch removes their last entry, and a later no-op stays a no-op', async () => {
    await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'b', namespace: 'default', labels: { x: '1' }, annotations: { note: 'n' } },
    });
    const patched = await registry.patch<UnstructuredObject>(
      cm,
      'b',
      'merge',
      { metadata: { labels: { x: null }, annotations: { note: null } } },
      { namespace: 'default' },
    );
    expect(patched.metadata).not.toHaveProperty('labels');
    expect(patched.metadata).not.toHaveProperty('annotations');
    const again = await registry.patch<UnstructuredObject>(
      cm,
      'b',
      'merge',
      { metadata: { labels: {} } },
      {
        namespace: 'default',
      },
    );
    expect(again.metadata?.resourceVersion).toBe(patched.metadata?.resourceVersion);
  });
});

describe('managedFields on update', () => {
  it('are kept when an update leaves them out, and cleared by an empty list', async () => {
    const managedFields = [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': {} },
      },
    ];
    await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned', namespace: 'default', managedFields },
      data: { a: '1' },
    });
    const updated = await registry.update<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned', namespace: 'default' },
      data: { a: '2' },
    });
    expect(updated.metadata?.managedFields).toEqual(managedFields);
    const cleared = await registry.update<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned', namespace: 'default', managedFields: [] },
      data: { a: '3' },
    });
    expect(cleared.metadata).not.toHaveProperty('managedFields');
  });
});

describe('withResourceVersion', () => {
  it('splices the revision into the stored form, and parses anything else', () => {
    const stored = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}';
    expect(JSON.parse(withResourceVersion(stored, 42))).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { resourceVersion: '42', name: 'a' },
      data: { k: 'v' },
    });
    expect(JSON.parse(withResourceVersion('{"apiVersion":"v1","kind":"X","metadata":{}}', 7))).toEqual({
      apiVersion: 'v1',
      kind: 'X',
      metadata: { resourceVersion: '7' },
    });
    // A nested metadata before the top-level one is never mistaken for it.
    const nested =
      '{"apiVersion":"apps/v1","kind":"X","spec":{"template":{"metadata":{}}},"metadata":{"name":"n"}}';
    const spliced = JSON.parse(withResourceVersion(nested, 5));
    expect(spliced.metadata).toEqual({ name: 'n', resourceVersion: '5' });
    expect(spliced.spec.template.metadata).toEqual({});
    // Another key order (older data): the slow path gives the same result.
    const other = '{"kind":"ConfigMap","metadata":{"name":"b"},"apiVersion":"v1"}';
    expect(JSON.parse(withResourceVersion(other, 3)).metadata).toEqual({ name: 'b', resourceVersion: '3' });
  });
});

describe('serialized registry results', () => {
  it('getJson is the JSON of get', async () => {
    const created = await registry.create<UnstructuredObject>({
      kind: 'ConfigMap',
      metadata: { labels: { a: '1' }, name: 'json', namespace: 'default' },
      data: { k: 'v' },
      apiVersion: 'v1',
    });
    const text = await registry.getJson(cm, 'json', { namespace: 'default' });
    expect(JSON.parse(text)).toEqual(await registry.get(cm, 'json', { namespace: 'default' }));
    expect(JSON.parse(text).metadata.resourceVersion).toBe(created.metadata?.resourceVersion);
    await expect(registry.getJson(cm, 'missing', { namespace: 'default' })).rejects.toMatchObject({
      reason: 'NotFound',
    });
  });

  it('watchers of one change share its text, and each parses a private object', async () => {
    const rv = String(await store.currentRevision());
    const first = firstValueFrom(
      registry.watch(cm, { namespace: 'default', resourceVersion: rv }).pipe(take(2), toArray()),
    );
    const second = firstValueFrom(
      registry.watch(cm, { namespace: 'default', resourceVersion: rv }).pipe(take(2), toArray()),
    );
    await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'w', namespace: 'default' },
    });
    await registry.patch(cm, 'w', 'merge', { data: { k: '2' } }, { namespace: 'default' });
    const [a, b] = await Promise.all([first, second]);
    const text = (event: WatchEvent | undefined) =>
      (event as unknown as Record<symbol, string>)[serializedObject];
    expect(a.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED']);
    expect(text(a[1])).toBe(text(b[1]));
    expect(JSON.parse(text(a[1]) ?? '')).toEqual(a[1]?.object);
    expect(a[1]?.object).not.toBe(b[1]?.object);
    (a[1]?.object.metadata as Record<string, unknown>).name = 'changed';
    expect(b[1]?.object.metadata?.name).toBe('w');
    // JSON.stringify of an event is the plain event: the text is not an own enumerable property.
    expect(Object.keys(JSON.parse(JSON.stringify(b[1])))).toEqual(['type', 'object']);
    const replaced = a[1] as WatchEvent;
    replaced.object = { apiVersion: 'v1', kind: 'ConfigMap' };
    expect(text(replaced)).toBeUndefined();
  });
});

describe('watch parameters', () => {
  it('are rejected during subscribe, synchronously, so a server can answer with a status instead of a stream', () => {
    for (const options of [{ labelSelector: 'a in (' }, { resourceVersion: 'abc' }, { timeoutSeconds: -1 }]) {
      let failure: unknown;
      registry
        .watch(cm, { namespace: 'default', ...options })
        .subscribe({ error: (error) => (failure = error) })
        .unsubscribe();
      expect(failure, JSON.stringify(options)).toMatchObject({ reason: 'BadRequest', code: 400 });
    }
  });
});
