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
