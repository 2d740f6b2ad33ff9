// SPDX-License-Identifier: Apache-2.0
/**
 * `@cpkit/scheduler`: the scheduler (queue, cache, scheduling loop, binding) and the default plugins.
 * @module
 */
export {};
