// SPDX-License-Identifier: Apache-2.0
/**
 * `@cpkit/store-embedded`: the embedded default of the Store role. MVCC in memory, durable in SQLite.
 * @module
 */
export {
  EmbeddedStore,
  type EmbeddedStoreOptions,
  openEmbeddedStore,
  restoreEmbeddedStore,
} from './embedded-store.js';
export { embeddedStoreModule } from './embedded-store-module.js';
export type { SynchronousMode } from './sqlite-file.js';
