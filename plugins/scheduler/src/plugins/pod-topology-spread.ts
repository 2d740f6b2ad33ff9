// SPDX-License-Identifier: Apache-2.0
/**
 * PodTopologySpread: spreads pods that match a label selector evenly over topology domains (zones,
 * nodes, ...), as the upstream plugin of the same name. Hard constraints (`whenUnsatisfiable:
 * DoNotSchedule`) are checked by Filter against per-domain counts computed once in PreFilter; soft ones
 * (`ScheduleAnyway`) rank nodes in Score from counts computed once in PreScore. A pod without constraints
 * gets the profile's default constraints (the system defaults unless configured otherwise), whose selector
 * is deduced from the Services, ReplicationControllers, ReplicaSets and StatefulSets that select the pod.
 * @module
 */
import {
  type CacheReader,
  type CloneableStateData,
  type CycleState,
  errors,
  type FilterPlugin,
  type KubeObject,
  type LabelSelectorMatcher,
  labelSelectorFromObject,
  MaxNodeScore,
  type NodeInfo,
  type NodeScore,
  type PodInfo,
  type PreFilterExtensions,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreScorePlugin,
  type SchedulerPlugin,
  type SchedulingFrameworkHandle,
  SchedulingStatus,
  type ScoreExtensions,
  type ScorePlugin,
  StateKey,
  type StatusCause,
} from '@cpkit/core';
import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1.js';
import { RequiredNodeAffinity } from './node-selector.js';
import { SpreadCountCache } from './pod-topology-spread-counts.js';
import { findUntoleratedTaint } from './tolerations.js';

/** The plugin's name in profiles. @category Scheduler plugins */
export const podTopologySpreadName = 'PodTopologySpread';

/** Filter reason when placing the pod on the node would exceed a constraint's maxSkew. @category Scheduler plugins */
export const errReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
/** Filter reason when the node lacks a constraint's topology key. @category Scheduler plugins */
export const errReasonNodeLabelNotMatch = `${errReasonConstraintsNotMatch} (missing required label)`;

const labelHostname = 'kubernetes.io/hostname';
const labelTopologyZone = 'topology.kubernetes.io/zone';

/**
 * The constraints applied to pods without their own when `defaultingType` is `System`, as upstream:
 * spread over nodes with maxSkew 3 and over zones with maxSkew 5, both `ScheduleAnyway`.
 * @category Scheduler plugins
 */
export const systemDefaultTopologySpreadConstraints: readonly TopologySpreadConstraint[] = Object.freeze([
  { topologyKey: labelHostname, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: labelTopologyZone, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
]);

/**
 * PodTopologySpread's arguments (upstream `PodTopologySpreadArgs`).
 * @category Scheduler plugins
 */
export interface PodTopologySpreadArgs {
  /**
   * Constraints for pods that define none, without `labelSelector` (it is deduced per pod). Only with
   * `defaultingType: List`.
   */
  defaultConstraints?: TopologySpreadConstraint[];
  /** `System` (default): the built-in {@link systemDefaultTopologySpreadConstraints}; `List`: `defaultConstraints`. */
  defaultingType?: 'System' | 'List';
}

type NodeInclusionPolicy = 'Honor' | 'Ignore';

/** A pod's constraint with its selector compiled and its optional fields defaulted. */
interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly selector: LabelSelectorMatcher;
  readonly minDomains: number;
  readonly nodeAffinityPolicy: NodeInclusionPolicy;
  readonly nodeTaintsPolicy: NodeInclusionPolicy;
}

/**
 * The two domains with the fewest matching pods of one constraint. Two suffice because preemption
 * changes one node at a time on its own copy of the state: after any single update, slot 0 still holds
 * the global minimum. Slot 1 is at least slot 0 but not necessarily the second minimum.
 */
class CriticalPaths {
  value0 = '';
  count0 = Number.MAX_SAFE_INTEGER;
  value1 = '';
  count1 = Number.MAX_SAFE_INTEGER;

  update(value: string, count: number): void {
    if (value === this.value0 || value === this.value1) {
      if (value === this.value0) this.count0 = count;
      else this.count1 = count;
      if (this.count0 > this.count1) this.swap();
    } else if (count < this.count0) {
      this.value1 = this.value0;
      this.count1 = this.count0;
      this.value0 = value;
      this.count0 = count;
    } else if (count < this.count1) {
      this.value1 = value;
      this.count1 = count;
    }
  }

  private swap(): void {
    const value = this.value0;
    const count = this.count0;
    this.value0 = this.value1;
    this.count0 = this.count1;
    this.value1 = value;
    this.count1 = count;
  }

  copy(): CriticalPaths {
    const copy = new CriticalPaths();
    copy.value0 = this.value0;
    copy.count0 = this.count0;
    copy.value1 = this.value1;
    copy.count1 = this.count1;
    return copy;
  }
}

/**
 * What PreFilter computes for Filter; cloned for preemption's what-ifs. The count maps may be shared with
 * the plugin's cross-cycle cache: they are copied before the first AddPod/RemovePod (and by clone), so the
 * state never changes the cache. A state is only valid during its own cycle (as every CycleState).
 */
class PreFilterState implements CloneableStateData {
  /** Built on the first AddPod/RemovePod: until then the minima computed in PreFilter stand. */
  private criticalPaths: CriticalPaths[] | undefined;

  constructor(
    readonly constraints: readonly SpreadConstraint[],
    /** Whether the incoming pod matches each constraint's selector (it then counts itself). */
    readonly selfMatches: readonly boolean[],
    /** Per constraint: topology value → matching pods in that domain. Its size is the number of domains. */
    private matchCounts: Map<string, number>[],
    /** Per constraint: the smallest domain count (MAX_SAFE_INTEGER without domains). */
    private readonly minima: readonly number[],
    private owned: boolean,
  ) {}

  count(i: number, value: string): number {
    return this.matchCounts[i].get(value) ?? 0;
  }

  /** Adds `delta` matching pods to domain `value` of constraint `i`. */
  add(i: number, value: string, delta: number): void {
    if (!this.owned) {
      this.matchCounts = this.matchCounts.map((counts) => new Map(counts));
      this.owned = true;
    }
    this.criticalPaths ??= this.matchCounts.map((counts) => {
      const paths = new CriticalPaths();
      for (const [domain, count] of counts) paths.update(domain, count);
      return paths;
    });
    const count = (this.matchCounts[i].get(value) ?? 0) + delta;
    this.matchCounts[i].set(value, count);
    this.criticalPaths[i].update(value, count);
  }

  /** The global minimum for constraint `i`, 0 when fewer than minDomains domains exist. */
  minMatchCount(i: number): number {
    if (this.matchCounts[i].size < this.constraints[i].minDomains) return 0;
    return this.criticalPaths === undefined ? this.minima[i] : this.criticalPaths[i].count0;
  }

  clone(): this {
    const copy = new PreFilterState(
      this.constraints,
      this.selfMatches,
      this.matchCounts.map((counts) => new Map(counts)),
      this.minima,
      true,
    );
    copy.criticalPaths = this.criticalPaths?.map((paths) => paths.copy());
    return copy as this;
  }
}

/** What PreScore computes for Score and NormalizeScore. */
interface PreScoreState {
  readonly constraints: readonly SpreadConstraint[];
  readonly namespace: string;
  /** Nodes lacking some topology key: scored 0. */
  readonly ignoredNodes: ReadonlySet<string>;
  /** Per constraint: topology value → matching pods (empty for hostname, counted per node in Score). */
  readonly valueCounts: readonly Map<string, number>[];
  /** Per constraint: log(domains + 2), so counts in small topologies are not watered down by big ones. */
  readonly normalizingWeights: readonly number[];
}

const preFilterStateKey = new StateKey<PreFilterState>(`PreFilter${podTopologySpreadName}`);
const preScoreStateKey = new StateKey<PreScoreState>(`PreScore${podTopologySpreadName}`);

function isTerminating(pod: Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

/** Pods of `pods` in `namespace`, not terminating, whose labels `selector` matches. */
function countMatchingPods(
  pods: readonly PodInfo[],
  selector: LabelSelectorMatcher,
  namespace: string,
): number {
  let count = 0;
  for (const { pod } of pods) {
    const metadata = pod.metadata;
    if (metadata === undefined || (metadata.namespace ?? 'default') !== namespace || isTerminating(pod))
      continue;
    if (selector.matches(metadata.labels)) count++;
  }
  return count;
}

/** True when `labels` has every constraint's topology key. */
function hasAllTopologyKeys(
  labels: Readonly<Record<string, string>> | undefined,
  constraints: readonly SpreadConstraint[],
): boolean {
  if (labels === undefined) return constraints.length === 0;
  for (const c of constraints) if (!Object.hasOwn(labels, c.topologyKey)) return false;
  return true;
}

const compiledSelectorLimit = 4096;

/**
 * What the domain counts of a pod's hard constraints depend on: its namespace, each constraint's topology
 * key, selector and inclusion policies, and (only under an Honor policy) its node affinity or tolerations.
 * Pods with equal keys share counts across cycles.
 */
function hardCountsKey(pod: Pod, namespace: string, constraints: readonly SpreadConstraint[]): string {
  let key = namespace;
  let honorAffinity = false;
  let honorTaints = false;
  for (const c of constraints) {
    key += `\u0000${c.topologyKey}\u0001${c.selector.empty ? '*' : c.selector.requirements.length === 0 ? '-' : c.selector.toString()}\u0001${c.nodeAffinityPolicy}${c.nodeTaintsPolicy}`;
    honorAffinity ||= c.nodeAffinityPolicy === 'Honor';
    honorTaints ||= c.nodeTaintsPolicy === 'Honor';
  }
  if (honorAffinity) {
    const spec = pod.spec;
    const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (spec?.nodeSelector !== undefined || required !== undefined) {
      key += `\u0000${JSON.stringify([spec?.nodeSelector ?? null, required ?? null])}`;
    }
  }
  if (honorTaints && pod.spec?.tolerations !== undefined)
    key += `\u0000${JSON.stringify(pod.spec.tolerations)}`;
  return key;
}

function podNamespace(pod: Pod): string {
  return pod.metadata?.namespace ?? 'default';
}

function validateArgs(args: unknown): PodTopologySpreadArgs {
  if (args === undefined || args === null) return {};
  const causes: StatusCause[] = [];
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw errors.invalid('PodTopologySpreadArgs', podTopologySpreadName, [
      { reason: 'FieldValueTypeInvalid', message: 'must be an object', field: 'args' },
    ]);
  }
  const { defaultConstraints, defaultingType } = args as PodTopologySpreadArgs;
  if (defaultingType !== undefined && defaultingType !== 'System' && defaultingType !== 'List') {
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: "${String(defaultingType)}": supported values: "List", "System"`,
      field: 'defaultingType',
    });
  }
  if (defaultConstraints !== undefined && !Array.isArray(defaultConstraints)) {
    causes.push({ reason: 'FieldValueTypeInvalid', message: 'must be a list', field: 'defaultConstraints' });
  } else if (defaultConstraints !== undefined) {
    if ((defaultingType ?? 'System') === 'System' && defaultConstraints.length > 0) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: 'when .defaultingType is "System"',
        field: 'defaultConstraints',
      });
    }
    const seen = new Set<string>();
    defaultConstraints.forEach((c, i) => {
      const field = `defaultConstraints[${i}]`;
      if (typeof c !== 'object' || c === null) {
        causes.push({ reason: 'FieldValueTypeInvalid', message: 'must be an object', field });
        return;
      }
      if (!Number.isInteger(c.maxSkew) || c.maxSkew <= 0) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: 'must be greater than zero',
          field: `${field}.maxSkew`,
        });
      }
      if (typeof c.topologyKey !== 'string' || c.topologyKey === '') {
        causes.push({
          reason: 'FieldValueRequired',
          message: 'can not be empty',
          field: `${field}.topologyKey`,
        });
      }
      if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') {
        causes.push({
          reason: 'FieldValueNotSupported',
          message: `Unsupported value: "${String(c.whenUnsatisfiable)}": supported values: "DoNotSchedule", "ScheduleAnyway"`,
          field: `${field}.whenUnsatisfiable`,
        });
      }
      if (c.labelSelector !== undefined && c.labelSelector !== null) {
        causes.push({
          reason: 'FieldValueForbidden',
          message: 'constraint must not define a selector, as they deduced for each pod',
          field: `${field}.labelSelector`,
        });
      }
      const pair = `${c.topologyKey}\u0000${c.whenUnsatisfiable}`;
      if (seen.has(pair)) {
        causes.push({
          reason: 'FieldValueDuplicate',
          message: `Duplicate value: {${c.topologyKey}, ${c.whenUnsatisfiable}}`,
          field: `${field}`,
        });
      }
      seen.add(pair);
    });
  }
  if (causes.length > 0) throw errors.invalid('PodTopologySpreadArgs', podTopologySpreadName, causes);
  return { defaultConstraints, defaultingType };
}

/**
 * The PodTopologySpread plugin. See the module documentation; behaviour and messages follow upstream.
 * @category Scheduler plugins
 */
export class PodTopologySpread
  implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, PreFilterExtensions, ScoreExtensions
{
  readonly name = podTopologySpreadName;
  private readonly defaultConstraints: readonly TopologySpreadConstraint[];
  /** True with the system defaults: nodes then need not carry every topology key to be scored. */
  private readonly systemDefaulted: boolean;
  /** Compiled selectors by their JSON, so a workload's pods share one matcher. */
  private readonly compiledSelectors = new Map<string, LabelSelectorMatcher>();
  private readonly readers = new Map<string, CacheReader<KubeObject> | undefined>();
  /** Hard-constraint domain counts kept across cycles, recounting only changed nodes. */
  private readonly spreadCounts = new SpreadCountCache();

  constructor(
    private readonly handle: SchedulingFrameworkHandle,
    args: PodTopologySpreadArgs = {},
  ) {
    this.systemDefaulted = (args.defaultingType ?? 'System') === 'System';
    this.defaultConstraints = this.systemDefaulted
      ? systemDefaultTopologySpreadConstraints
      : (args.defaultConstraints ?? []);
    // Ask for the caches now, so a scheduler that starts its informers after building its plugins has
    // them synced before the first pod. ReplicationControllers are looked up only when a pod names one:
    // a control plane that does not serve them would otherwise keep failing to list them.
    if (this.defaultConstraints.length > 0) {
      for (const kind of ['services', 'replicasets.apps', 'statefulsets.apps']) this.reader(kind);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Constraints
  // ---------------------------------------------------------------------------------------------

  private compile(selector: LabelSelector | undefined): LabelSelectorMatcher {
    const key = selector === undefined ? 'null' : JSON.stringify(selector);
    let matcher = this.compiledSelectors.get(key);
    if (matcher === undefined) {
      matcher = labelSelectorFromObject(selector);
      // A crude bound: workloads come and go, and recompiling after a reset is cheap.
      if (this.compiledSelectors.size >= compiledSelectorLimit) this.compiledSelectors.clear();
      this.compiledSelectors.set(key, matcher);
    }
    return matcher;
  }

  /** The pod's constraints with `whenUnsatisfiable === action`, compiled. Throws on an invalid selector. */
  private compileConstraints(
    constraints: readonly TopologySpreadConstraint[],
    podLabels: Readonly<Record<string, string>> | undefined,
    action: 'DoNotSchedule' | 'ScheduleAnyway',
    defaultSelector?: LabelSelectorMatcher,
  ): SpreadConstraint[] {
    const result: SpreadConstraint[] = [];
    for (const c of constraints) {
      if (c.whenUnsatisfiable !== action) continue;
      let selector = defaultSelector;
      if (selector === undefined) {
        let labelSelector = c.labelSelector;
        // matchLabelKeys: the pod's own values of these keys narrow the selector (e.g. pod-template-hash).
        if (c.matchLabelKeys && c.matchLabelKeys.length > 0 && podLabels) {
          const extra: LabelSelectorRequirement[] = [];
          for (const key of c.matchLabelKeys) {
            if (Object.hasOwn(podLabels, key)) extra.push({ key, operator: 'In', values: [podLabels[key]] });
          }
          if (extra.length > 0) {
            labelSelector = {
              matchLabels: labelSelector?.matchLabels,
              matchExpressions: [...(labelSelector?.matchExpressions ?? []), ...extra],
            };
          }
        }
        selector = this.compile(labelSelector);
      }
      result.push({
        maxSkew: c.maxSkew,
        topologyKey: c.topologyKey,
        selector,
        minDomains: c.minDomains ?? 1,
        nodeAffinityPolicy: (c.nodeAffinityPolicy as NodeInclusionPolicy | undefined) ?? 'Honor',
        nodeTaintsPolicy: (c.nodeTaintsPolicy as NodeInclusionPolicy | undefined) ?? 'Ignore',
      });
    }
    return result;
  }

  private constraintsFor(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
    const own = pod.spec?.topologySpreadConstraints;
    if (own && own.length > 0) return this.compileConstraints(own, pod.metadata?.labels, action);
    if (!this.defaultConstraints.some((c) => c.whenUnsatisfiable === action)) return [];
    const selector = this.defaultSelector(pod);
    if (selector === undefined) return [];
    return this.compileConstraints(this.defaultConstraints, pod.metadata?.labels, action, selector);
  }

  private reader(kind: string): CacheReader<KubeObject> | undefined {
    if (this.readers.has(kind)) return this.readers.get(kind);
    let reader: CacheReader<KubeObject> | undefined;
    try {
      reader = this.handle.objectListers?.forKind(kind);
    } catch {
      // A kind this control plane does not serve selects no pods.
      reader = undefined;
    }
    this.readers.set(kind, reader);
    return reader;
  }

  /**
   * The selector of the workloads that own or select the pod: the union of the selectors of the
   * Services selecting it and of its controlling ReplicationController, ReplicaSet or StatefulSet.
   * `undefined` when nothing selects it (default constraints then do not apply).
   */
  private defaultSelector(pod: Pod): LabelSelectorMatcher | undefined {
    if (this.handle.objectListers === undefined) return undefined;
    const namespace = podNamespace(pod);
    const labels = pod.metadata?.labels ?? {};
    const matchLabels: Record<string, string> = {};
    const matchExpressions: LabelSelectorRequirement[] = [];
    for (const service of this.reader('services')?.list(namespace) ?? []) {
      const selector = (service as { spec?: { selector?: Record<string, string> } }).spec?.selector;
      if (selector === undefined || selector === null) continue;
      let selects = true;
      for (const [key, value] of Object.entries(selector)) {
        if (labels[key] !== value) {
          selects = false;
          break;
        }
      }
      if (selects) Object.assign(matchLabels, selector);
    }
    const owner = pod.metadata?.ownerReferences?.find((reference) => reference.controller === true);
    if (owner !== undefined) {
      const key = `${namespace}/${owner.name}`;
      if (owner.apiVersion === 'v1' && owner.kind === 'ReplicationController') {
        const rc = this.reader('replicationcontrollers')?.get(key) as
          | { spec?: { selector?: Record<string, string> } }
          | undefined;
        Object.assign(matchLabels, rc?.spec?.selector ?? {});
      } else if (
        owner.apiVersion === 'apps/v1' &&
        (owner.kind === 'ReplicaSet' || owner.kind === 'StatefulSet')
      ) {
        const workload = this.reader(
          owner.kind === 'ReplicaSet' ? 'replicasets.apps' : 'statefulsets.apps',
        )?.get(key) as { spec?: { selector?: LabelSelector } } | undefined;
        const selector = workload?.spec?.selector;
        if (selector) {
          for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
            matchExpressions.push({ key: k, operator: 'In', values: [v] });
          }
          matchExpressions.push(...(selector.matchExpressions ?? []));
        }
      }
    }
    if (Object.keys(matchLabels).length === 0 && matchExpressions.length === 0) return undefined;
    try {
      return this.compile({ matchLabels, matchExpressions });
    } catch {
      // A workload with an invalid selector does not select the pod.
      return undefined;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // PreFilter / Filter
  // ---------------------------------------------------------------------------------------------

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PreFilterOutcome {
    let constraints: SpreadConstraint[];
    try {
      constraints = this.constraintsFor(pod, 'DoNotSchedule');
    } catch (error) {
      return {
        status: SchedulingStatus.error(
          `obtaining pod's hard topology spread constraints: ${messageOf(error)}`,
        ),
      };
    }
    const podLabels = pod.metadata?.labels;
    const selfMatches = constraints.map((c) => c.selector.matches(podLabels));
    if (constraints.length === 0) {
      state.write(preFilterStateKey, new PreFilterState(constraints, selfMatches, [], [], true));
      return { status: SchedulingStatus.skip() };
    }

    const namespace = podNamespace(pod);
    const requiredNodeAffinity = RequiredNodeAffinity.forPod(pod);
    const tolerations = pod.spec?.tolerations;
    const aggregate = this.spreadCounts.get(hardCountsKey(pod, namespace, constraints), constraints.length);
    aggregate.refresh(nodes, (nodeInfo, values, counts) => {
      const node = nodeInfo.node;
      const labels = node.metadata?.labels;
      const eligible = hasAllTopologyKeys(labels, constraints);
      let affinityMatch: boolean | undefined;
      let taintsTolerated: boolean | undefined;
      for (let i = 0; i < constraints.length; i++) {
        values[i] = undefined;
        counts[i] = 0;
        if (!eligible) continue;
        const c = constraints[i];
        if (c.nodeAffinityPolicy === 'Honor') {
          affinityMatch ??= requiredNodeAffinity.matches(node);
          if (!affinityMatch) continue;
        }
        if (c.nodeTaintsPolicy === 'Honor') {
          taintsTolerated ??= findUntoleratedTaint(node.spec?.taints, tolerations) === undefined;
          if (!taintsTolerated) continue;
        }
        values[i] = (labels as Record<string, string>)[c.topologyKey];
        counts[i] = countMatchingPods(nodeInfo.pods, c.selector, namespace);
      }
    });
    const minima = constraints.map((_, i) => aggregate.minimum(i));
    state.write(
      preFilterStateKey,
      new PreFilterState(constraints, selfMatches, aggregate.counts, minima, false),
    );
    return { status: SchedulingStatus.success() };
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): SchedulingStatus {
    return this.updateWithPod(state, podToSchedule, podInfoToAdd.pod, nodeInfo, 1);
  }

  removePod(
    state: CycleState,
    podToSchedule: Pod,
    podInfoToRemove: PodInfo,
    nodeInfo: NodeInfo,
  ): SchedulingStatus {
    return this.updateWithPod(state, podToSchedule, podInfoToRemove.pod, nodeInfo, -1);
  }

  private updateWithPod(
    state: CycleState,
    preemptor: Pod,
    updated: Pod,
    nodeInfo: NodeInfo,
    delta: number,
  ): SchedulingStatus {
    const s = state.read(preFilterStateKey);
    if (s === undefined) return missingState(preFilterStateKey);
    if (podNamespace(updated) !== podNamespace(preemptor)) return SchedulingStatus.success();
    const node = nodeInfo.node;
    const labels = node.metadata?.labels;
    if (!hasAllTopologyKeys(labels, s.constraints) || labels === undefined) return SchedulingStatus.success();
    let requiredNodeAffinity: RequiredNodeAffinity | undefined;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      if (!c.selector.matches(updated.metadata?.labels)) continue;
      if (c.nodeAffinityPolicy === 'Honor') {
        requiredNodeAffinity ??= RequiredNodeAffinity.forPod(preemptor);
        if (!requiredNodeAffinity.matches(node)) continue;
      }
      if (
        c.nodeTaintsPolicy === 'Honor' &&
        findUntoleratedTaint(node.spec?.taints, preemptor.spec?.tolerations) !== undefined
      )
        continue;
      s.add(i, labels[c.topologyKey], delta);
    }
    return SchedulingStatus.success();
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    const s = state.read(preFilterStateKey);
    if (s === undefined) return missingState(preFilterStateKey);
    const constraints = s.constraints;
    if (constraints.length === 0) return SchedulingStatus.success();
    const labels = nodeInfo.node.metadata?.labels;
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i];
      if (labels === undefined || !Object.hasOwn(labels, c.topologyKey)) {
        return SchedulingStatus.unschedulableAndUnresolvable(errReasonNodeLabelNotMatch);
      }
      const value = labels[c.topologyKey];
      // existing matches + the pod itself (when it matches) - global minimum must not exceed maxSkew.
      const skew = s.count(i, value) + (s.selfMatches[i] ? 1 : 0) - s.minMatchCount(i);
      if (skew > c.maxSkew) return SchedulingStatus.unschedulable(errReasonConstraintsNotMatch);
    }
    return SchedulingStatus.success();
  }

  // ---------------------------------------------------------------------------------------------
  // PreScore / Score / NormalizeScore
  // ---------------------------------------------------------------------------------------------

  preScore(state: CycleState, pod: Pod, filteredNodes: readonly NodeInfo[]): SchedulingStatus {
    const allNodes = this.handle.nodeInfos().list();
    if (allNodes.length === 0) return SchedulingStatus.skip();
    let constraints: SpreadConstraint[];
    try {
      constraints = this.constraintsFor(pod, 'ScheduleAnyway');
    } catch (error) {
      return SchedulingStatus.error(`obtaining pod's soft topology spread constraints: ${messageOf(error)}`);
    }
    if (constraints.length === 0) return SchedulingStatus.skip();

    // Only the pod's own constraints (or configured defaults) require every topology key on a node, so
    // that with the system defaults a node without a zone label still gets hostname spreading.
    const requireAllTopologies =
      (pod.spec?.topologySpreadConstraints?.length ?? 0) > 0 || !this.systemDefaulted;
    const ignoredNodes = new Set<string>();
    const valueCounts = constraints.map(() => new Map<string, number>());
    for (const nodeInfo of filteredNodes) {
      const labels = nodeInfo.node.metadata?.labels;
      if (requireAllTopologies && !hasAllTopologyKeys(labels, constraints)) {
        ignoredNodes.add(nodeInfo.name);
        continue;
      }
      for (let i = 0; i < constraints.length; i++) {
        const key = constraints[i].topologyKey;
        // Hostname counts are per node: Score counts them directly.
        if (key === labelHostname) continue;
        const value = labels?.[key] ?? '';
        if (!valueCounts[i].has(value)) valueCounts[i].set(value, 0);
      }
    }
    const normalizingWeights = constraints.map((c, i) =>
      Math.log(
        (c.topologyKey === labelHostname ? filteredNodes.length - ignoredNodes.size : valueCounts[i].size) +
          2,
      ),
    );

    const namespace = podNamespace(pod);
    const requiredNodeAffinity = RequiredNodeAffinity.forPod(pod);
    const tolerations = pod.spec?.tolerations;
    const needsCounts = constraints.some((c) => c.topologyKey !== labelHostname);
    if (needsCounts) {
      for (const nodeInfo of allNodes) {
        const node = nodeInfo.node;
        const labels = node.metadata?.labels;
        if (requireAllTopologies && !hasAllTopologyKeys(labels, constraints)) continue;
        let affinityMatch: boolean | undefined;
        let taintsTolerated: boolean | undefined;
        for (let i = 0; i < constraints.length; i++) {
          const c = constraints[i];
          if (c.topologyKey === labelHostname) continue;
          if (c.nodeAffinityPolicy === 'Honor') {
            affinityMatch ??= requiredNodeAffinity.matches(node);
            if (!affinityMatch) continue;
          }
          if (c.nodeTaintsPolicy === 'Honor') {
            taintsTolerated ??= findUntoleratedTaint(node.spec?.taints, tolerations) === undefined;
            if (!taintsTolerated) continue;
          }
          const value = labels?.[c.topologyKey] ?? '';
          const current = valueCounts[i].get(value);
          // Domains without any candidate node do not matter for scoring.
          if (current === undefined) continue;
          valueCounts[i].set(value, current + countMatchingPods(nodeInfo.pods, c.selector, namespace));
        }
      }
    }
    state.write(preScoreStateKey, { constraints, namespace, ignoredNodes, valueCounts, normalizingWeights });
    return SchedulingStatus.success();
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number | SchedulingStatus {
    const s = state.read(preScoreStateKey);
    if (s === undefined) return missingState(preScoreStateKey);
    if (s.ignoredNodes.has(nodeInfo.name)) return 0;
    const labels = nodeInfo.node.metadata?.labels;
    if (labels === undefined) return 0;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      if (!Object.hasOwn(labels, c.topologyKey)) continue;
      const count =
        c.topologyKey === labelHostname
          ? countMatchingPods(nodeInfo.pods, c.selector, s.namespace)
          : (s.valueCounts[i].get(labels[c.topologyKey]) ?? 0);
      // maxSkew - 1 waters down differences between domains: the larger the allowed skew, the flatter.
      score += count * s.normalizingWeights[i] + (c.maxSkew - 1);
    }
    return Math.round(score);
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): SchedulingStatus {
    const s = state.read(preScoreStateKey);
    if (s === undefined) return missingState(preScoreStateKey);
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (const entry of scores) {
      if (s.ignoredNodes.has(entry.name)) continue;
      if (entry.score < min) min = entry.score;
      if (entry.score > max) max = entry.score;
    }
    // Fewer matching pods is better: the node with the minimum gets MaxNodeScore.
    for (const entry of scores) {
      if (s.ignoredNodes.has(entry.name)) entry.score = 0;
      else if (max === 0) entry.score = MaxNodeScore;
      else entry.score = Math.trunc((MaxNodeScore * (max + min - entry.score)) / max);
    }
    return SchedulingStatus.success();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function missingState(key: StateKey<unknown>): SchedulingStatus {
  return SchedulingStatus.error(`reading "${key.name}" from cycleState: not found`);
}

/**
 * The registration of {@link PodTopologySpread}: its factory validates {@link PodTopologySpreadArgs} and
 * throws an `Invalid` StatusError naming the bad field.
 * @category Scheduler plugins
 */
export const podTopologySpreadRegistration: SchedulerPlugin<PodTopologySpreadArgs> = {
  name: podTopologySpreadName,
  factory(args: PodTopologySpreadArgs | undefined, handle: SchedulingFrameworkHandle): PodTopologySpread {
    return new PodTopologySpread(handle, validateArgs(args));
  },
};
