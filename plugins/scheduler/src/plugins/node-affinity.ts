// SPDX-License-Identifier: Apache-2.0
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type NodeScore,
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
import type { NodeAffinity as NodeAffinitySpec, Pod } from 'kubernetes-types/core/v1.js';
import { defaultNormalizeScore } from './default-normalize-score.js';
import {
  CompiledNodeSelector,
  CompiledPreferredSchedulingTerms,
  NodeSelectorParseError,
  nodeNameField,
  RequiredNodeAffinity,
} from './node-selector.js';
import { ArgsErrors, argsObject, isPlainObject } from './plugin-args.js';

/** The rejection reason when the pod's node selector or required node affinity does not match. @category Scheduler plugins */
export const nodeAffinityErrorReasonPod = "node(s) didn't match Pod's node affinity/selector";
/** The rejection reason when the profile's `addedAffinity` does not match. @category Scheduler plugins */
export const nodeAffinityErrorReasonEnforced = "node(s) didn't match scheduler-enforced node affinity";
/** PreFilter's reason when every required term names nodes and none could match. @category Scheduler plugins */
export const nodeAffinityErrorReasonConflict = 'pod affinity terms conflict';

/**
 * Arguments of NodeAffinity, as upstream's `NodeAffinityArgs`.
 * @category Scheduler plugins
 */
export interface NodeAffinityArgs {
  /**
   * Node affinity applied to every pod of the profile on top of the pod's own: its required terms must
   * also match, and its preferred terms add to the score.
   */
  addedAffinity?: NodeAffinitySpec;
}

const preFilterStateKey = new StateKey<RequiredNodeAffinity>('PreFilterNodeAffinity');
const preScoreStateKey = new StateKey<CompiledPreferredSchedulingTerms | undefined>('PreScoreNodeAffinity');

function podPreferredTerms(pod: Pod): CompiledPreferredSchedulingTerms | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  if (terms === undefined) return undefined;
  return CompiledPreferredSchedulingTerms.compile(
    terms,
    'spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution',
  );
}

/**
 * PreFilter, Filter, PreScore, Score and NormalizeScore `NodeAffinity`.
 *
 * Filter: the node must match the pod's `spec.nodeSelector` and one of its required node selector terms
 * (In, NotIn, Exists, DoesNotExist, Gt, Lt on labels; In/NotIn on `metadata.name` fields), and the
 * profile's `addedAffinity`. PreFilter narrows the candidate nodes when every required term names nodes by
 * `metadata.name`. Score sums the weights of the matching preferred terms (pod's and added); NormalizeScore
 * scales the best to 100.
 * @category Scheduler plugins
 */
export class NodeAffinity
  implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions
{
  static readonly pluginName = 'NodeAffinity';
  readonly name = NodeAffinity.pluginName;
  private readonly rejectedPod = new SchedulingStatus(
    'UnschedulableAndUnresolvable',
    [nodeAffinityErrorReasonPod],
    NodeAffinity.pluginName,
  );
  private readonly rejectedEnforced = new SchedulingStatus(
    'UnschedulableAndUnresolvable',
    [nodeAffinityErrorReasonEnforced],
    NodeAffinity.pluginName,
  );

  /**
   * @param addedNodeSelector required terms from `addedAffinity`, compiled.
   * @param addedPreferredTerms preferred terms from `addedAffinity`, compiled.
   */
  constructor(
    private readonly addedNodeSelector?: CompiledNodeSelector,
    private readonly addedPreferredTerms?: CompiledPreferredSchedulingTerms,
  ) {}

  preFilter(state: CycleState, pod: Pod): PreFilterOutcome {
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (
      required === undefined &&
      this.addedNodeSelector === undefined &&
      pod.spec?.nodeSelector === undefined
    ) {
      return { status: SchedulingStatus.skip() };
    }
    state.write(preFilterStateKey, RequiredNodeAffinity.forPod(pod));
    const terms = required?.nodeSelectorTerms;
    if (terms === undefined || terms.length === 0) return { status: SchedulingStatus.success() };

    // Terms are ORed: only when every term pins `metadata.name In (...)` can the node set be narrowed, to
    // the union over terms of the names each term allows (requirements within a term are ANDed).
    let nodeNames: Set<string> | undefined;
    for (const term of terms) {
      let termNames: Set<string> | undefined;
      for (const requirement of term.matchFields ?? []) {
        if (requirement.key !== nodeNameField || requirement.operator !== 'In') continue;
        const values = new Set(requirement.values ?? []);
        termNames = termNames === undefined ? values : new Set([...termNames].filter((n) => values.has(n)));
      }
      if (termNames === undefined) return { status: SchedulingStatus.success() };
      nodeNames ??= new Set();
      for (const name of termNames) nodeNames.add(name);
    }
    if (nodeNames !== undefined && nodeNames.size === 0) {
      return {
        status: new SchedulingStatus(
          'UnschedulableAndUnresolvable',
          [nodeAffinityErrorReasonConflict],
          this.name,
        ),
      };
    }
    return { status: SchedulingStatus.success(), result: nodeNames ? { nodeNames } : undefined };
  }

  preFilterExtensions(): PreFilterExtensions | undefined {
    return undefined;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    const node = nodeInfo.node;
    if (this.addedNodeSelector !== undefined && !this.addedNodeSelector.matches(node))
      return this.rejectedEnforced;
    const required = state.read(preFilterStateKey) ?? RequiredNodeAffinity.forPod(pod);
    return required.matches(node) ? SchedulingStatus.success() : this.rejectedPod;
  }

  preScore(state: CycleState, pod: Pod): SchedulingStatus {
    let preferred: CompiledPreferredSchedulingTerms | undefined;
    try {
      preferred = podPreferredTerms(pod);
    } catch (error) {
      return SchedulingStatus.error(error, this.name);
    }
    if (preferred === undefined && this.addedPreferredTerms === undefined) return SchedulingStatus.skip();
    state.write(preScoreStateKey, preferred);
    return SchedulingStatus.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | SchedulingStatus {
    const node = nodeInfo.node;
    let count = this.addedPreferredTerms?.score(node) ?? 0;
    let preferred: CompiledPreferredSchedulingTerms | undefined;
    if (state.has(preScoreStateKey)) {
      preferred = state.read(preScoreStateKey);
    } else {
      try {
        preferred = podPreferredTerms(pod);
      } catch (error) {
        return SchedulingStatus.error(error, this.name);
      }
    }
    if (preferred !== undefined) count += preferred.score(node);
    return count;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): SchedulingStatus {
    defaultNormalizeScore(scores);
    return SchedulingStatus.success();
  }
}

/**
 * Builds a {@link NodeAffinity} from {@link NodeAffinityArgs}. Throws `Invalid` naming the field when
 * `addedAffinity` has a term that does not parse.
 * @category Scheduler plugins
 */
export function newNodeAffinity(args: unknown): NodeAffinity {
  const errs = new ArgsErrors('NodeAffinityArgs', NodeAffinity.pluginName);
  const object = argsObject(args, errs);
  const added = object.addedAffinity;
  if (added === undefined || added === null) return new NodeAffinity();
  if (!isPlainObject(added)) {
    errs.invalid('addedAffinity', added, 'must be a NodeAffinity object');
    errs.throwIfAny();
  }
  const spec = added as NodeAffinitySpec;
  let selector: CompiledNodeSelector | undefined;
  let preferred: CompiledPreferredSchedulingTerms | undefined;
  const required = spec.requiredDuringSchedulingIgnoredDuringExecution;
  if (required !== undefined && required !== null) {
    const path = 'addedAffinity.requiredDuringSchedulingIgnoredDuringExecution';
    if (!isPlainObject(required) || !Array.isArray(required.nodeSelectorTerms)) {
      errs.invalid(`${path}.nodeSelectorTerms`, required, 'must be a list of node selector terms');
    } else {
      selector = CompiledNodeSelector.compile(required, path);
      for (const error of selector.errors) errs.add(error.field, error.message);
    }
  }
  const terms = spec.preferredDuringSchedulingIgnoredDuringExecution;
  if (terms !== undefined && terms !== null) {
    const path = 'addedAffinity.preferredDuringSchedulingIgnoredDuringExecution';
    if (!Array.isArray(terms)) {
      errs.invalid(path, terms, 'must be a list of preferred scheduling terms');
    } else if (terms.length > 0) {
      try {
        preferred = CompiledPreferredSchedulingTerms.compile(terms, path);
      } catch (error) {
        if (!(error instanceof NodeSelectorParseError)) throw error;
        for (const e of error.errors) errs.add(e.field, e.message);
      }
    }
  }
  errs.throwIfAny();
  return new NodeAffinity(selector, preferred);
}

/** Registration of {@link NodeAffinity} (args: {@link NodeAffinityArgs}). @category Scheduler plugins */
export const nodeAffinityRegistration: SchedulerPlugin<NodeAffinityArgs> = {
  name: NodeAffinity.pluginName,
  factory: (args) => newNodeAffinity(args),
};
