// SPDX-License-Identifier: Apache-2.0
/**
 * `@cpkit/apiserver`: the Kubernetes-compatible API server: REST API, discovery, OpenAPI, HTTPS,
 * authentication, RBAC, admission, server-side apply, Tables, limits and metrics.
 * @module
 */

export * from './apply/index.js';
export * from './auth/index.js';
export * from './certificates/index.js';
export * from './patch/index.js';
export * from './printing/index.js';
export * from './server/index.js';
