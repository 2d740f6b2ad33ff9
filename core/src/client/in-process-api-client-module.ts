// SPDX-License-Identifier: Apache-2.0
import { ContainerModule } from 'inversify';
import { ApiClient } from '../contracts/api-client.js';
import { Registry } from '../registry/registry.js';
import { InProcessApiClient } from './in-process-api-client.js';

/**
 * Binds `ApiClient` to one {@link InProcessApiClient} over the bound `Registry` (see
 * `registryModule()`): components in the same process then reach the API without HTTP.
 * @category Client
 */
export function inProcessApiClientModule(): ContainerModule {
  return new ContainerModule((bind) => {
    bind<ApiClient>(ApiClient)
      .toDynamicValue((context) => new InProcessApiClient(context.container.get<Registry>(Registry)))
      .inSingletonScope();
  });
}
