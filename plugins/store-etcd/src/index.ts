// SPDX-License-Identifier: Apache-2.0
/**
 * `@cpkit/store-etcd`: the Store role on etcd v3, the distributed engine.
 * @module
 */
export { EtcdStore, type EtcdStoreOptions, openEtcdStore } from './etcd-store.js';
export { etcdStoreModule } from './etcd-store-module.js';
export { parseEtcdStoreUrl } from './etcd-store-url.js';
