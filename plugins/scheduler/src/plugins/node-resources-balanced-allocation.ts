// SPDX-License-Identifier: Apache-2.0
import {
  type CycleState,
  type NodeInfo,
  type PreScorePlugin,
  type SchedulerPlugin,
  SchedulingStatus,
  type ScoreExtensions,
  type ScorePlugin,
  StateKey,
} from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ArgsErrors, argsObject } from './plugin-args.js';
import {
  balancedAllocationScorer,
  isBestEffortRequestList,
  ResourceAllocationScorer,
  type ResourceSpec,
  readResourceSpecs,
} from './resource-allocation.js';

/**
 * Arguments of NodeResourcesBalancedAllocation, as upstream's `NodeResourcesBalancedAllocationArgs`.
 * @category Scheduler plugins
 */
export interface NodeResourcesBalancedAllocationArgs {
  /** The resources to balance; default cpu and memory. Weights must be 1. */
  resources?: ResourceSpec[];
}

const preScoreStateKey = new StateKey<readonly number[]>('PreScoreNodeResourcesBalancedAllocation');

/**
 * PreScore and Score `NodeResourcesBalancedAllocation`: favours nodes whose resources would be used evenly
 * with the pod on them, scoring 100 × (1 − standard deviation of the requested/allocatable fractions).
 * Pods that request none of the resources skip it (PreScore returns Skip), as upstream, so best-effort
 * pods do not all pile onto one node.
 * @category Scheduler plugins
 */
export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'NodeResourcesBalancedAllocation';
  readonly name = NodeResourcesBalancedAllocation.pluginName;
  private readonly scorer: ResourceAllocationScorer;

  constructor(resources: readonly Required<ResourceSpec>[]) {
    this.scorer = new ResourceAllocationScorer(resources, true, balancedAllocationScorer);
  }

  preScore(state: CycleState, pod: Pod): SchedulingStatus {
    let podRequests: number[];
    try {
      podRequests = this.scorer.podRequestList(pod);
    } catch (error) {
      return SchedulingStatus.error(error, this.name);
    }
    if (isBestEffortRequestList(podRequests)) return SchedulingStatus.skip();
    state.write(preScoreStateKey, podRequests);
    return SchedulingStatus.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | SchedulingStatus {
    let podRequests = state.read(preScoreStateKey);
    if (podRequests === undefined) {
      podRequests = this.scorer.podRequestList(pod);
      if (isBestEffortRequestList(podRequests)) return 0;
    }
    return this.scorer.score(nodeInfo, podRequests);
  }

  scoreExtensions(): ScoreExtensions | undefined {
    return undefined;
  }
}

/**
 * Builds a {@link NodeResourcesBalancedAllocation} from its args. Throws `Invalid` for a duplicate resource
 * or a weight other than 1.
 * @category Scheduler plugins
 */
export function newNodeResourcesBalancedAllocation(args: unknown): NodeResourcesBalancedAllocation {
  const errs = new ArgsErrors(
    'NodeResourcesBalancedAllocationArgs',
    NodeResourcesBalancedAllocation.pluginName,
  );
  const object = argsObject(args, errs);
  const resources = readResourceSpecs(object.resources, 'resources', errs);
  const seen = new Set<string>();
  resources.forEach((resource, i) => {
    if (seen.has(resource.name)) errs.duplicate(`resources[${i}].name`, resource.name);
    seen.add(resource.name);
    if (resource.weight !== 1) errs.invalid(`resources[${i}].weight`, resource.weight, 'must be 1');
  });
  errs.throwIfAny();
  return new NodeResourcesBalancedAllocation(resources);
}

/**
 * Registration of {@link NodeResourcesBalancedAllocation} (args: {@link NodeResourcesBalancedAllocationArgs}).
 * @category Scheduler plugins
 */
export const nodeResourcesBalancedAllocationRegistration: SchedulerPlugin<NodeResourcesBalancedAllocationArgs> =
  {
    name: NodeResourcesBalancedAllocation.pluginName,
    factory: (args) => newNodeResourcesBalancedAllocation(args),
  };
