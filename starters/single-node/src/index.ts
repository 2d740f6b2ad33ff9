// SPDX-License-Identifier: Apache-2.0
/**
 * The single-node starter's reusable parts (its `main.ts` is the runnable entry point).
 * @module
 */
export { parseSingleNodeOptions, type SingleNodeOptions } from './options.js';
