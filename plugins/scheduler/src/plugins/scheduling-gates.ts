// SPDX-License-Identifier: Apache-2.0
import { type PreEnqueuePlugin, type SchedulerPlugin, SchedulingStatus } from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';

/**
 * PreEnqueue `SchedulingGates`: keeps a pod out of the active queue while `spec.schedulingGates` is not
 * empty, with upstream's message `waiting for scheduling gates: [gate-a gate-b]`.
 * @category Scheduler plugins
 */
export class SchedulingGates implements PreEnqueuePlugin {
  static readonly pluginName = 'SchedulingGates';
  readonly name = SchedulingGates.pluginName;

  preEnqueue(pod: Pod): SchedulingStatus {
    const gates = pod.spec?.schedulingGates;
    if (!gates || gates.length === 0) return SchedulingStatus.success();
    return new SchedulingStatus(
      'UnschedulableAndUnresolvable',
      [`waiting for scheduling gates: [${gates.map((gate) => gate.name).join(' ')}]`],
      this.name,
    );
  }
}

/** Registration of {@link SchedulingGates}; it takes no arguments. @category Scheduler plugins */
export const schedulingGatesRegistration: SchedulerPlugin = {
  name: SchedulingGates.pluginName,
  factory: () => new SchedulingGates(),
};
