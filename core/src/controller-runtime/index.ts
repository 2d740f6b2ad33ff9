// SPDX-License-Identifier: Apache-2.0
export * from './controller-builder.js';
export * from './controller-metrics.js';
export * from './reconciling-controller.js';
