// SPDX-License-Identifier: Apache-2.0
import type { ContainerModule, Store } from '@cpkit/core';
import { errors } from '@cpkit/core';
import { embeddedStoreModule, openEmbeddedStore } from '@cpkit/store-embedded';
import { etcdStoreModule, openEtcdStore, parseEtcdStoreUrl } from '@cpkit/store-etcd';

/** The Store the starter runs on, the module that binds it, and words for the log. */
export interface ChosenStore {
  store: Store & { close(): Promise<void> };
  module: ContainerModule;
  description: string;
}

/**
 * Opens the store named by `--store`: `embedded` (the default; SQLite under `dataDir`, or memory only)
 * or an `etcd://host:port[,host:port...]` / `etcds://...` URL.
 */
export async function openChosenStore(options: {
  store: string;
  dataDir: string;
  inMemory: boolean;
}): Promise<ChosenStore> {
  if (options.store === 'embedded') {
    const store = await openEmbeddedStore(options.inMemory ? {} : { path: options.dataDir });
    return {
      store,
      module: embeddedStoreModule(store),
      description: options.inMemory ? 'embedded store in memory' : `embedded store in ${options.dataDir}`,
    };
  }
  if (/^etcds?:\/\//.test(options.store)) {
    const etcdOptions = parseEtcdStoreUrl(options.store);
    const store = await openEtcdStore(etcdOptions);
    return {
      store,
      module: etcdStoreModule(store),
      description: `etcd at ${etcdOptions.endpoints.join(', ')}${etcdOptions.prefix ? ` under ${etcdOptions.prefix}` : ''}`,
    };
  }
  throw errors.badRequest(
    `--store: expected "embedded" or an etcd URL such as etcd://127.0.0.1:2379, got "${options.store}"`,
  );
}
