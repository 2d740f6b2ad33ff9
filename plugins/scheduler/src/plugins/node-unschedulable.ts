// SPDX-License-Identifier: Apache-2.0
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type SchedulerPlugin,
  SchedulingStatus,
} from '@cpkit/core';
import type { Pod, Taint } from 'kubernetes-types/core/v1.js';
import { tolerationsTolerateTaint } from './tolerations.js';

/** @category Scheduler plugins */
export const nodeUnschedulableErrorReason = 'node(s) were unschedulable';

/** The taint that stands for `spec.unschedulable: true` (a pod tolerating it may still go there). */
const unschedulableTaint: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/**
 * Filter `NodeUnschedulable`: keeps pods off cordoned nodes (`spec.unschedulable: true`) unless they
 * tolerate the `node.kubernetes.io/unschedulable:NoSchedule` taint.
 * @category Scheduler plugins
 */
export class NodeUnschedulable implements FilterPlugin {
  static readonly pluginName = 'NodeUnschedulable';
  readonly name = NodeUnschedulable.pluginName;
  private readonly rejected = new SchedulingStatus(
    'UnschedulableAndUnresolvable',
    [nodeUnschedulableErrorReason],
    NodeUnschedulable.pluginName,
  );

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    if (!nodeInfo.node.spec?.unschedulable) return SchedulingStatus.success();
    if (tolerationsTolerateTaint(pod.spec?.tolerations, unschedulableTaint))
      return SchedulingStatus.success();
    return this.rejected;
  }
}

/** Registration of {@link NodeUnschedulable}; it takes no arguments. @category Scheduler plugins */
export const nodeUnschedulableRegistration: SchedulerPlugin = {
  name: NodeUnschedulable.pluginName,
  factory: () => new NodeUnschedulable(),
};
