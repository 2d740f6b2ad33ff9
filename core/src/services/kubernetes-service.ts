// SPDX-License-Identifier: Apache-2.0
import { inject, injectable, optional } from 'inversify';
import type { Service } from 'kubernetes-types/core/v1.js';
import { ApiClient } from '../contracts/api-client.js';
import type { Runnable } from '../contracts/runnable.js';
import { isStatusError } from '../errors/status-error.js';
import { Logger } from '../observability/logger.js';
import { ServiceAllocator } from './service-allocator.js';

/**
 * Creates the `kubernetes` Service in `default` at start-up, as upstream's API server does: ClusterIP
 * the first address of the service range, port 443 (`https`). Left alone when it exists. Needs a bound
 * {@link ServiceAllocator} (for the address); without one it does nothing.
 * @category Services
 */
@injectable()
export class KubernetesService implements Runnable {
  readonly name = 'kubernetes-service';
  readonly dependsOn = ['system-namespaces'];
  private readonly log: Logger;

  constructor(
    @inject(ApiClient) private readonly client: ApiClient,
    @inject(Logger) logger: Logger,
    @inject(ServiceAllocator) @optional() private readonly allocator?: ServiceAllocator,
  ) {
    this.log = logger.child({ component: this.name });
  }

  async start(): Promise<void> {
    if (!this.allocator) {
      this.log.info('no service allocator bound: not creating the kubernetes service');
      return;
    }
    const ip = this.allocator.kubernetesServiceIP;
    const service: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: ip,
        clusterIPs: [ip],
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
        sessionAffinity: 'None',
      },
    };
    if (await this.exists()) return;
    try {
      await this.client.create(service);
      this.log.info({ clusterIP: ip }, `created the kubernetes service (${ip})`);
    } catch (error) {
      // Another API server process on the same store may have won the race (for the name or the IP).
      if (
        !(isStatusError(error, 'AlreadyExists') || isStatusError(error, 'Invalid')) ||
        !(await this.exists())
      )
        throw error;
    }
  }

  private async exists(): Promise<boolean> {
    try {
      await this.client.get('services', 'kubernetes', { namespace: 'default' });
      return true;
    } catch (error) {
      if (isStatusError(error, 'NotFound')) return false;
      throw error;
    }
  }
}
