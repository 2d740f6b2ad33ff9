// SPDX-License-Identifier: Apache-2.0
export * from './logger.js';
export * from './metrics-registry.js';
