// SPDX-License-Identifier: Apache-2.0
import type { QueuedPodInfo, QueueSortPlugin, SchedulerPlugin } from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';

/** The pod's priority (`spec.priority`), 0 when unset. @category Scheduler plugins */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/**
 * QueueSort `PrioritySort`: higher `spec.priority` first; among equal priorities, the pod queued earlier
 * first.
 * @category Scheduler plugins
 */
export class PrioritySort implements QueueSortPlugin {
  static readonly pluginName = 'PrioritySort';
  readonly name = PrioritySort.pluginName;

  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const p1 = podPriority(a.pod);
    const p2 = podPriority(b.pod);
    return p1 > p2 || (p1 === p2 && a.timestamp < b.timestamp);
  }
}

/** Registration of {@link PrioritySort}; it takes no arguments. @category Scheduler plugins */
export const prioritySortRegistration: SchedulerPlugin = {
  name: PrioritySort.pluginName,
  factory: () => new PrioritySort(),
};
