// SPDX-License-Identifier: Apache-2.0
/**
 * Admission: the chain the registry runs on every write, and the built-in plugins.
 * @module
 */
export * from './admission-chain.js';
export * from './namespace-lifecycle.js';
