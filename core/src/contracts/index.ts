// SPDX-License-Identifier: Apache-2.0
// Every role contract of cpkit, one file each.

export * from './admission-plugin.js';
export * from './api-client.js';
export * from './api-server.js';
export * from './authenticator.js';
export * from './authorizer.js';
export * from './container-runtime.js';
export * from './controller.js';
export * from './node-agent.js';
export * from './runnable.js';
export * from './scheduler-plugin.js';
export * from './service-proxy.js';
export * from './store.js';
