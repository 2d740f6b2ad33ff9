// SPDX-License-Identifier: Apache-2.0
/**
 * The resource-allocation scoring shared by NodeResourcesFit (LeastAllocated, MostAllocated,
 * RequestedToCapacityRatio) and NodeResourcesBalancedAllocation, as upstream's `resourceAllocationScorer`:
 * for each configured resource, what the node would have requested with the pod on it, against what it
 * can allocate, folded into one score by a strategy. Integer arithmetic truncates as upstream's int64 does.
 * @module
 */
import { computePodRequests, MaxNodeScore, type NodeInfo, type SchedulingResources } from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type ArgsErrors, integer, isPlainObject } from './plugin-args.js';

/** A resource and its weight in a score. @category Scheduler plugins */
export interface ResourceSpec {
  /** Resource name: `cpu`, `memory`, `ephemeral-storage`, or an extended resource such as `nvidia.com/gpu`. */
  name: string;
  /** Weight of this resource in the score; 1 when 0 or absent. */
  weight?: number;
}

/** CPU and memory with weight 1: the resources scored when a profile names none. @category Scheduler plugins */
export const defaultResourceSpecs: readonly Required<ResourceSpec>[] = Object.freeze([
  Object.freeze({ name: 'cpu', weight: 1 }),
  Object.freeze({ name: 'memory', weight: 1 }),
]);

enum ResourceKind {
  CPU,
  Memory,
  EphemeralStorage,
  Scalar,
}

function kindOf(name: string): ResourceKind {
  switch (name) {
    case 'cpu':
      return ResourceKind.CPU;
    case 'memory':
      return ResourceKind.Memory;
    case 'ephemeral-storage':
      return ResourceKind.EphemeralStorage;
    default:
      return ResourceKind.Scalar;
  }
}

function amountOf(resources: Readonly<SchedulingResources>, kind: ResourceKind, name: string): number {
  switch (kind) {
    case ResourceKind.CPU:
      return resources.milliCPU;
    case ResourceKind.Memory:
      return resources.memory;
    case ResourceKind.EphemeralStorage:
      return resources.ephemeralStorage;
    default:
      return resources.scalar[name] ?? 0;
  }
}

/**
 * Folds per-resource (requested, allocatable) pairs into a node score. Entries whose allocatable is 0 are
 * not scored. Must not keep the arrays: they are reused between calls.
 * @category Scheduler plugins
 */
export type ResourceScoringFunction = (
  requested: Float64Array,
  allocatable: Float64Array,
  weights: readonly number[],
) => number;

/**
 * The per-node half of resource-allocation scoring. Keeps scratch arrays, so one instance must not be
 * used re-entrantly (Score calls are synchronous, so it never is).
 * @category Scheduler plugins
 */
export class ResourceAllocationScorer {
  private readonly names: readonly string[];
  private readonly kinds: readonly ResourceKind[];
  readonly weights: readonly number[];
  private readonly requested: Float64Array;
  private readonly allocatable: Float64Array;

  /**
   * @param resources the scored resources, weights already defaulted.
   * @param useRequested true to count what pods request (BalancedAllocation); false to count CPU and
   *   memory with the 100m / 200Mi defaults for containers that request none (the Fit strategies).
   * @param scorer the strategy.
   */
  constructor(
    resources: readonly Required<ResourceSpec>[],
    private readonly useRequested: boolean,
    private readonly scorer: ResourceScoringFunction,
  ) {
    this.names = resources.map((r) => r.name);
    this.kinds = resources.map((r) => kindOf(r.name));
    this.weights = resources.map((r) => r.weight);
    this.requested = new Float64Array(resources.length);
    this.allocatable = new Float64Array(resources.length);
  }

  /** The pod's request of each scored resource, in the order of the configured resources. */
  podRequestList(pod: Pod): number[] {
    const requests = computePodRequests(pod);
    const source = this.useRequested ? requests.requests : requests.nonZeroRequests;
    return this.names.map((name, i) => amountOf(source, this.kinds[i], name));
  }

  /** The node's score with the pod (whose requests {@link podRequestList} gave) placed on it. */
  score(nodeInfo: NodeInfo, podRequests: readonly number[]): number {
    const requestedOnNode = this.useRequested ? nodeInfo.requested : nodeInfo.nonZeroRequested;
    const allocatable = nodeInfo.allocatable;
    for (let i = 0; i < this.kinds.length; i++) {
      const kind = this.kinds[i];
      const podRequest = podRequests[i];
      let alloc = 0;
      let req = 0;
      switch (kind) {
        case ResourceKind.CPU:
          alloc = allocatable.milliCPU;
          req = requestedOnNode.milliCPU + podRequest;
          break;
        case ResourceKind.Memory:
          alloc = allocatable.memory;
          req = requestedOnNode.memory + podRequest;
          break;
        case ResourceKind.EphemeralStorage:
          alloc = allocatable.ephemeralStorage;
          req = nodeInfo.requested.ephemeralStorage + podRequest;
          break;
        default: {
          // An extended resource the pod does not ask for is left out of the score entirely.
          if (podRequest === 0) break;
          const name = this.names[i];
          const nodeAlloc = allocatable.scalar[name];
          if (nodeAlloc !== undefined) {
            alloc = nodeAlloc;
            req = (nodeInfo.requested.scalar[name] ?? 0) + podRequest;
          }
        }
      }
      this.allocatable[i] = alloc;
      this.requested[i] = alloc === 0 ? 0 : req;
    }
    return this.scorer(this.requested, this.allocatable, this.weights);
  }
}

/** True when the pod requests none of the scored resources. @category Scheduler plugins */
export function isBestEffortRequestList(podRequests: readonly number[]): boolean {
  for (let i = 0; i < podRequests.length; i++) if (podRequests[i] !== 0) return false;
  return true;
}

/** LeastAllocated: the more of each resource stays free, the higher the score. @category Scheduler plugins */
export const leastAllocatedScorer: ResourceScoringFunction = (requested, allocatable, weights) => {
  let nodeScore = 0;
  let weightSum = 0;
  for (let i = 0; i < requested.length; i++) {
    const capacity = allocatable[i];
    if (capacity === 0) continue;
    const req = requested[i];
    const resourceScore = req > capacity ? 0 : Math.floor(((capacity - req) * MaxNodeScore) / capacity);
    nodeScore += resourceScore * weights[i];
    weightSum += weights[i];
  }
  return weightSum === 0 ? 0 : Math.floor(nodeScore / weightSum);
};

/** MostAllocated: the more of each resource is in use, the higher the score (bin packing). @category Scheduler plugins */
export const mostAllocatedScorer: ResourceScoringFunction = (requested, allocatable, weights) => {
  let nodeScore = 0;
  let weightSum = 0;
  for (let i = 0; i < requested.length; i++) {
    const capacity = allocatable[i];
    if (capacity === 0) continue;
    const req = Math.min(requested[i], capacity);
    nodeScore += Math.floor((req * MaxNodeScore) / capacity) * weights[i];
    weightSum += weights[i];
  }
  return weightSum === 0 ? 0 : Math.floor(nodeScore / weightSum);
};

/** One point of a RequestedToCapacityRatio shape. @category Scheduler plugins */
export interface UtilizationShapePoint {
  /** Utilization in percent, 0–100. */
  utilization: number;
  /** Score at that utilization, 0–10 (scaled to 0–100 when scoring). */
  score: number;
}

/** The highest score a shape point may give (upstream's MaxCustomPriorityScore). @category Scheduler plugins */
export const maxCustomPriorityScore = 10;

/**
 * The piecewise-linear function through `points` (utilization ascending): constant before the first and
 * after the last point, with Go's truncating integer division in between.
 * @category Scheduler plugins
 */
export function brokenLinearFunction(
  points: readonly UtilizationShapePoint[],
): (utilization: number) => number {
  return (p) => {
    for (let i = 0; i < points.length; i++) {
      if (p <= points[i].utilization) {
        if (i === 0) return points[0].score;
        const prev = points[i - 1];
        return (
          prev.score +
          Math.trunc(
            ((points[i].score - prev.score) * (p - prev.utilization)) /
              (points[i].utilization - prev.utilization),
          )
        );
      }
    }
    return points[points.length - 1].score;
  };
}

/**
 * RequestedToCapacityRatio: each resource's utilization (percent, with the pod) goes through the shape;
 * resources scoring 0 are left out; the weighted mean is rounded.
 * @category Scheduler plugins
 */
export function requestedToCapacityRatioScorer(
  shape: readonly UtilizationShapePoint[],
): ResourceScoringFunction {
  const scaled = shape.map((p) => ({
    utilization: p.utilization,
    score: p.score * (MaxNodeScore / maxCustomPriorityScore),
  }));
  const f = brokenLinearFunction(scaled);
  const maxUtilization = 100;
  return (requested, allocatable, weights) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      const capacity = allocatable[i];
      if (capacity === 0) continue;
      const req = requested[i];
      const resourceScore =
        req > capacity ? f(maxUtilization) : f(Math.floor((req * maxUtilization) / capacity));
      if (resourceScore > 0) {
        nodeScore += resourceScore * weights[i];
        weightSum += weights[i];
      }
    }
    return weightSum === 0 ? 0 : Math.round(nodeScore / weightSum);
  };
}

/**
 * BalancedAllocation: 100 × (1 − the standard deviation of the resources' requested fractions); a node
 * whose resources are used evenly scores high.
 * @category Scheduler plugins
 */
export const balancedAllocationScorer: ResourceScoringFunction = (requested, allocatable) => {
  let count = 0;
  let total = 0;
  let first = 0;
  let second = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const fraction = Math.min(requested[i] / allocatable[i], 1);
    if (count === 0) first = fraction;
    else if (count === 1) second = fraction;
    total += fraction;
    count++;
  }
  let std = 0;
  if (count === 2) {
    // The common CPU + memory case: the standard deviation of two values is half their distance.
    std = Math.abs((first - second) / 2);
  } else if (count > 2) {
    const mean = total / count;
    let sum = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      const fraction = Math.min(requested[i] / allocatable[i], 1);
      sum += (fraction - mean) * (fraction - mean);
    }
    std = Math.sqrt(sum / count);
  }
  return Math.trunc((1 - std) * MaxNodeScore);
};

/**
 * Reads a `resources` list of {@link ResourceSpec}s from plugin args: absent or empty gives the defaults
 * (cpu and memory, weight 1); a weight of 0 or none becomes 1.
 */
export function readResourceSpecs(value: unknown, field: string, errs: ArgsErrors): Required<ResourceSpec>[] {
  if (value === undefined || value === null) return defaultResourceSpecs.map((r) => ({ ...r }));
  if (!Array.isArray(value)) {
    errs.invalid(field, value, 'must be a list of {name, weight}');
    return [];
  }
  if (value.length === 0) return defaultResourceSpecs.map((r) => ({ ...r }));
  const result: Required<ResourceSpec>[] = [];
  value.forEach((item, i) => {
    if (!isPlainObject(item) || typeof item.name !== 'string' || item.name === '') {
      errs.invalid(`${field}[${i}].name`, isPlainObject(item) ? item.name : item, 'must be a resource name');
      return;
    }
    const weight = integer(item.weight, `${field}[${i}].weight`, errs, 0);
    result.push({ name: item.name, weight: weight === 0 ? 1 : weight });
  });
  return result;
}
