// SPDX-License-Identifier: Apache-2.0
import { openEmbeddedStore } from '@cpkit/store-embedded';
import { ContainerModule, inject, injectable } from 'inversify';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../contracts/api-client.js';
import { Runnable } from '../contracts/runnable.js';
import { podFixture } from './fixtures.js';
import { startTestControlPlane, type TestControlPlane } from './test-control-plane.js';

@injectable()
class PodCounter implements Runnable {
  readonly name = 'pod-counter';
  readonly dependsOn = ['system-namespaces'];
  pods = -1;
  constructor(@inject(ApiClient) private readonly client: ApiClient) {}
  async start(): Promise<void> {
    this.pods = (await this.client.list<Pod>('pods')).items.length;
  }
}

describe('startTestControlPlane', () => {
  let controlPlane: TestControlPlane | undefined;
  afterEach(async () => {
    await controlPlane?.stop();
    controlPlane = undefined;
  });

  it('serves the API in process with the system namespaces and starts the modules under test', async () => {
    controlPlane = await startTestControlPlane({
      store: await openEmbeddedStore(),
      modules: [
        new ContainerModule((bind) => {
          bind(PodCounter).toSelf().inSingletonScope();
          bind(Runnable).toService(PodCounter);
        }),
      ],
    });
    const namespaces = await controlPlane.client.list<Namespace>('namespaces');
    expect(namespaces.items.map((n) => n.metadata?.name).sort()).toEqual([
      'default',
      'kube-node-lease',
      'kube-public',
      'kube-system',
    ]);
    expect(controlPlane.controlPlane.get(PodCounter).pods).toBe(0);
    const created = await controlPlane.client.create(podFixture({ name: 'web' }));
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
  });

  it('rejects with the wiring error naming what is missing', async () => {
    @injectable()
    class NeedsSomething implements Runnable {
      readonly name = 'needs-something';
      constructor(@inject(Symbol.for('cpkit.Missing')) readonly missing: unknown) {}
      async start(): Promise<void> {}
    }
    await expect(
      startTestControlPlane({
        store: await openEmbeddedStore(),
        modules: [new ContainerModule((bind) => void bind(Runnable).to(NeedsSomething))],
      }),
    ).rejects.toThrow(/NeedsSomething needs cpkit\.Missing/);
  });

  it('keeps existing system namespaces when started again on the same store', async () => {
    const store = await openEmbeddedStore();
    const first = await startTestControlPlane({ store });
    const uids = async (cp: TestControlPlane): Promise<string[]> =>
      (await cp.client.list<Namespace>('namespaces')).items.map((n) => n.metadata?.uid ?? '').sort();
    const before = await uids(first);
    await first.controlPlane.stop();
    controlPlane = await startTestControlPlane({ store });
    expect(await uids(controlPlane)).toEqual(before);
  });
});
