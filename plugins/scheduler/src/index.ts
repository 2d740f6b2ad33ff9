// SPDX-License-Identifier: Apache-2.0
/**
 * `@cpkit/scheduler`: the scheduler (queue, cache, scheduling loop, binding) and the default plugins.
 * @module
 */
export * from './plugins/index.js';
export * from './scheduler/scheduler.js';
export * from './scheduler/scheduler-cache.js';
export * from './scheduler/scheduler-configuration.js';
export * from './scheduler/scheduler-metrics.js';
export * from './scheduler/scheduling-queue.js';
export * from './scheduler-module.js';
