// SPDX-License-Identifier: Apache-2.0
import { EmbeddedStore } from '@cpkit/store-embedded';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import type { UnstructuredObject } from '../api/object.js';
import { DefaultScheme } from '../api/scheme.js';
import type { AdmissionAttributes } from '../contracts/admission-plugin.js';
import { StoreRegistry } from '../registry/registry.js';
import { expectStatusError } from '../testing/status-rejection.js';
import { controlPlaneUser } from './admission-chain.js';
import { NamespaceLifecycle } from './namespace-lifecycle.js';

const namespaces: Record<string, Namespace> = {
  live: { metadata: { name: 'live' }, status: { phase: 'Active' } },
  dying: {
    metadata: { name: 'dying', deletionTimestamp: '2026-01-01T00:00:00Z' },
    status: { phase: 'Terminating' },
  },
};
const lifecycle = new NamespaceLifecycle(async (name) => namespaces[name]);

function attributes(overrides: Partial<AdmissionAttributes>): AdmissionAttributes {
  return {
    operation: 'CREATE',
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    resource: { group: '', version: 'v1', resource: 'configmaps' },
    subresource: '',
    namespace: 'live',
    name: 'c',
    userInfo: controlPlaneUser,
    dryRun: false,
    ...overrides,
  };
}

describe('NamespaceLifecycle', () => {
  it('handles CREATE and DELETE only', () => {
    expect(['CREATE', 'UPDATE', 'DELETE', 'CONNECT'].filter((op) => lifecycle.handles(op as never))).toEqual([
      'CREATE',
      'DELETE',
    ]);
  });

  it('admits content created in a live namespace, cluster-scoped objects and namespaces', async () => {
    await lifecycle.admit(attributes({}));
    await lifecycle.admit(
      attributes({
        namespace: '',
        kind: { group: '', version: 'v1', kind: 'Node' },
        resource: { group: '', version: 'v1', resource: 'nodes' },
      }),
    );
    await lifecycle.admit(
      attributes({ namespace: '', name: 'new', kind: { group: '', version: 'v1', kind: 'Namespace' } }),
    );
  });

  it('refuses content in a missing namespace with NotFound', async () => {
    const error = await expectStatusError(lifecycle.admit(attributes({ namespace: 'nope' })));
    expect([error.reason, error.code, error.message]).toEqual([
      'NotFound',
      404,
      'namespaces "nope" not found',
    ]);
  });

  it('refuses content in a terminating namespace with Forbidden, subresources such as pods/binding too', async () => {
    const error = await expectStatusError(lifecycle.admit(attributes({ namespace: 'dying' })));
    expect([error.reason, error.code]).toEqual(['Forbidden', 403]);
    expect(error.message).toBe(
      'configmaps "c" is forbidden: unable to create new content in namespace dying because it is being terminated',
    );
    expect(error.details?.causes).toEqual([
      {
        reason: 'NamespaceTerminating',
        message: 'namespace dying is being terminated',
        field: 'metadata.namespace',
      },
    ]);
    const binding = await expectStatusError(
      lifecycle.admit(
        attributes({
          namespace: 'dying',
          name: 'web',
          kind: { group: '', version: 'v1', kind: 'Binding' },
          resource: { group: '', version: 'v1', resource: 'pods' },
          subresource: 'binding',
        }),
      ),
    );
    expect(binding.message).toContain('pods "web" is forbidden');
    // Access reviews are questions, not content: never refused (nor do they leak the namespace's state).
    await lifecycle.admit(
      attributes({
        namespace: 'nope',
        kind: { group: 'authorization.k8s.io', version: 'v1', kind: 'LocalSubjectAccessReview' },
        resource: { group: 'authorization.k8s.io', version: 'v1', resource: 'localsubjectaccessreviews' },
      }),
    );
  });

  it.each(['default', 'kube-system', 'kube-public'])('refuses to delete the namespace %s', async (name) => {
    const error = await expectStatusError(
      lifecycle.admit(
        attributes({
          operation: 'DELETE',
          namespace: '',
          name,
          kind: { group: '', version: 'v1', kind: 'Namespace' },
          resource: { group: '', version: 'v1', resource: 'namespaces' },
        }),
      ),
    );
    expect([error.reason, error.message]).toEqual([
      'Forbidden',
      `namespaces "${name}" is forbidden: this namespace may not be deleted`,
    ]);
  });

  it('lets other namespaces and content of terminating namespaces be deleted', async () => {
    await lifecycle.admit(
      attributes({
        operation: 'DELETE',
        namespace: '',
        name: 'kube-node-lease',
        kind: { group: '', version: 'v1', kind: 'Namespace' },
        resource: { group: '', version: 'v1', resource: 'namespaces' },
      }),
    );
    await lifecycle.admit(attributes({ operation: 'DELETE', namespace: 'dying' }));
  });
});

describe('NamespaceLifecycle in the registry', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });

  async function registry(namespaceLifecycle?: boolean): Promise<StoreRegistry> {
    const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
    cleanups.push(() => store.close());
    const scheme = new DefaultScheme();
    registerBuiltinKinds(scheme);
    return new StoreRegistry(store, scheme, undefined, { namespaceLifecycle });
  }

  const pod = (namespace: string): UnstructuredObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace },
    spec: { containers: [{ name: 'c', image: 'i' }] },
  });

  it('is on by default, binds pods only in live namespaces, and keeps default undeletable', async () => {
    const r = await registry();
    expect(r.admission.plugins.map((p) => p.name)).toEqual(['NamespaceLifecycle']);
    expect((await expectStatusError(r.create(pod('missing')))).reason).toBe('NotFound');
    await r.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'default' },
    });
    await r.create<UnstructuredObject>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'work' } });
    await r.create(pod('work'));
    await r.delete('namespaces', 'work');
    const bind = await expectStatusError(
      r.bind({ metadata: { name: 'p' }, target: { name: 'n1' } }, { namespace: 'work' }),
    );
    expect(bind.reason).toBe('Forbidden');
    // Updates of content in a terminating namespace still work: that is how it gets emptied.
    await r.patch('pods', 'p', 'merge', { metadata: { labels: { a: 'b' } } }, { namespace: 'work' });
    expect((await expectStatusError(r.delete('namespaces', 'default'))).reason).toBe('Forbidden');
  });

  it('can be turned off', async () => {
    const r = await registry(false);
    expect(r.admission.plugins).toEqual([]);
    await r.create(pod('missing'));
  });
});
