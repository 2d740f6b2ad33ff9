// SPDX-License-Identifier: Apache-2.0
/**
 * ApiClient transports. In-process now; HTTP comes with the API server.
 * @module
 */
export * from './in-process-api-client.js';
export * from './in-process-api-client-module.js';
