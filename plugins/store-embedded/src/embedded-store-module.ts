// SPDX-License-Identifier: Apache-2.0
import { ContainerModule, Store } from '@cpkit/core';
import type { EmbeddedStore } from './embedded-store.js';

/**
 * Binds the {@link Store} role to an opened {@link EmbeddedStore}, as a constant: the store is a
 * process-wide singleton whose opening is asynchronous (it reads SQLite), so the starter opens it
 * first and hands it over, and stays its owner (it closes the store on shutdown).
 *
 * ```ts
 * const store = await openEmbeddedStore({ path: '.cpkit' });
 * container.load(embeddedStoreModule(store));
 * ```
 * @category Store
 */
export function embeddedStoreModule(store: EmbeddedStore): ContainerModule {
  return new ContainerModule((bind) => {
    bind<Store>(Store).toConstantValue(store);
  });
}
