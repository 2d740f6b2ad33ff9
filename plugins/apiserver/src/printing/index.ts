// SPDX-License-Identifier: Apache-2.0
export * from './duration.js';
export * from './event-printer.js';
export * from './format.js';
export * from './node-printer.js';
export * from './pod-printer.js';
export * from './print-table.js';
export * from './service-printer.js';
export * from './simple-printers.js';
export * from './table.js';
export * from './workload-printers.js';
