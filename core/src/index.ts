// SPDX-License-Identifier: Apache-2.0
import 'reflect-metadata';

export * from './errors/status-error.js';
export * from './api/object.js';
export * from './contracts/store.js';
export * from './contracts/api-client.js';
export * from './contracts/runnable.js';
export * from './contracts/controller.js';
