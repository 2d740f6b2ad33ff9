// SPDX-License-Identifier: Apache-2.0
/**
 * `@cpkit/store-etcd`: the Store role on etcd v3, the distributed engine.
 * @module
 */
export {};
