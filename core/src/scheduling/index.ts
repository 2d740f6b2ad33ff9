// SPDX-License-Identifier: Apache-2.0
/**
 * The scheduling framework runtime shared by the scheduler and the plugin-author harness: pod resource
 * requests, NodeInfo and snapshots, the plugin registry and profiles, and the framework that runs a
 * profile's plugins.
 * @module
 */
export * from './diagnosis.js';
export * from './node-info.js';
export * from './plugin-registry.js';
export * from './resources.js';
export * from './scheduling-framework.js';
export * from './scheduling-profile.js';
export * from './snapshot.js';
export * from './waiting-pod.js';
