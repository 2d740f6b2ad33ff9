// SPDX-License-Identifier: Apache-2.0
import { ContainerModule } from 'inversify';
import { Scheme } from '../../api/scheme.js';
import { ApiClient } from '../../contracts/api-client.js';
import { HttpApiClient, type HttpApiClientOptions } from './http-api-client.js';
import { type LoadKubeconfigOptions, loadKubeconfig } from './kubeconfig.js';

/**
 * Options of {@link httpApiClientModule}: explicit connection options, or a kubeconfig file (its
 * current context unless `context` names another) plus any other client options.
 * @category Client
 */
export type HttpApiClientModuleOptions =
  | HttpApiClientOptions
  | (Omit<HttpApiClientOptions, 'server'> & LoadKubeconfigOptions & { kubeconfig: string });

/**
 * Binds `ApiClient` to one {@link HttpApiClient}, so the components of this process (a scheduler,
 * controllers) reach a remote API server over HTTP(S) instead of an in-process registry. When the
 * container has a `Scheme` bound, the client maps kinds to URLs with it (custom kinds included).
 *
 * ```ts
 * new ControlPlaneBuilder().withModules(httpApiClientModule({ kubeconfig: '/etc/cpkit/scheduler.kubeconfig' }), schedulerModule())
 * ```
 * @category Client
 */
export function httpApiClientModule(options: HttpApiClientModuleOptions): ContainerModule {
  return new ContainerModule((bind) => {
    bind(HttpApiClient)
      .toDynamicValue((context) => {
        const scheme =
          options.scheme ??
          (context.container.isBound(Scheme) ? context.container.get<Scheme>(Scheme) : undefined);
        const connection =
          'kubeconfig' in options
            ? { ...options, ...loadKubeconfig(options.kubeconfig, { context: options.context }) }
            : options;
        return new HttpApiClient({ ...connection, ...(scheme ? { scheme } : {}) });
      })
      .inSingletonScope();
    bind<ApiClient>(ApiClient).toService(HttpApiClient);
  });
}
