// SPDX-License-Identifier: Apache-2.0
export * from './indexed-cache.js';
export * from './informers-module.js';
export * from './shared-informer.js';
export * from './shared-informer-factory.js';
