// SPDX-License-Identifier: Apache-2.0
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type SchedulerPlugin,
  SchedulingStatus,
} from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';

/** @category Scheduler plugins */
export const nodeNameErrorReason = "node(s) didn't match the requested node name";

/**
 * Filter `NodeName`: a pod that already names a node (`spec.nodeName`) fits only that node.
 * @category Scheduler plugins
 */
export class NodeName implements FilterPlugin {
  static readonly pluginName = 'NodeName';
  readonly name = NodeName.pluginName;
  // Statuses are immutable: one instance serves every rejected node.
  private readonly rejected = new SchedulingStatus(
    'UnschedulableAndUnresolvable',
    [nodeNameErrorReason],
    NodeName.pluginName,
  );

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    const wanted = pod.spec?.nodeName;
    if (!wanted || wanted === nodeInfo.name) return SchedulingStatus.success();
    return this.rejected;
  }
}

/** Registration of {@link NodeName}; it takes no arguments. @category Scheduler plugins */
export const nodeNameRegistration: SchedulerPlugin = {
  name: NodeName.pluginName,
  factory: () => new NodeName(),
};
