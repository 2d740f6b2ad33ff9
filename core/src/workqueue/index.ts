// SPDX-License-Identifier: Apache-2.0
export * from './rate-limiter.js';
export * from './workqueue.js';
export { WorkqueueMetrics } from './workqueue-metrics.js';
