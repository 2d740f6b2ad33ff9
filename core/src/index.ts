// SPDX-License-Identifier: Apache-2.0
import 'reflect-metadata';

export * from './errors/status-error.js';
export * from './api/object.js';
export * from './contracts/store.js';
export * from './contracts/api-client.js';
export * from './contracts/runnable.js';
export * from './contracts/controller.js';

// API machinery: built-in kind types, field paths and validation, selectors, quantities.
export * from './api/field-path.js';
export * from './api/field-selector.js';
export * from './api/label-selector.js';
export * from './api/quantity.js';
export * from './api/types.js';
export * from './api/validation.js';
