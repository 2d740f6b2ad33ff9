// SPDX-License-Identifier: Apache-2.0
export * from './api-metrics.js';
export * from './authorize-request.js';
export * from './client-error.js';
export * from './duration.js';
export * from './filter-chain.js';
export * from './request-class.js';
