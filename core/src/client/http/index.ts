// SPDX-License-Identifier: Apache-2.0
export * from './http-api-client.js';
export * from './http-api-client-module.js';
export * from './kubeconfig.js';
