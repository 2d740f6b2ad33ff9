// SPDX-License-Identifier: Apache-2.0
import { ContainerModule, Store } from '@cpkit/core';
import type { EtcdStore } from './etcd-store.js';

/**
 * Binds the {@link Store} role to an opened {@link EtcdStore}, as a constant: opening connects to
 * etcd and is asynchronous, so the starter opens the store first, hands it over and stays its owner
 * (it closes the store on shutdown).
 *
 * ```ts
 * const store = await openEtcdStore(parseEtcdStoreUrl('etcd://127.0.0.1:2379?prefix=/cpkit'));
 * container.load(etcdStoreModule(store));
 * ```
 * @category Store
 */
export function etcdStoreModule(store: EtcdStore): ContainerModule {
  return new ContainerModule((bind) => {
    bind<Store>(Store).toConstantValue(store);
  });
}
