// SPDX-License-Identifier: Apache-2.0
import { ContainerModule, inject, injectable } from 'inversify';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { ApiClient } from '../contracts/api-client.js';
import { Runnable } from '../contracts/runnable.js';
import { isStatusError } from '../errors/status-error.js';
import { Logger } from '../observability/logger.js';
import { KubernetesService } from '../services/kubernetes-service.js';

/**
 * The namespaces every Kubernetes cluster has; the upstream API server creates them at start-up.
 * @category Bootstrap
 */
export const systemNamespaceNames: readonly string[] = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
];

/**
 * Creates the system namespaces at start-up when they are missing (on every start, so a namespace
 * deleted by accident comes back, as upstream does). Other runnables that need them list
 * `system-namespaces` in `dependsOn`.
 * @category Bootstrap
 */
@injectable()
export class SystemNamespaces implements Runnable {
  readonly name = 'system-namespaces';
  private readonly log: Logger;

  constructor(
    @inject(ApiClient) private readonly client: ApiClient,
    @inject(Logger) logger: Logger,
  ) {
    this.log = logger.child({ component: this.name });
  }

  async start(): Promise<void> {
    const created: string[] = [];
    for (const name of systemNamespaceNames) {
      const namespace: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
      try {
        await this.client.create(namespace);
        created.push(name);
      } catch (error) {
        if (!isStatusError(error, 'AlreadyExists')) throw error;
      }
    }
    if (created.length) this.log.info({ created }, `created system namespaces: ${created.join(', ')}`);
    else this.log.info('system namespaces present');
  }
}

/**
 * Contributes {@link SystemNamespaces} as a Runnable (needs an `ApiClient`), and {@link
 * KubernetesService} after it (the `kubernetes` Service in `default`, when a `ServiceAllocator` is bound).
 * @category Bootstrap
 */
export function systemNamespacesModule(): ContainerModule {
  return new ContainerModule((bind) => {
    bind(SystemNamespaces).toSelf().inSingletonScope();
    bind(Runnable).toService(SystemNamespaces);
    bind(KubernetesService).toSelf().inSingletonScope();
    bind(Runnable).toService(KubernetesService);
  });
}
