// SPDX-License-Identifier: Apache-2.0
export * from './patch-schema.js';
export * from './strategic-merge-patch.js';
