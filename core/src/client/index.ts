// SPDX-License-Identifier: Apache-2.0
/**
 * ApiClient transports: in-process (straight into the registry) and HTTP(S) (any Kubernetes-compatible
 * API server).
 * @module
 */

export * from './http/index.js';
export * from './in-process-api-client.js';
export * from './in-process-api-client-module.js';
