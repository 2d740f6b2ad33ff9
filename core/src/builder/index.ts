// SPDX-License-Identifier: Apache-2.0
export * from './contribution-provider.js';
export * from './control-plane.js';
export * from './control-plane-builder.js';
export * from './leader-election-gate.js';
export { wiringError } from './wiring-error.js';
