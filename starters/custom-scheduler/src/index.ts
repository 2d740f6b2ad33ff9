// SPDX-License-Identifier: Apache-2.0
/**
 * The custom-scheduler starter's plugins, for reuse in your own starter: register them with
 * `schedulerModule({ registrations: customPluginRegistrations })` and enable them in a profile.
 * @module
 */
import { fileURLToPath } from 'node:url';
import type { SchedulerPlugin } from '@cpkit/core';
import { gangPermitRegistration } from './gang-permit.js';
import { nodeLabelPackingRegistration } from './node-label-packing.js';

export * from './demo-workload.js';
export * from './gang-permit.js';
export * from './node-label-packing.js';

/**
 * Every plugin of this starter, for the scheduler's plugin registry.
 * @category Custom scheduler
 */
export const customPluginRegistrations: readonly SchedulerPlugin[] = [
  nodeLabelPackingRegistration as SchedulerPlugin,
  gangPermitRegistration as SchedulerPlugin,
];

/** The path of the starter's `scheduler-config.yaml`. @category Custom scheduler */
export const customSchedulerConfigPath: string = fileURLToPath(
  new URL('../scheduler-config.yaml', import.meta.url),
);
