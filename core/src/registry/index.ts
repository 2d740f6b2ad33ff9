// SPDX-License-Identifier: Apache-2.0
/**
 * The registry: object semantics on top of a Store, and the module that binds it.
 * @module
 */
export * from './registry.js';
export * from './registry-module.js';
