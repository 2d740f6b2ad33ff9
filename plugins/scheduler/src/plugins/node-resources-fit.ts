// SPDX-License-Identifier: Apache-2.0
import {
  CycleState,
  computePodRequests,
  type FilterPlugin,
  isQualifiedName,
  type NodeInfo,
  type PreFilterExtensions,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreScorePlugin,
  type SchedulerPlugin,
  SchedulingStatus,
  type ScoreExtensions,
  type ScorePlugin,
  StateKey,
} from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ArgsErrors, argsObject, integer, isPlainObject, stringList } from './plugin-args.js';
import {
  leastAllocatedScorer,
  maxCustomPriorityScore,
  mostAllocatedScorer,
  ResourceAllocationScorer,
  type ResourceScoringFunction,
  type ResourceSpec,
  readResourceSpecs,
  requestedToCapacityRatioScorer,
  type UtilizationShapePoint,
} from './resource-allocation.js';

/** The scoring strategies of NodeResourcesFit. @category Scheduler plugins */
export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';

const scoringStrategyTypes: readonly ScoringStrategyType[] = [
  'LeastAllocated',
  'MostAllocated',
  'RequestedToCapacityRatio',
];

/**
 * Arguments of NodeResourcesFit, as upstream's `NodeResourcesFitArgs`.
 * @category Scheduler plugins
 */
export interface NodeResourcesFitArgs {
  /** Extended resources Filter does not check (e.g. `example.com/dongle`). */
  ignoredResources?: string[];
  /** Extended-resource groups (the part before `/`) Filter does not check (e.g. `example.com`). */
  ignoredResourceGroups?: string[];
  /** How Score ranks nodes; default LeastAllocated over cpu and memory, weight 1 each. */
  scoringStrategy?: {
    type?: ScoringStrategyType;
    /** Scored resources and weights (1–100); default cpu and memory, weight 1. */
    resources?: ResourceSpec[];
    /** The shape of RequestedToCapacityRatio: utilization 0–100 ascending, score 0–10. */
    requestedToCapacityRatio?: { shape: UtilizationShapePoint[] };
  };
}

/** The pod's requests as Filter checks them, computed once per cycle. */
interface FitPreFilterState {
  readonly milliCPU: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
  /** Requested extended/scalar resources that are checked (non-zero, not ignored), with their reasons. */
  readonly scalars: readonly { readonly name: string; readonly quantity: number; readonly reason: string }[];
  /** False when the pod requests nothing: only the pod count is checked. */
  readonly requestsAnything: boolean;
}

const preFilterStateKey = new StateKey<FitPreFilterState>('PreFilterNodeResourcesFit');
const preScoreStateKey = new StateKey<readonly number[]>('PreScoreNodeResourcesFit');

const tooManyPods = 1;
const insufficientCPU = 2;
const insufficientMemory = 4;
const insufficientEphemeralStorage = 8;
const unresolvableFlag = 16;

/**
 * PreFilter, Filter, PreScore and Score `NodeResourcesFit`.
 *
 * Filter rejects a node that cannot hold the pod's requests next to what its pods already request, with one
 * reason per resource (`Too many pods`, `Insufficient cpu`, `Insufficient memory`,
 * `Insufficient ephemeral-storage`, `Insufficient <extended resource>`). The status is
 * UnschedulableAndUnresolvable when the pod asks for more than the node's whole allocatable (preemption
 * cannot help), Unschedulable otherwise. Score ranks by the configured strategy.
 * @category Scheduler plugins
 */
export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'NodeResourcesFit';
  readonly name = NodeResourcesFit.pluginName;
  // Rejections that only involve pods, cpu, memory and ephemeral storage are reused, keyed by flags.
  private readonly cachedRejections = new Map<number, SchedulingStatus>();
  private readonly ignoredResources: ReadonlySet<string>;
  private readonly ignoredResourceGroups: ReadonlySet<string>;
  private readonly scorer: ResourceAllocationScorer;

  constructor(options: {
    ignoredResources?: Iterable<string>;
    ignoredResourceGroups?: Iterable<string>;
    resources: readonly Required<ResourceSpec>[];
    scoringFunction: ResourceScoringFunction;
  }) {
    this.ignoredResources = new Set(options.ignoredResources ?? []);
    this.ignoredResourceGroups = new Set(options.ignoredResourceGroups ?? []);
    this.scorer = new ResourceAllocationScorer(options.resources, false, options.scoringFunction);
  }

  /** Extended resources (a domain-prefixed name outside `kubernetes.io/`) may be ignored by configuration. */
  private isIgnored(name: string): boolean {
    const slash = name.indexOf('/');
    if (slash < 0 || name.includes('kubernetes.io/') || name.startsWith('requests.')) return false;
    return this.ignoredResources.has(name) || this.ignoredResourceGroups.has(name.slice(0, slash));
  }

  preFilter(state: CycleState, pod: Pod): PreFilterOutcome {
    let requests: ReturnType<typeof computePodRequests>['requests'];
    try {
      requests = computePodRequests(pod).requests;
    } catch (error) {
      return { status: SchedulingStatus.error(error, this.name) };
    }
    const scalars: { name: string; quantity: number; reason: string }[] = [];
    let anyScalar = false;
    for (const name in requests.scalar) {
      anyScalar = true;
      const quantity = requests.scalar[name];
      if (quantity === 0 || this.isIgnored(name)) continue;
      scalars.push({ name, quantity, reason: `Insufficient ${name}` });
    }
    state.write(preFilterStateKey, {
      milliCPU: requests.milliCPU,
      memory: requests.memory,
      ephemeralStorage: requests.ephemeralStorage,
      scalars,
      requestsAnything:
        requests.milliCPU !== 0 || requests.memory !== 0 || requests.ephemeralStorage !== 0 || anyScalar,
    });
    return { status: SchedulingStatus.success() };
  }

  preFilterExtensions(): PreFilterExtensions | undefined {
    return undefined;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    let s = state.read(preFilterStateKey);
    if (s === undefined) {
      // PreFilter disabled in this profile: compute here (slower, same answer).
      const scratch = new CycleState();
      const outcome = this.preFilter(scratch, pod);
      if (!outcome.status.isSuccess()) return outcome.status;
      s = scratch.read(preFilterStateKey)!;
    }
    const allocatable = nodeInfo.allocatable;
    const requested = nodeInfo.requested;
    let flags = 0;
    if (nodeInfo.pods.length + 1 > allocatable.pods) flags |= tooManyPods;
    if (!s.requestsAnything) return flags === 0 ? SchedulingStatus.success() : this.rejection(flags);

    if (s.milliCPU > 0 && s.milliCPU > allocatable.milliCPU - requested.milliCPU) {
      flags |= insufficientCPU;
      if (s.milliCPU > allocatable.milliCPU) flags |= unresolvableFlag;
    }
    if (s.memory > 0 && s.memory > allocatable.memory - requested.memory) {
      flags |= insufficientMemory;
      if (s.memory > allocatable.memory) flags |= unresolvableFlag;
    }
    if (
      s.ephemeralStorage > 0 &&
      s.ephemeralStorage > allocatable.ephemeralStorage - requested.ephemeralStorage
    ) {
      flags |= insufficientEphemeralStorage;
      if (s.ephemeralStorage > allocatable.ephemeralStorage) flags |= unresolvableFlag;
    }
    let scalarReasons: string[] | undefined;
    for (let i = 0; i < s.scalars.length; i++) {
      const { name, quantity, reason } = s.scalars[i];
      const nodeAllocatable = allocatable.scalar[name] ?? 0;
      if (quantity > nodeAllocatable - (requested.scalar[name] ?? 0)) {
        scalarReasons ??= [];
        scalarReasons.push(reason);
        if (quantity > nodeAllocatable) flags |= unresolvableFlag;
      }
    }
    if (scalarReasons === undefined) return flags === 0 ? SchedulingStatus.success() : this.rejection(flags);
    return new SchedulingStatus(
      flags & unresolvableFlag ? 'UnschedulableAndUnresolvable' : 'Unschedulable',
      [...reasonsOf(flags), ...scalarReasons],
      this.name,
    );
  }

  private rejection(flags: number): SchedulingStatus {
    let status = this.cachedRejections.get(flags);
    if (status === undefined) {
      status = new SchedulingStatus(
        flags & unresolvableFlag ? 'UnschedulableAndUnresolvable' : 'Unschedulable',
        reasonsOf(flags),
        this.name,
      );
      this.cachedRejections.set(flags, status);
    }
    return status;
  }

  preScore(state: CycleState, pod: Pod): SchedulingStatus {
    try {
      state.write(preScoreStateKey, this.scorer.podRequestList(pod));
    } catch (error) {
      return SchedulingStatus.error(error, this.name);
    }
    return SchedulingStatus.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | SchedulingStatus {
    const podRequests = state.read(preScoreStateKey) ?? this.scorer.podRequestList(pod);
    return this.scorer.score(nodeInfo, podRequests);
  }

  scoreExtensions(): ScoreExtensions | undefined {
    return undefined;
  }
}

function reasonsOf(flags: number): string[] {
  const reasons: string[] = [];
  if (flags & tooManyPods) reasons.push('Too many pods');
  if (flags & insufficientCPU) reasons.push('Insufficient cpu');
  if (flags & insufficientMemory) reasons.push('Insufficient memory');
  if (flags & insufficientEphemeralStorage) reasons.push('Insufficient ephemeral-storage');
  return reasons;
}

function readShape(value: unknown, field: string, errs: ArgsErrors): UtilizationShapePoint[] {
  if (!Array.isArray(value) || value.length === 0) {
    errs.required(field, 'at least one point must be specified');
    return [];
  }
  const shape: UtilizationShapePoint[] = [];
  value.forEach((point, i) => {
    if (!isPlainObject(point)) {
      errs.invalid(`${field}[${i}]`, point, 'must be {utilization, score}');
      return;
    }
    const utilization = integer(point.utilization, `${field}[${i}].utilization`, errs, 0);
    const score = integer(point.score, `${field}[${i}].score`, errs, 0);
    shape.push({ utilization, score });
  });
  for (let i = 1; i < shape.length; i++) {
    if (shape[i - 1].utilization >= shape[i].utilization) {
      errs.invalid(
        `${field}[${i}].utilization`,
        shape[i].utilization,
        'utilization values must be sorted in increasing order',
      );
      break;
    }
  }
  shape.forEach((point, i) => {
    if (point.utilization < 0 || point.utilization > 100) {
      errs.invalid(`${field}[${i}].utilization`, point.utilization, 'not in valid range [0, 100]');
    }
    if (point.score < 0 || point.score > maxCustomPriorityScore) {
      errs.invalid(`${field}[${i}].score`, point.score, `not in valid range [0, ${maxCustomPriorityScore}]`);
    }
  });
  return shape;
}

/**
 * Builds a {@link NodeResourcesFit} from {@link NodeResourcesFitArgs}, applying upstream's defaults and
 * validation. Throws `Invalid` naming each bad field.
 * @category Scheduler plugins
 */
export function newNodeResourcesFit(args: unknown): NodeResourcesFit {
  const errs = new ArgsErrors('NodeResourcesFitArgs', NodeResourcesFit.pluginName);
  const object = argsObject(args, errs);
  const ignoredResources = stringList(object.ignoredResources, 'ignoredResources', errs);
  ignoredResources.forEach((name, i) => {
    const problems = isQualifiedName(name);
    if (problems.length > 0) errs.invalid(`ignoredResources[${i}]`, name, problems.join('; '));
  });
  const ignoredResourceGroups = stringList(object.ignoredResourceGroups, 'ignoredResourceGroups', errs);
  ignoredResourceGroups.forEach((group, i) => {
    if (group.includes('/'))
      errs.invalid(`ignoredResourceGroups[${i}]`, group, "resource group name can't contain '/'");
    else {
      const problems = isQualifiedName(group);
      if (problems.length > 0) errs.invalid(`ignoredResourceGroups[${i}]`, group, problems.join('; '));
    }
  });

  let type: ScoringStrategyType = 'LeastAllocated';
  let resources = readResourceSpecs(undefined, 'scoringStrategy.resources', errs);
  let shape: UtilizationShapePoint[] = [];
  const strategy = object.scoringStrategy;
  if (strategy !== undefined && strategy !== null) {
    if (!isPlainObject(strategy)) {
      errs.invalid('scoringStrategy', strategy, 'must be an object');
    } else {
      if (!scoringStrategyTypes.includes(strategy.type as ScoringStrategyType)) {
        errs.notSupported('scoringStrategy.type', strategy.type ?? '', scoringStrategyTypes);
      } else {
        type = strategy.type as ScoringStrategyType;
      }
      resources = readResourceSpecs(strategy.resources, 'scoringStrategy.resources', errs);
      const seen = new Set<string>();
      resources.forEach((resource, i) => {
        if (resource.weight <= 0 || resource.weight > 100) {
          errs.invalid(
            `scoringStrategy.resources[${i}].weight`,
            resource.weight,
            `resource weight of ${resource.name} not in valid range (0, 100]`,
          );
        }
        if (seen.has(resource.name)) errs.duplicate(`scoringStrategy.resources[${i}].name`, resource.name);
        seen.add(resource.name);
      });
      const ratio = strategy.requestedToCapacityRatio;
      if (ratio !== undefined && ratio !== null) {
        shape = readShape(
          isPlainObject(ratio) ? ratio.shape : undefined,
          'scoringStrategy.requestedToCapacityRatio.shape',
          errs,
        );
      } else if (type === 'RequestedToCapacityRatio') {
        errs.required(
          'scoringStrategy.requestedToCapacityRatio',
          'a shape is needed for RequestedToCapacityRatio',
        );
      }
    }
  }
  errs.throwIfAny();

  const scoringFunction =
    type === 'MostAllocated'
      ? mostAllocatedScorer
      : type === 'RequestedToCapacityRatio'
        ? requestedToCapacityRatioScorer(shape)
        : leastAllocatedScorer;
  return new NodeResourcesFit({ ignoredResources, ignoredResourceGroups, resources, scoringFunction });
}

/** Registration of {@link NodeResourcesFit} (args: {@link NodeResourcesFitArgs}). @category Scheduler plugins */
export const nodeResourcesFitRegistration: SchedulerPlugin<NodeResourcesFitArgs> = {
  name: NodeResourcesFit.pluginName,
  factory: (args) => newNodeResourcesFit(args),
};
