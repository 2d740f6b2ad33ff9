// SPDX-License-Identifier: Apache-2.0
import { type ApiClient, CycleState, errors, type SchedulingFrameworkHandle } from '@cpkit/core';
import { nodeFixture, podFixture, startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import type { Binding, Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DefaultBinder, defaultBinderRegistration } from './default-binder.js';

async function binderFor(apiClient: ApiClient): Promise<DefaultBinder> {
  return (await defaultBinderRegistration.factory(undefined, {
    apiClient,
  } as SchedulingFrameworkHandle)) as DefaultBinder;
}

describe('DefaultBinder', () => {
  let cp: TestControlPlane | undefined;
  afterEach(async () => {
    await cp?.stop();
    cp = undefined;
  });

  it('binds the pod through pods/binding on a real API', async () => {
    cp = await startTestControlPlane({ store: await openEmbeddedStore() });
    await cp.client.create(nodeFixture({ name: 'n1' }));
    const pod = await cp.client.create<Pod>(podFixture({ name: 'web' }));
    const status = await (await binderFor(cp.client)).bind(new CycleState(), pod, 'n1');
    expect(status.code).toBe('Success');
    const bound = await cp.client.get<Pod>('pods', 'web', { namespace: 'default' });
    expect(bound.spec?.nodeName).toBe('n1');
  });

  it('a pod already bound elsewhere gives an Error status naming the plugin, not a throw', async () => {
    cp = await startTestControlPlane({ store: await openEmbeddedStore() });
    const pod = await cp.client.create<Pod>(podFixture({ name: 'web' }));
    const binder = await binderFor(cp.client);
    expect((await binder.bind(new CycleState(), pod, 'n1')).code).toBe('Success');
    const again = await binder.bind(new CycleState(), pod, 'n2');
    expect(again.code).toBe('Error');
    expect(again.plugin).toBe('DefaultBinder');
    expect(again.message()).toContain('already assigned');
  });

  it('sends the pod uid as a precondition and the node as the target', async () => {
    const seen: Binding[] = [];
    const apiClient = {
      bind: async (binding: Binding) => {
        seen.push(binding);
        throw errors.conflict({ resource: 'pods', name: 'web' }, 'the object has been modified');
      },
    } as unknown as ApiClient;
    const pod = podFixture({ name: 'web', namespace: 'team-a' });
    pod.metadata = { ...pod.metadata, uid: 'uid-1' };
    const status = await (await binderFor(apiClient)).bind(new CycleState(), pod, 'n7');
    expect(seen).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { namespace: 'team-a', name: 'web', uid: 'uid-1' },
        target: { kind: 'Node', name: 'n7' },
      },
    ]);
    expect(status.code).toBe('Error');
    expect(status.message()).toContain('Operation cannot be fulfilled on pods "web"');
  });
});
