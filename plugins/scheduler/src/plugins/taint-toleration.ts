// SPDX-License-Identifier: Apache-2.0
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type NodeScore,
  type PreScorePlugin,
  type SchedulerPlugin,
  SchedulingStatus,
  type ScoreExtensions,
  type ScorePlugin,
  StateKey,
} from '@cpkit/core';
import type { Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { defaultNormalizeScore } from './default-normalize-score.js';
import { findUntoleratedTaint, tolerationsTolerateTaint } from './tolerations.js';

interface TaintTolerationPreScoreState {
  /** The pod's tolerations that can tolerate PreferNoSchedule taints (effect empty or PreferNoSchedule). */
  readonly tolerationsPreferNoSchedule: readonly Toleration[];
}

const preScoreStateKey = new StateKey<TaintTolerationPreScoreState>('PreScoreTaintToleration');

/**
 * Filter, PreScore, Score and NormalizeScore `TaintToleration`.
 *
 * Filter rejects a node with a NoSchedule or NoExecute taint the pod does not tolerate, naming the first
 * such taint: `node(s) had untolerated taint {key: value}` (UnschedulableAndUnresolvable, as upstream).
 * Score counts the node's PreferNoSchedule taints the pod does not tolerate; NormalizeScore reverses the
 * counts so that the node with the fewest gets 100.
 * @category Scheduler plugins
 */
export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions {
  static readonly pluginName = 'TaintToleration';
  readonly name = TaintToleration.pluginName;
  // The rejection names the taint; a taint object belongs to one node version, so its status is reusable.
  private readonly rejections = new WeakMap<Taint, SchedulingStatus>();

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    const taints = nodeInfo.node.spec?.taints;
    if (taints === undefined || taints.length === 0) return SchedulingStatus.success();
    const taint = findUntoleratedTaint(taints, pod.spec?.tolerations);
    if (taint === undefined) return SchedulingStatus.success();
    let status = this.rejections.get(taint);
    if (status === undefined) {
      status = new SchedulingStatus(
        'UnschedulableAndUnresolvable',
        [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`],
        this.name,
      );
      this.rejections.set(taint, status);
    }
    return status;
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): SchedulingStatus {
    if (nodes.length === 0) return SchedulingStatus.success();
    const tolerations = pod.spec?.tolerations ?? [];
    state.write(preScoreStateKey, {
      tolerationsPreferNoSchedule: tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule'),
    });
    return SchedulingStatus.success();
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | SchedulingStatus {
    const taints = nodeInfo.node.spec?.taints;
    if (taints === undefined || taints.length === 0) return 0;
    const tolerations =
      state.read(preScoreStateKey)?.tolerationsPreferNoSchedule ??
      (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let intolerable = 0;
    for (let i = 0; i < taints.length; i++) {
      const taint = taints[i];
      if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) intolerable++;
    }
    return intolerable;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): SchedulingStatus {
    defaultNormalizeScore(scores, true);
    return SchedulingStatus.success();
  }
}

/** Registration of {@link TaintToleration}; it takes no arguments. @category Scheduler plugins */
export const taintTolerationRegistration: SchedulerPlugin = {
  name: TaintToleration.pluginName,
  factory: () => new TaintToleration(),
};
