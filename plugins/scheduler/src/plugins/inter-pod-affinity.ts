// SPDX-License-Identifier: Apache-2.0
/**
 * InterPodAffinity: places pods near (affinity) or away from (anti-affinity) other pods in the same
 * topology domain, as the upstream plugin of the same name. PreFilter counts, per topology pair
 * (`zone=a`, `kubernetes.io/hostname=node-1`), the existing pods whose required anti-affinity selects the
 * incoming pod and the existing pods selected by the incoming pod's required terms; Filter is then a few
 * map lookups per node. PreScore sums the weights of preferred terms (the incoming pod's and the existing
 * pods') per topology pair for Score. Both keep their sums across cycles and recount only the nodes that
 * changed (see `inter-pod-affinity-counts.ts`).
 * @module
 */
import {
  type CacheReader,
  type CloneableStateData,
  type CycleState,
  errors,
  type FilterPlugin,
  type KubeObject,
  MaxNodeScore,
  type NodeInfo,
  type NodeScore,
  nothingLabelSelector,
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
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import {
  PairCountCache,
  preFilterContributions,
  preFilterCountsKey,
  preScoreContributions,
  preScoreCountsKey,
  TopologyPairCounts,
} from './inter-pod-affinity-counts.js';
import {
  type AffinityTerm,
  needsNamespaceResolution,
  parsedAffinityOf,
  podMatchesAllTerms,
  termMatches,
} from './inter-pod-affinity-terms.js';

/** The plugin's name in profiles. @category Scheduler plugins */
export const interPodAffinityName = 'InterPodAffinity';

/** Filter reason: an existing pod's required anti-affinity selects the incoming pod in this domain. @category Scheduler plugins */
export const errReasonExistingAntiAffinityRulesNotMatch =
  "node(s) didn't satisfy existing pods anti-affinity rules";
/** Filter reason: the incoming pod's required affinity is not met on this node. @category Scheduler plugins */
export const errReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
/** Filter reason: the incoming pod's required anti-affinity is violated on this node. @category Scheduler plugins */
export const errReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

/**
 * InterPodAffinity's arguments (upstream `InterPodAffinityArgs`).
 * @category Scheduler plugins
 */
export interface InterPodAffinityArgs {
  /**
   * Score weight given, for each existing pod, to its required affinity terms that select the incoming
   * pod (symmetry of affinity). 0 to 100; default 1.
   */
  hardPodAffinityWeight?: number;
  /** Skip scoring when the incoming pod has no preferred terms, ignoring existing pods' preferences. */
  ignorePreferredTermsOfExistingPods?: boolean;
}

/**
 * What PreFilter computes for Filter; cloned for preemption's what-ifs. The three counts start as the
 * cross-cycle aggregate's own maps (read-only here) and are copied on the first AddPod/RemovePod.
 */
class PreFilterState implements CloneableStateData {
  constructor(
    readonly pod: Pod,
    /** The incoming pod's required terms, namespaceSelectors resolved into namespaces. */
    readonly requiredAffinityTerms: readonly AffinityTerm[],
    readonly requiredAntiAffinityTerms: readonly AffinityTerm[],
    /** Labels of the incoming pod's namespace (existing pods' namespaceSelectors match against them). */
    readonly namespaceLabels: Readonly<Record<string, string>> | undefined,
    /** The incoming pod matches all of its own required affinity terms (first pod of a group). */
    readonly matchesOwnAffinity: boolean,
    public existingAntiAffinityCounts: TopologyPairCounts,
    public affinityCounts: TopologyPairCounts,
    public antiAffinityCounts: TopologyPairCounts,
    private owned: boolean,
  ) {}

  clone(): this {
    return new PreFilterState(
      this.pod,
      this.requiredAffinityTerms,
      this.requiredAntiAffinityTerms,
      this.namespaceLabels,
      this.matchesOwnAffinity,
      this.existingAntiAffinityCounts.clone(),
      this.affinityCounts.clone(),
      this.antiAffinityCounts.clone(),
      true,
    ) as this;
  }

  /** Adds (multiplier 1) or removes (-1) one existing pod's contributions. */
  updateWithPod(updated: Pod, node: Node, multiplier: number): void {
    const labels = node.metadata?.labels;
    if (labels === undefined) return;
    if (!this.owned) {
      // The counts belong to the cross-cycle aggregate: what-ifs must not change them.
      this.existingAntiAffinityCounts = this.existingAntiAffinityCounts.clone();
      this.affinityCounts = this.affinityCounts.clone();
      this.antiAffinityCounts = this.antiAffinityCounts.clone();
      this.owned = true;
    }
    for (const term of parsedAffinityOf(updated).requiredAntiAffinityTerms) {
      if (Object.hasOwn(labels, term.topologyKey) && termMatches(term, this.pod, this.namespaceLabels)) {
        this.existingAntiAffinityCounts.add(term.topologyKey, labels[term.topologyKey], multiplier);
      }
    }
    addAffinityMatches(this.affinityCounts, this.requiredAffinityTerms, updated, labels, multiplier);
    addAntiAffinityMatches(
      this.antiAffinityCounts,
      this.requiredAntiAffinityTerms,
      updated,
      labels,
      multiplier,
    );
  }
}

/** When `pod` matches every term, counts it in each term's domain on the node. */
function addAffinityMatches(
  counts: TopologyPairCounts,
  terms: readonly AffinityTerm[],
  pod: Pod,
  labels: Readonly<Record<string, string>>,
  multiplier: number,
): void {
  if (!podMatchesAllTerms(terms, pod)) return;
  for (const term of terms) {
    if (Object.hasOwn(labels, term.topologyKey))
      counts.add(term.topologyKey, labels[term.topologyKey], multiplier);
  }
}

/** Counts `pod` in the domain of each term that selects it. */
function addAntiAffinityMatches(
  counts: TopologyPairCounts,
  terms: readonly AffinityTerm[],
  pod: Pod,
  labels: Readonly<Record<string, string>>,
  multiplier: number,
): void {
  for (const term of terms) {
    if (Object.hasOwn(labels, term.topologyKey) && termMatches(term, pod, undefined)) {
      counts.add(term.topologyKey, labels[term.topologyKey], multiplier);
    }
  }
}

// Shared, never changed: PreFilterState copies counts before its first change.
const noCounts = new TopologyPairCounts();

/** What PreScore computes for Score: topology key → value → summed weight. */
interface PreScoreState {
  readonly topologyScore: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

const preFilterStateKey = new StateKey<PreFilterState>(`PreFilter${interPodAffinityName}`);
const preScoreStateKey = new StateKey<PreScoreState>(`PreScore${interPodAffinityName}`);

function validateArgs(args: unknown): Required<InterPodAffinityArgs> {
  const result = { hardPodAffinityWeight: 1, ignorePreferredTermsOfExistingPods: false };
  if (args === undefined || args === null) return result;
  if (typeof args !== 'object' || Array.isArray(args)) {
    throw errors.invalid('InterPodAffinityArgs', interPodAffinityName, [
      { reason: 'FieldValueTypeInvalid', message: 'must be an object', field: 'args' },
    ]);
  }
  const { hardPodAffinityWeight, ignorePreferredTermsOfExistingPods } = args as InterPodAffinityArgs;
  const causes: StatusCause[] = [];
  if (hardPodAffinityWeight !== undefined) {
    if (
      !Number.isInteger(hardPodAffinityWeight) ||
      hardPodAffinityWeight < 0 ||
      hardPodAffinityWeight > 100
    ) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(hardPodAffinityWeight)}: not in valid range [0-100]`,
        field: 'hardPodAffinityWeight',
      });
    } else {
      result.hardPodAffinityWeight = hardPodAffinityWeight;
    }
  }
  if (ignorePreferredTermsOfExistingPods !== undefined) {
    if (typeof ignorePreferredTermsOfExistingPods !== 'boolean') {
      causes.push({
        reason: 'FieldValueTypeInvalid',
        message: 'must be a boolean',
        field: 'ignorePreferredTermsOfExistingPods',
      });
    } else {
      result.ignorePreferredTermsOfExistingPods = ignorePreferredTermsOfExistingPods;
    }
  }
  if (causes.length > 0) throw errors.invalid('InterPodAffinityArgs', interPodAffinityName, causes);
  return result;
}

/**
 * The InterPodAffinity plugin. See the module documentation; behaviour and messages follow upstream.
 * @category Scheduler plugins
 */
export class InterPodAffinity
  implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, PreFilterExtensions, ScoreExtensions
{
  readonly name = interPodAffinityName;
  private namespaces: CacheReader<KubeObject> | undefined | null = null;
  /** PreScore's summed weights across cycles, by kind of incoming pod (see {@link preScoreCountsKey}). */
  private readonly preScoreCounts = new PairCountCache();
  /** PreFilter's counts across cycles, by kind of incoming pod (see {@link preFilterCountsKey}). */
  private readonly preFilterCounts = new PairCountCache();

  constructor(
    private readonly handle: SchedulingFrameworkHandle,
    private readonly args: Required<InterPodAffinityArgs>,
  ) {
    // Ask for the Namespace cache now, so it is synced before the first pod.
    this.namespaceReader();
  }

  private namespaceReader(): CacheReader<KubeObject> | undefined {
    if (this.namespaces === null) {
      try {
        this.namespaces = this.handle.objectListers?.forKind('namespaces');
      } catch {
        // A control plane without a Namespace cache: namespaceSelectors then select no namespace.
        this.namespaces = undefined;
      }
    }
    return this.namespaces ?? undefined;
  }

  private namespaceLabelsOf(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.namespaceReader()?.get(namespace)?.metadata?.labels;
  }

  /**
   * The incoming pod's terms with non-trivial namespaceSelectors turned into namespace names, so that
   * matching existing pods needs no namespace lookups.
   */
  private resolveNamespaces<T extends AffinityTerm>(terms: readonly T[]): readonly T[] {
    if (!terms.some((term) => needsNamespaceResolution(term.namespaceSelector))) return terms;
    const all = this.namespaceReader()?.list() ?? [];
    return terms.map((term) => {
      if (!needsNamespaceResolution(term.namespaceSelector)) return term;
      const namespaces = new Set(term.namespaces);
      for (const namespace of all) {
        if (term.namespaceSelector.matches(namespace.metadata?.labels))
          namespaces.add(namespace.metadata?.name ?? '');
      }
      return { ...term, namespaces, namespaceSelector: nothingLabelSelector() };
    });
  }

  // ---------------------------------------------------------------------------------------------
  // PreFilter / Filter
  // ---------------------------------------------------------------------------------------------

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PreFilterOutcome {
    const parsed = parsedAffinityOf(pod);
    if (parsed.parseError !== undefined) {
      return { status: SchedulingStatus.error(`parsing pod: ${parsed.parseError}`) };
    }
    const lister = this.handle.nodeInfos();
    const namespaceLabels = this.namespaceLabelsOf(pod.metadata?.namespace ?? 'default');
    const affinityTerms = this.resolveNamespaces(parsed.requiredAffinityTerms);
    const antiAffinityTerms = this.resolveNamespaces(parsed.requiredAntiAffinityTerms);

    const hasTerms = affinityTerms.length > 0 || antiAffinityTerms.length > 0;
    // Without terms of its own, only nodes holding pods with required anti-affinity can count.
    const walked = hasTerms ? nodes : (lister.havePodsWithRequiredAntiAffinityList?.() ?? nodes);
    let existingAntiAffinityCounts = noCounts;
    let affinityCounts = noCounts;
    let antiAffinityCounts = noCounts;
    if (walked.length > 0) {
      const aggregate = this.preFilterCounts.get(
        preFilterCountsKey(pod, namespaceLabels, affinityTerms, antiAffinityTerms),
        3,
      );
      aggregate.refresh(walked, (nodeInfo, out) =>
        preFilterContributions(nodeInfo, pod, namespaceLabels, affinityTerms, antiAffinityTerms, out),
      );
      [existingAntiAffinityCounts, affinityCounts, antiAffinityCounts] = aggregate.counts;
    }

    state.write(
      preFilterStateKey,
      new PreFilterState(
        pod,
        affinityTerms,
        antiAffinityTerms,
        namespaceLabels,
        podMatchesAllTerms(affinityTerms, pod),
        existingAntiAffinityCounts,
        affinityCounts,
        antiAffinityCounts,
        false,
      ),
    );
    if (
      existingAntiAffinityCounts.pairs === 0 &&
      affinityTerms.length === 0 &&
      antiAffinityTerms.length === 0
    ) {
      return { status: SchedulingStatus.skip() };
    }
    return { status: SchedulingStatus.success() };
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  addPod(
    state: CycleState,
    _podToSchedule: Pod,
    podInfoToAdd: PodInfo,
    nodeInfo: NodeInfo,
  ): SchedulingStatus {
    const s = state.read(preFilterStateKey);
    if (s === undefined) return missingState(preFilterStateKey);
    s.updateWithPod(podInfoToAdd.pod, nodeInfo.node, 1);
    return SchedulingStatus.success();
  }

  removePod(
    state: CycleState,
    _podToSchedule: Pod,
    podInfoToRemove: PodInfo,
    nodeInfo: NodeInfo,
  ): SchedulingStatus {
    const s = state.read(preFilterStateKey);
    if (s === undefined) return missingState(preFilterStateKey);
    s.updateWithPod(podInfoToRemove.pod, nodeInfo.node, -1);
    return SchedulingStatus.success();
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    const s = state.read(preFilterStateKey);
    if (s === undefined) return missingState(preFilterStateKey);
    const labels = nodeInfo.node.metadata?.labels;
    if (!satisfiesPodAffinity(s, labels)) {
      return SchedulingStatus.unschedulableAndUnresolvable(errReasonAffinityRulesNotMatch);
    }
    for (const term of s.requiredAntiAffinityTerms) {
      if (
        labels !== undefined &&
        Object.hasOwn(labels, term.topologyKey) &&
        s.antiAffinityCounts.get(term.topologyKey, labels[term.topologyKey]) > 0
      ) {
        return SchedulingStatus.unschedulable(errReasonAntiAffinityRulesNotMatch);
      }
    }
    if (s.existingAntiAffinityCounts.pairs > 0 && s.existingAntiAffinityCounts.anyPositiveOnNode(labels)) {
      return SchedulingStatus.unschedulable(errReasonExistingAntiAffinityRulesNotMatch);
    }
    return SchedulingStatus.success();
  }

  // ---------------------------------------------------------------------------------------------
  // PreScore / Score / NormalizeScore
  // ---------------------------------------------------------------------------------------------

  preScore(state: CycleState, pod: Pod, filteredNodes: readonly NodeInfo[]): SchedulingStatus {
    if (filteredNodes.length === 0) return SchedulingStatus.skip();
    const parsed = parsedAffinityOf(pod);
    if (parsed.parseError !== undefined) return SchedulingStatus.error(`parsing pod: ${parsed.parseError}`);
    const hasConstraints =
      parsed.preferredAffinityTerms.length > 0 || parsed.preferredAntiAffinityTerms.length > 0;
    if (this.args.ignorePreferredTermsOfExistingPods && !hasConstraints) return SchedulingStatus.skip();

    const lister = this.handle.nodeInfos();
    // Unless the incoming pod has preferred terms, only pods with affinity can contribute.
    const nodes = hasConstraints ? lister.list() : (lister.havePodsWithAffinityList?.() ?? lister.list());
    if (nodes.length === 0) return SchedulingStatus.skip();
    const affinityTerms = this.resolveNamespaces(parsed.preferredAffinityTerms);
    const antiAffinityTerms = this.resolveNamespaces(parsed.preferredAntiAffinityTerms);
    const namespaceLabels = this.namespaceLabelsOf(pod.metadata?.namespace ?? 'default');
    const hardWeight = this.args.hardPodAffinityWeight;
    const aggregate = this.preScoreCounts.get(
      preScoreCountsKey(pod, namespaceLabels, affinityTerms, antiAffinityTerms, hasConstraints),
      1,
    );
    aggregate.refresh(nodes, (nodeInfo, out) =>
      preScoreContributions(
        nodeInfo,
        pod,
        namespaceLabels,
        affinityTerms,
        antiAffinityTerms,
        hardWeight,
        hasConstraints,
        out,
      ),
    );
    const [weights] = aggregate.counts;
    if (weights.pairs === 0) return SchedulingStatus.skip();
    // The aggregate's own map: Score and NormalizeScore only read it, within this cycle.
    state.write(preScoreStateKey, { topologyScore: weights.byTopologyKey });
    return SchedulingStatus.success();
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number | SchedulingStatus {
    const s = state.read(preScoreStateKey);
    if (s === undefined) return missingState(preScoreStateKey);
    const labels = nodeInfo.node.metadata?.labels;
    if (labels === undefined) return 0;
    let score = 0;
    for (const [key, values] of s.topologyScore) {
      if (Object.hasOwn(labels, key)) score += values.get(labels[key]) ?? 0;
    }
    return score;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): SchedulingStatus {
    const s = state.read(preScoreStateKey);
    if (s === undefined) return missingState(preScoreStateKey);
    if (s.topologyScore.size === 0) return SchedulingStatus.success();
    let min = Number.MAX_SAFE_INTEGER;
    let max = Number.MIN_SAFE_INTEGER;
    for (const { score } of scores) {
      if (score > max) max = score;
      if (score < min) min = score;
    }
    const spread = max - min;
    for (const entry of scores) {
      entry.score = spread > 0 ? Math.trunc((MaxNodeScore * (entry.score - min)) / spread) : 0;
    }
    return SchedulingStatus.success();
  }
}

/**
 * The node carries every topology key of the pod's required affinity terms and, in each term's domain,
 * some existing pod matches all terms; or no pod anywhere matches and the pod matches its own terms (the
 * first pod of a group that wants to be together must be placeable somewhere).
 */
function satisfiesPodAffinity(
  s: PreFilterState,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  let podsExist = true;
  for (const term of s.requiredAffinityTerms) {
    if (labels === undefined || !Object.hasOwn(labels, term.topologyKey)) return false;
    if (s.affinityCounts.get(term.topologyKey, labels[term.topologyKey]) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  return s.affinityCounts.pairs === 0 && s.matchesOwnAffinity;
}

function missingState(key: StateKey<unknown>): SchedulingStatus {
  return SchedulingStatus.error(`reading "${key.name}" from cycleState: not found`);
}

/**
 * The registration of {@link InterPodAffinity}: its factory validates {@link InterPodAffinityArgs} and
 * throws an `Invalid` StatusError naming the bad field.
 * @category Scheduler plugins
 */
export const interPodAffinityRegistration: SchedulerPlugin<InterPodAffinityArgs> = {
  name: interPodAffinityName,
  factory(args: InterPodAffinityArgs | undefined, handle: SchedulingFrameworkHandle): InterPodAffinity {
    return new InterPodAffinity(handle, validateArgs(args));
  },
};
