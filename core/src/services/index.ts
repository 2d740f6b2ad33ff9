// SPDX-License-Identifier: Apache-2.0
/**
 * Services: ClusterIP and NodePort allocation, and the `kubernetes` Service.
 * @module
 */
export * from './kubernetes-service.js';
export * from './ranges.js';
export * from './service-allocator.js';
