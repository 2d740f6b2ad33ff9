// SPDX-License-Identifier: Apache-2.0

export * from './leader-election-module.js';
export * from './leader-elector.js';
export * from './micro-time.js';
