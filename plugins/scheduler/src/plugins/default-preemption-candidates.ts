// SPDX-License-Identifier: Apache-2.0
/**
 * The pure parts of DefaultPreemption: pod importance, PodDisruptionBudget accounting and the choice
 * between candidate nodes, kept apart from the plugin so tables can test them directly.
 * @module
 */
import { labelSelectorFromObject, type PodInfo } from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { podPriority } from './priority-sort.js';

/**
 * A node where preemption would let the pod fit, and what it costs: the pods to evict (highest priority
 * first) and how many of them violate a PodDisruptionBudget.
 * @category Scheduler plugins
 */
export interface PreemptionCandidate {
  readonly nodeName: string;
  readonly victims: readonly Pod[];
  readonly numPDBViolations: number;
}

/**
 * When the pod started (epoch ms): `status.startTime`, or `now` for a pod that has not started yet (as
 * upstream's `GetPodStartTime`, which treats such pods as the newest).
 * @category Scheduler plugins
 */
export function podStartTime(pod: Pod, now: number): number {
  const started = pod.status?.startTime;
  if (!started) return now;
  const parsed = Date.parse(started);
  return Number.isNaN(parsed) ? now : parsed;
}

/**
 * Upstream's `MoreImportantPod`: the higher priority wins; with equal priorities the pod that started
 * earlier. Use as a sort comparator for "most important first".
 * @category Scheduler plugins
 */
export function compareImportance(a: Pod, b: Pod, now: number): number {
  const byPriority = podPriority(b) - podPriority(a);
  if (byPriority !== 0) return byPriority;
  return podStartTime(a, now) - podStartTime(b, now);
}

/**
 * Splits `podInfos` (in the order given) into those whose eviction would violate a PodDisruptionBudget
 * and the others, as upstream's `filterPodsWithPDBViolation`: each matching budget's
 * `status.disruptionsAllowed` is decremented per pod (pods already in its `status.disruptedPods` are not
 * counted again), and a pod violates when a budget it matches goes below zero. A budget with an absent
 * or empty selector matches nothing, and a pod without labels matches no budget.
 * @category Scheduler plugins
 */
export function splitByPDBViolation<T extends PodInfo>(
  podInfos: readonly T[],
  pdbs: readonly PodDisruptionBudget[],
): { violating: T[]; nonViolating: T[] } {
  const allowed = pdbs.map((pdb) => pdb.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((pdb) => {
    try {
      const selector = labelSelectorFromObject(pdb.spec?.selector);
      return selector.empty ? undefined : selector;
    } catch {
      return undefined; // An invalid selector matches nothing, as upstream skips it.
    }
  });
  const violating: T[] = [];
  const nonViolating: T[] = [];
  for (const info of podInfos) {
    const pod = info.pod;
    const labels = pod.metadata?.labels;
    let violated = false;
    if (labels && Object.keys(labels).length > 0) {
      const namespace = pod.metadata?.namespace ?? 'default';
      for (let i = 0; i < pdbs.length; i++) {
        const pdb = pdbs[i];
        if ((pdb.metadata?.namespace ?? 'default') !== namespace) continue;
        const selector = selectors[i];
        if (!selector?.matches(labels)) continue;
        // Already being disrupted: the API server counted it, so do not count it twice.
        if (pdb.status?.disruptedPods && pod.metadata?.name && pod.metadata.name in pdb.status.disruptedPods)
          continue;
        allowed[i]--;
        if (allowed[i] < 0) violated = true;
      }
    }
    (violated ? violating : nonViolating).push(info);
  }
  return { violating, nonViolating };
}

/**
 * Among the victims of the highest priority, the earliest start time (upstream's
 * `GetEarliestPodStartTime`); `undefined` without victims.
 * @category Scheduler plugins
 */
export function earliestStartOfMostImportantVictims(
  victims: readonly Pod[],
  now: number,
): number | undefined {
  if (victims.length === 0) return undefined;
  let maxPriority = podPriority(victims[0]);
  let earliest = podStartTime(victims[0], now);
  for (const pod of victims) {
    const priority = podPriority(pod);
    const start = podStartTime(pod, now);
    if (priority === maxPriority) {
      if (start < earliest) earliest = start;
    } else if (priority > maxPriority) {
      maxPriority = priority;
      earliest = start;
    }
  }
  return earliest;
}

// Upstream adds MaxInt32 + 1 to every priority so that negative priorities still add up to a positive,
// comparable sum.
const priorityOffset = 2 ** 31;

/**
 * The ordering upstream's `pickOneNodeForPreemption` applies, each rule breaking the previous one's ties:
 * fewest PDB violations; lowest highest-priority victim; smallest sum of victim priorities; fewest
 * victims; latest start among the highest-priority victims. Remaining ties go to the earliest candidate
 * in `candidates`. A candidate without victims wins outright. Returns `undefined` for no candidates.
 * @category Scheduler plugins
 */
export function pickBestCandidate(
  candidates: readonly PreemptionCandidate[],
  now: number = Date.now(),
): PreemptionCandidate | undefined {
  if (candidates.length === 0) return undefined;
  for (const candidate of candidates) if (candidate.victims.length === 0) return candidate;
  const rules: ((c: PreemptionCandidate) => number)[] = [
    (c) => -c.numPDBViolations,
    // Victims are ordered most important first, so the first is the highest priority.
    (c) => -podPriority(c.victims[0]),
    (c) => -c.victims.reduce((sum, pod) => sum + podPriority(pod) + priorityOffset, 0),
    (c) => -c.victims.length,
    (c) => earliestStartOfMostImportantVictims(c.victims, now) ?? 0,
  ];
  let remaining = candidates;
  for (const rule of rules) {
    let best = Number.NEGATIVE_INFINITY;
    let kept: PreemptionCandidate[] = [];
    for (const candidate of remaining) {
      const score = rule(candidate);
      if (score > best) {
        best = score;
        kept = [candidate];
      } else if (score === best) kept.push(candidate);
    }
    remaining = kept;
    if (remaining.length === 1) break;
  }
  return remaining[0];
}
