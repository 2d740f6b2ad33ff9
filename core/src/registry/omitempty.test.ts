// SPDX-License-Identifier: Apache-2.0
// ObjectMeta's maps and lists are `omitempty` upstream: emptied ones disappear from the object.
import { EmbeddedStore } from '@cpkit/store-embedded';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import type { UnstructuredObject } from '../api/object.js';
import { DefaultScheme } from '../api/scheme.js';
import { StoreRegistry } from './registry.js';

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
