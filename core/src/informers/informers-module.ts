// SPDX-License-Identifier: Apache-2.0
import { ContainerModule } from 'inversify';
import { Clock } from '../clock/clock.js';
import { ApiClient } from '../contracts/api-client.js';
import { Logger } from '../observability/logger.js';
import { SharedInformerFactory, type SharedInformerFactoryOptions } from './shared-informer-factory.js';

/**
 * Binds one {@link SharedInformerFactory} (the class is its own service identifier) on the container's
 * ApiClient, and its Clock and Logger when bound, so every controller of the process shares its informers.
 * @category Informers
 */
export function informersModule(
  options: Omit<SharedInformerFactoryOptions, 'clock' | 'logger'> = {},
): ContainerModule {
  return new ContainerModule((bind) => {
    bind(SharedInformerFactory)
      .toDynamicValue(
        ({ container }) =>
          new SharedInformerFactory(container.get<ApiClient>(ApiClient), {
            ...options,
            clock: container.isBound(Clock) ? container.get<Clock>(Clock) : undefined,
            logger: container.isBound(Logger) ? container.get<Logger>(Logger) : undefined,
          }),
      )
      .inSingletonScope();
  });
}
