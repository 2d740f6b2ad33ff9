// SPDX-License-Identifier: Apache-2.0
/**
 * NodeLabelPacking: a Score plugin that packs pods onto the nodes of a labelled pool (for example the
 * nodes a platform team pays for up front, `node-pool: reserved`), fullest first, so the other nodes stay
 * empty and can be scaled down. It never rejects a node: pods still go elsewhere when the pool is full.
 * @module
 */
import {
  type CycleState,
  errors,
  MaxNodeScore,
  type NodeInfo,
  type NodeScore,
  nonZeroRequests,
  type PreScorePlugin,
  type SchedulerPlugin,
  SchedulingStatus,
  type ScoreExtensions,
  type ScorePlugin,
  StateKey,
  type StatusCause,
} from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';

/**
 * Arguments of {@link NodeLabelPacking}, as a profile's `pluginConfig[].args` gives them. How much the
 * plugin counts against the default plugins is its Score weight in the profile, not an argument.
 * @category Custom scheduler
 */
export interface NodeLabelPackingArgs {
  /** The node label that marks the pool, e.g. `node-pool`. Required. */
  labelKey: string;
  /**
   * The label values that count, most preferred first: a node whose value comes earlier always ranks
   * above one whose value comes later. Absent or empty: any value of `labelKey` counts, all alike.
   */
  preferredValues?: string[];
}

/** The plugin's name, as profiles and `pluginConfig` refer to it. @category Custom scheduler */
export const NodeLabelPackingName = 'NodeLabelPacking';

/** What PreScore computes once per pod, for Score to read on every node. */
interface PackingState {
  /** The pod's CPU request in millicores (100m when it requests none, so best-effort pods pack too). */
  readonly milliCPU: number;
  /** The pod's memory request in bytes (200Mi when it requests none). */
  readonly memory: number;
}

// One key per kind of state, created once at module level; the name shows up in debugging only.
const packingStateKey = new StateKey<PackingState>('PreScoreNodeLabelPacking');

/** A raw score's tier step: one more than the largest fullness, so tiers never overlap. */
const tierStep = MaxNodeScore + 1;

// A label key is an optional DNS subdomain prefix and a name of at most 63 characters.
const labelKeyPattern =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * Packs pods onto nodes carrying `labelKey` (with one of `preferredValues`, when given).
 *
 * - **PreScore** reads the pod's requests once and returns Skip when no feasible node is in the pool,
 *   so the framework does not call Score at all for this pod.
 * - **Score** gives a pool node `tier × 101 + fullness`, where `tier` ranks its label value (the first
 *   preferred value has the highest tier) and `fullness` (0–100) is the average share of CPU and memory
 *   requested on the node once this pod is added. Nodes outside the pool score 0.
 * - **NormalizeScore** rescales so the best node gets 100, as the framework requires scores in 0–100.
 *
 * Score runs for thousands of nodes per pod, so it only reads: one label lookup, one map lookup and a
 * little arithmetic, no allocation.
 * @category Custom scheduler
 */
export class NodeLabelPacking implements PreScorePlugin, ScorePlugin, ScoreExtensions {
  readonly name = NodeLabelPackingName;
  readonly #labelKey: string;
  /** Label value → tier (highest for the first preferred value); empty when any value counts. */
  readonly #tiers: ReadonlyMap<string, number>;

  constructor(args: NodeLabelPackingArgs) {
    this.#labelKey = args.labelKey;
    const values = args.preferredValues ?? [];
    this.#tiers = new Map(values.map((value, index) => [value, values.length - index]));
  }

  /** The node's tier: 0 outside the pool, 1 or more inside. */
  tierOf(nodeInfo: NodeInfo): number {
    const value = nodeInfo.node.metadata?.labels?.[this.#labelKey];
    if (value === undefined) return 0;
    if (this.#tiers.size === 0) return 1;
    return this.#tiers.get(value) ?? 0;
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): SchedulingStatus {
    if (!nodes.some((node) => this.tierOf(node) > 0)) return SchedulingStatus.skip();
    const requests = nonZeroRequests(pod);
    state.write(packingStateKey, { milliCPU: requests.milliCPU, memory: requests.memory });
    return SchedulingStatus.success();
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number | SchedulingStatus {
    const tier = this.tierOf(nodeInfo);
    if (tier === 0) return 0;
    const pod = state.read(packingStateKey);
    // PreScore always writes it when it does not skip: a profile that enables Score alone is a mistake.
    if (pod === undefined) {
      return SchedulingStatus.error(
        `${packingStateKey.name} not found in CycleState: enable ${this.name} at preScore too (multiPoint enables both)`,
      );
    }
    const cpu = share(nodeInfo.nonZeroRequested.milliCPU + pod.milliCPU, nodeInfo.allocatable.milliCPU);
    const memory = share(nodeInfo.nonZeroRequested.memory + pod.memory, nodeInfo.allocatable.memory);
    const fullness = Math.trunc((cpu + memory) / 2);
    return tier * tierStep + fullness;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): SchedulingStatus {
    let highest = 0;
    for (const { score } of scores) if (score > highest) highest = score;
    if (highest === 0) return SchedulingStatus.success(); // no pool node among them: all stay 0
    for (const entry of scores) entry.score = Math.trunc((entry.score * MaxNodeScore) / highest);
    return SchedulingStatus.success();
  }
}

/** `requested / allocatable` in percent, at most 100; 0 when the node has none of the resource. */
function share(requested: number, allocatable: number): number {
  if (allocatable <= 0) return 0;
  return Math.min(MaxNodeScore, (requested * MaxNodeScore) / allocatable);
}

/**
 * Checks `pluginConfig[].args` (plain YAML data) and returns them typed. Throws `Invalid` with one cause
 * per bad field, so the scheduler refuses to start and says which field is wrong and why.
 * @category Custom scheduler
 */
export function validateNodeLabelPackingArgs(args: unknown): NodeLabelPackingArgs {
  const causes: StatusCause[] = [];
  const invalid = (field: string, value: unknown, why: string): void => {
    causes.push({
      reason: 'FieldValueInvalid',
      field,
      message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
    });
  };
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    causes.push({ reason: 'FieldValueRequired', field: 'labelKey', message: 'Required value' });
    throw errors.invalid('NodeLabelPackingArgs', NodeLabelPackingName, causes);
  }
  const { labelKey, preferredValues, ...unknown } = args as Record<string, unknown>;
  for (const field of Object.keys(unknown)) {
    causes.push({ reason: 'FieldValueNotSupported', field, message: `unknown field "${field}"` });
  }
  if (labelKey === undefined) {
    causes.push({ reason: 'FieldValueRequired', field: 'labelKey', message: 'Required value' });
  } else if (typeof labelKey !== 'string' || !labelKeyPattern.test(labelKey)) {
    invalid('labelKey', labelKey, 'must be a label key such as "node-pool" or "example.com/pool"');
  }
  if (preferredValues !== undefined) {
    if (!Array.isArray(preferredValues)) invalid('preferredValues', preferredValues, 'must be a list');
    else {
      const seen = new Set<unknown>();
      preferredValues.forEach((value, index) => {
        if (typeof value !== 'string') invalid(`preferredValues[${index}]`, value, 'must be a string');
        else if (seen.has(value)) {
          causes.push({
            reason: 'FieldValueDuplicate',
            field: `preferredValues[${index}]`,
            message: `Duplicate value: ${JSON.stringify(value)}`,
          });
        }
        seen.add(value);
      });
    }
  }
  if (causes.length > 0) throw errors.invalid('NodeLabelPackingArgs', NodeLabelPackingName, causes);
  return args as NodeLabelPackingArgs;
}

/**
 * The registration the scheduler's plugin registry holds: `schedulerModule({ registrations: [...] })`
 * makes the name known; a profile then enables it at `score` with a weight.
 * @category Custom scheduler
 */
export const nodeLabelPackingRegistration: SchedulerPlugin<NodeLabelPackingArgs> = {
  name: NodeLabelPackingName,
  factory: (args) => new NodeLabelPacking(validateNodeLabelPackingArgs(args)),
};
