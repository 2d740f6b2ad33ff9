// SPDX-License-Identifier: Apache-2.0
import { openEmbeddedStore } from '@cpkit/store-embedded';
import type { Service } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../testing/test-control-plane.js';

describe('the kubernetes Service', () => {
  const started: TestControlPlane[] = [];
  afterEach(async () => {
    for (const controlPlane of started.splice(0)) await controlPlane.stop();
  });

  it('is created at start-up with the first IP of the configured range, once for two control planes on one store', async () => {
    const store = await openEmbeddedStore();
    const options = { store, registry: { serviceAllocation: { serviceClusterIPRange: '172.20.0.0/16' } } };
    started.push(await startTestControlPlane(options));
    const service = await started[0]!.client.get<Service>('services', 'kubernetes', { namespace: 'default' });
    expect(service.spec?.clusterIP).toBe('172.20.0.1');
    expect(service.spec?.clusterIPs).toEqual(['172.20.0.1']);
    expect(service.spec?.ports).toEqual([{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
    expect(service.metadata?.labels).toEqual({ component: 'apiserver', provider: 'kubernetes' });
    // A second control plane on the same store finds it and starts fine.
    started.push(await startTestControlPlane(options));
    const again = await started[1]!.client.get<Service>('services', 'kubernetes', { namespace: 'default' });
    expect(again.metadata?.uid).toBe(service.metadata?.uid);
    // Other services never get that IP.
    const other = await started[1]!.client.create<Service>({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    });
    expect(other.spec?.clusterIP).toMatch(/^172\.20\./);
    expect(other.spec?.clusterIP).not.toBe('172.20.0.1');
  });
});
