// SPDX-License-Identifier: Apache-2.0
import { openEmbeddedStore } from '@cpkit/store-embedded';
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { isStatusError } from '../errors/status-error.js';
import { deploymentFixture, podFixture } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/test-control-plane.js';

/** Polls `check` until it returns true or `timeoutMs` passes. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('NamespaceFinalizer', () => {
  let cp: TestControlPlane | undefined;
  afterEach(async () => {
    await cp?.stop();
    cp = undefined;
  });

  async function start(): Promise<TestControlPlane> {
    cp = await startTestControlPlane({ store: await openEmbeddedStore() });
    return cp;
  }

  async function exists(kind: string, name: string, namespace?: string): Promise<boolean> {
    try {
      await cp?.client.get(kind, name, { namespace });
      return true;
    } catch (error) {
      if (isStatusError(error, 'NotFound')) return false;
      throw error;
    }
  }

  it('empties a deleted namespace, then finalizes it so it disappears', async () => {
    const { client } = await start();
    await client.create<Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    await client.create<ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'team' },
      data: { a: 'b' },
    });
    await client.create(podFixture({ name: 'web', namespace: 'team' }));
    await client.create(deploymentFixture({ name: 'api', namespace: 'team' }));

    const marked = await client.delete<Namespace>('Namespace', 'team');
    expect(marked.status?.phase).toBe('Terminating');
    expect(marked.spec?.finalizers).toEqual(['kubernetes']);

    await eventually(async () => !(await exists('Namespace', 'team')));
    for (const kind of ['ConfigMap', 'Pod', 'Deployment']) {
      expect((await client.list(kind, { namespace: 'team' })).items).toEqual([]);
    }
  });

  it('keeps the namespace Terminating while an object in it has its own finalizer', async () => {
    const { client } = await start();
    await client.create<Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'held' } });
    await client.create<ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'guarded', namespace: 'held', finalizers: ['example.com/hold'] },
    });
    await client.create<ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'plain', namespace: 'held' },
    });
    await client.delete('Namespace', 'held');

    // The finalizer-free object goes, the guarded one is only marked, and the namespace stays.
    await eventually(async () => !(await exists('ConfigMap', 'plain', 'held')));
    const guarded = await client.get<ConfigMap>('ConfigMap', 'guarded', { namespace: 'held' });
    expect(guarded.metadata?.deletionTimestamp).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const namespace = await client.get<Namespace>('Namespace', 'held');
    expect(namespace.status?.phase).toBe('Terminating');
    expect(namespace.spec?.finalizers).toEqual(['kubernetes']);

    await client.patch(
      'ConfigMap',
      'guarded',
      'merge',
      { metadata: { finalizers: [] } },
      { namespace: 'held' },
    );
    await eventually(async () => !(await exists('Namespace', 'held')));
    expect(await exists('ConfigMap', 'guarded', 'held')).toBe(false);
  });

  it.each(['default', 'kube-system', 'kube-public'])(
    'leaves the system namespace %s undeletable',
    async (name) => {
      const { client } = await start();
      await expect(client.delete('Namespace', name)).rejects.toMatchObject({ reason: 'Forbidden' });
      const namespace = await client.get<Namespace>('Namespace', name);
      expect(namespace.metadata?.deletionTimestamp).toBeUndefined();
    },
  );
});
