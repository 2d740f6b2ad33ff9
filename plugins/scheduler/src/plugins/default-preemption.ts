// SPDX-License-Identifier: Apache-2.0
import {
  type CycleState,
  DefaultSchedulerName,
  fitErrorMessage,
  formatTimestamp,
  isStatusError,
  type KindReference,
  type NodeInfo,
  newEvent,
  newSchedulingDiagnosis,
  objectReference,
  type PostFilterOutcome,
  type PostFilterPlugin,
  SchedulerNodeInfo,
  type SchedulerPlugin,
  SchedulerPodInfo,
  type SchedulingFrameworkHandle,
  SchedulingStatus,
} from '@cpkit/core';
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import {
  compareImportance,
  type PreemptionCandidate,
  pickBestCandidate,
  splitByPDBViolation,
} from './default-preemption-candidates.js';
import { ArgsErrors, argsObject, integer } from './plugin-args.js';
import { podPriority } from './priority-sort.js';

export * from './default-preemption-candidates.js';

/**
 * Arguments of DefaultPreemption, as upstream's `DefaultPreemptionArgs`. The dry run stops once it has
 * `max(minCandidateNodesAbsolute, nodes × minCandidateNodesPercentage / 100)` candidates (at most every
 * node), one of them without PDB violations.
 * @category Scheduler plugins
 */
export interface DefaultPreemptionArgs {
  /** Share of the nodes to find candidates on, 0–100. Default 10. */
  minCandidateNodesPercentage?: number;
  /** Least number of candidates to find, ≥ 0. Default 100. Not both zero. */
  minCandidateNodesAbsolute?: number;
}

/** Why a node cannot help, once no candidate was found there (upstream's wording). */
const noVictimsMessage = 'No preemption victims found for incoming pod';
const notHelpfulMessage = 'Preemption is not helpful for scheduling';
const podKind: KindReference = { group: '', version: 'v1', kind: 'Pod' };
const pdbKind: KindReference = { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' };

/** A victim-selection outcome on one node. */
export interface NodeVictims {
  /** Success when evicting `victims` makes the pod fit; otherwise why the node cannot help. */
  status: SchedulingStatus;
  /** The pods to evict, most important first. */
  victims: Pod[];
  numPDBViolations: number;
}

/**
 * The PostFilter plugin that preempts, as upstream's DefaultPreemption: when no node fits a pod, find the
 * nodes where evicting lower-priority pods would make it fit (re-running the profile's filters on copies
 * of the node and the cycle state), evict the fewest and least important of them on the best such node,
 * and nominate that node for the pod. The pod binds in a later cycle, once the victims are gone.
 * @category Scheduler plugins
 */
export class DefaultPreemption implements PostFilterPlugin {
  static readonly pluginName = 'DefaultPreemption';
  readonly name = DefaultPreemption.pluginName;

  /**
   * @param random the source of the dry run's random start among the candidate nodes (tests pass a fixed one).
   * @param now the clock for pod start times (pods that have not started count as starting now).
   */
  constructor(
    private readonly handle: SchedulingFrameworkHandle,
    readonly args: Required<DefaultPreemptionArgs>,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  async postFilter(
    state: CycleState,
    pod: Pod,
    filteredNodeStatuses: ReadonlyMap<string, SchedulingStatus>,
  ): Promise<PostFilterOutcome> {
    const outcome = await this.preempt(state, pod, filteredNodeStatuses);
    const message = outcome.status.message();
    if (message && outcome.status.code !== 'Success') {
      return {
        status: new SchedulingStatus(outcome.status.code, [`preemption: ${message}`], this.name),
        ...(outcome.result ? { result: outcome.result } : {}),
      };
    }
    return outcome;
  }

  /** Upstream's `Evaluator.Preempt`, without the extenders. */
  private async preempt(
    state: CycleState,
    pod: Pod,
    filteredNodeStatuses: ReadonlyMap<string, SchedulingStatus>,
  ): Promise<PostFilterOutcome> {
    const nominated = pod.status?.nominatedNodeName;
    const eligibility = this.podEligibleToPreemptOthers(
      pod,
      nominated ? filteredNodeStatuses.get(nominated) : undefined,
    );
    if (eligibility !== undefined) return { status: SchedulingStatus.unschedulable(eligibility) };

    const lister = this.handle.nodeInfos();
    const allNodes = lister.list();
    if (allNodes.length === 0) return { status: SchedulingStatus.error('no nodes available') };
    const potential = allNodes.filter(
      (n) => filteredNodeStatuses.get(n.name)?.code !== 'UnschedulableAndUnresolvable',
    );
    const diagnosis = newSchedulingDiagnosis();
    diagnosis.nodeToStatus.setAbsentNodesStatus(
      SchedulingStatus.unschedulableAndUnresolvable(notHelpfulMessage),
    );
    let candidates: PreemptionCandidate[] = [];
    if (potential.length === 0) {
      // Preemption cannot help anywhere: a nomination from an earlier attempt is stale.
      if (nominated) await this.clearNominatedNodeName(pod);
    } else {
      const pdbs = await this.listPodDisruptionBudgets();
      const offset = Math.floor(this.random() * potential.length) % potential.length;
      const run = this.dryRunPreemption(
        state,
        pod,
        potential,
        pdbs,
        offset,
        this.numCandidates(potential.length),
      );
      candidates = run.candidates;
      for (const [name, status] of run.statuses) diagnosis.nodeToStatus.set(name, status);
      if (candidates.length === 0) {
        const error = [...run.statuses.values()].find((s) => s.code === 'Error');
        if (error) return { status: error };
      }
    }
    if (candidates.length === 0) {
      return {
        status: SchedulingStatus.unschedulable(fitErrorMessage(allNodes.length, diagnosis)),
        // An empty nomination asks the scheduler to clear the pod's one.
        result: { nominatedNodeName: '' },
      };
    }
    const best = pickBestCandidate(candidates, this.now());
    if (!best) return { status: SchedulingStatus.unschedulable('no candidate node for preemption') };
    const prepared = await this.prepareCandidate(best, pod);
    if (!prepared.isSuccess()) return { status: prepared };
    return { status: SchedulingStatus.success(), result: { nominatedNodeName: best.nodeName } };
  }

  /**
   * Why `pod` may not preempt (upstream's messages), or `undefined` when it may: a pod with
   * `preemptionPolicy: Never` never does; a pod nominated to a node where lower-priority pods are still
   * terminating because of an earlier preemption waits for them, unless that node no longer suits it.
   */
  podEligibleToPreemptOthers(
    pod: Pod,
    nominatedNodeStatus: SchedulingStatus | undefined,
  ): string | undefined {
    if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nominated = pod.status?.nominatedNodeName;
    if (!nominated) return undefined;
    if (nominatedNodeStatus?.code === 'UnschedulableAndUnresolvable') return undefined;
    const nodeInfo = this.handle.nodeInfos().get(nominated);
    if (!nodeInfo) return undefined;
    const priority = podPriority(pod);
    for (const info of nodeInfo.pods) {
      if (podPriority(info.pod) < priority && terminatingByPreemption(info.pod)) {
        return 'not eligible due to a terminating pod on the nominated node.';
      }
    }
    return undefined;
  }

  /** How many candidates the dry run looks for among `numNodes` nodes (upstream's `calculateNumCandidates`). */
  numCandidates(numNodes: number): number {
    const n = Math.max(
      Math.floor((numNodes * this.args.minCandidateNodesPercentage) / 100),
      this.args.minCandidateNodesAbsolute,
    );
    return Math.min(n, numNodes);
  }

  /**
   * Evaluates the nodes from `offset` on (wrapping), stopping once `numCandidates` candidates are found
   * and at least one of them violates no PodDisruptionBudget. Candidates without violations come first.
   */
  dryRunPreemption(
    state: CycleState,
    pod: Pod,
    nodes: readonly NodeInfo[],
    pdbs: readonly PodDisruptionBudget[],
    offset: number,
    numCandidates: number,
  ): { candidates: PreemptionCandidate[]; statuses: Map<string, SchedulingStatus> } {
    const nonViolating: PreemptionCandidate[] = [];
    const violating: PreemptionCandidate[] = [];
    const statuses = new Map<string, SchedulingStatus>();
    for (let i = 0; i < nodes.length; i++) {
      const nodeInfo = nodes[(offset + i) % nodes.length];
      const { status, victims, numPDBViolations } = this.selectVictimsOnNode(
        state.clone(),
        pod,
        nodeInfo,
        pdbs,
      );
      if (status.isSuccess() && victims.length > 0) {
        const candidate = { nodeName: nodeInfo.name, victims, numPDBViolations };
        (numPDBViolations === 0 ? nonViolating : violating).push(candidate);
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= numCandidates) break;
        continue;
      }
      statuses.set(
        nodeInfo.name,
        status.isSuccess()
          ? SchedulingStatus.error(`expected at least one victim pod on node "${nodeInfo.name}"`, this.name)
          : status,
      );
    }
    return { candidates: [...nonViolating, ...violating], statuses };
  }

  /**
   * Upstream's `SelectVictimsOnNode`, on a copy of `nodeInfo` and with `state` (which it changes; pass a
   * clone): removes every lower-priority pod and checks that the pod then fits; then puts them back one
   * by one, most important first and PDB-protected ones before the others, keeping each one that still
   * lets the pod fit. What could not be put back are the victims.
   */
  selectVictimsOnNode(
    state: CycleState,
    pod: Pod,
    nodeInfo: NodeInfo,
    pdbs: readonly PodDisruptionBudget[],
  ): NodeVictims {
    const node = copyNodeInfo(nodeInfo);
    const priority = podPriority(pod);
    const potential = node.pods.filter((info) => podPriority(info.pod) < priority);
    if (potential.length === 0) {
      return {
        status: SchedulingStatus.unschedulableAndUnresolvable(noVictimsMessage),
        victims: [],
        numPDBViolations: 0,
      };
    }
    const fail = (status: SchedulingStatus): NodeVictims => ({ status, victims: [], numPDBViolations: 0 });
    const remove = (info: SchedulerPodInfo): SchedulingStatus => {
      node.removePod(info.pod);
      return (
        this.handle.runPreFilterExtensionRemovePod?.(state, pod, info, node) ?? SchedulingStatus.success()
      );
    };
    const add = (info: SchedulerPodInfo): SchedulingStatus => {
      node.addPod(info);
      return this.handle.runPreFilterExtensionAddPod?.(state, pod, info, node) ?? SchedulingStatus.success();
    };
    for (const info of potential) {
      const status = remove(info);
      if (!status.isSuccess()) return fail(status);
    }
    // Affinity of the pod to one of the victims is not looked for (as upstream, for speed): if the pod
    // does not fit without all of them, this node cannot help.
    const fits = this.handle.runFilterPlugins(state, pod, node);
    if (!fits.isSuccess()) return fail(fits);

    const now = this.now();
    potential.sort((a, b) => compareImportance(a.pod, b.pod, now));
    const { violating, nonViolating } = splitByPDBViolation(potential, pdbs);
    const victims: Pod[] = [];
    let numPDBViolations = 0;
    // Returns whether the pod still fits with `info` put back; if not, `info` becomes a victim.
    const reprieve = (info: SchedulerPodInfo): SchedulingStatus | boolean => {
      const added = add(info);
      if (!added.isSuccess()) return added;
      if (this.handle.runFilterPlugins(state, pod, node).isSuccess()) return true;
      const removed = remove(info);
      if (!removed.isSuccess()) return removed;
      victims.push(info.pod);
      return false;
    };
    for (const info of violating) {
      const kept = reprieve(info);
      if (kept instanceof SchedulingStatus) return fail(kept);
      if (!kept) numPDBViolations++;
    }
    for (const info of nonViolating) {
      const kept = reprieve(info);
      if (kept instanceof SchedulingStatus) return fail(kept);
    }
    // Two passes each in order: merge them back into one most-important-first list.
    if (violating.length > 0 && nonViolating.length > 0) victims.sort((a, b) => compareImportance(a, b, now));
    return { status: SchedulingStatus.success(), victims, numPDBViolations };
  }

  /**
   * Evicts the candidate's victims (a victim held at Permit is rejected instead) after marking each with a
   * `DisruptionTarget` condition, records a `Preempted` event on each, and clears the nomination of
   * lower-priority pods nominated to the same node, which will not fit there any more.
   */
  private async prepareCandidate(candidate: PreemptionCandidate, pod: Pod): Promise<SchedulingStatus> {
    const schedulerName = pod.spec?.schedulerName ?? DefaultSchedulerName;
    const results = await Promise.all(
      candidate.victims.map((victim) => this.evict(victim, pod, candidate.nodeName, schedulerName)),
    );
    const failed = results.find((status) => !status.isSuccess());
    if (failed) return failed;
    const priority = podPriority(pod);
    const lowerNominated = (this.handle.nominatedPodsForNode?.(candidate.nodeName) ?? []).filter(
      (info) => podPriority(info.pod) < priority && info.pod.metadata?.uid !== pod.metadata?.uid,
    );
    await Promise.all(lowerNominated.map((info) => this.clearNominatedNodeName(info.pod)));
    return SchedulingStatus.success();
  }

  private async evict(
    victim: Pod,
    preemptor: Pod,
    nodeName: string,
    schedulerName: string,
  ): Promise<SchedulingStatus> {
    const uid = victim.metadata?.uid;
    const waiting = uid ? this.handle.getWaitingPod(uid) : undefined;
    if (waiting) {
      waiting.reject(this.name, 'preempted');
    } else {
      const name = victim.metadata?.name ?? '';
      const namespace = victim.metadata?.namespace ?? 'default';
      try {
        if (!victim.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True')) {
          const condition: PodCondition = {
            type: 'DisruptionTarget',
            status: 'True',
            reason: 'PreemptionByScheduler',
            message: `${schedulerName}: preempting to accommodate a higher priority pod`,
            lastTransitionTime: formatTimestamp(this.now()),
          };
          const conditions = [
            ...(victim.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
            condition,
          ];
          await this.handle.apiClient.patch(
            podKind,
            name,
            'merge',
            { status: { conditions } },
            {
              namespace,
              subresource: 'status',
            },
          );
        }
        await this.handle.apiClient.delete(podKind, name, {
          namespace,
          ...(uid ? { preconditions: { uid } } : {}),
        });
      } catch (error) {
        // Gone already (or replaced by a new pod of the same name): nothing left to evict.
        if (isStatusError(error, 'NotFound') || isStatusError(error, 'Conflict'))
          return SchedulingStatus.success();
        return SchedulingStatus.error(error, this.name);
      }
    }
    await this.recordPreempted(victim, preemptor, nodeName, schedulerName);
    return SchedulingStatus.success();
  }

  /** The `Preempted` event on the victim, as upstream's recorder writes it; best effort. */
  private async recordPreempted(
    victim: Pod,
    preemptor: Pod,
    nodeName: string,
    schedulerName: string,
  ): Promise<void> {
    const pod = { apiVersion: 'v1', kind: 'Pod' };
    const event = newEvent({
      regarding: objectReference(victim, pod),
      related: objectReference(preemptor, pod),
      type: 'Normal',
      reason: 'Preempted',
      action: 'Preempting',
      message: `Preempted by pod ${preemptor.metadata?.uid ?? preemptor.metadata?.name} on node ${nodeName}`,
      reportingComponent: schedulerName,
      nowMs: this.now(),
    });
    try {
      await this.handle.apiClient.create(event);
    } catch (error) {
      this.handle.logger.debug(
        { err: error, pod: victim.metadata?.name },
        'cannot record the Preempted event',
      );
    }
  }

  /** Removes `status.nominatedNodeName` from the pod; a pod already gone is fine. */
  private async clearNominatedNodeName(pod: Pod): Promise<void> {
    if (!pod.status?.nominatedNodeName) return;
    try {
      await this.handle.apiClient.patch(
        podKind,
        pod.metadata?.name ?? '',
        'merge',
        {
          status: { nominatedNodeName: null },
        },
        { namespace: pod.metadata?.namespace ?? 'default', subresource: 'status' },
      );
    } catch (error) {
      if (!isStatusError(error, 'NotFound')) {
        this.handle.logger.warn({ err: error, pod: pod.metadata?.name }, 'cannot clear nominatedNodeName');
      }
    }
  }

  /**
   * Every PodDisruptionBudget, through the ApiClient. A server that does not serve the kind (NotFound) has
   * none; other failures are logged and treated as none, so preemption still works, only unprotected.
   */
  private async listPodDisruptionBudgets(): Promise<PodDisruptionBudget[]> {
    try {
      const list = await this.handle.apiClient.list<PodDisruptionBudget & { metadata: object }>(pdbKind);
      return list.items;
    } catch (error) {
      if (!isStatusError(error, 'NotFound')) {
        this.handle.logger.warn({ err: error }, 'cannot list PodDisruptionBudgets; preempting without them');
      }
      return [];
    }
  }
}

/** A pod being deleted because of an earlier preemption (upstream's `podTerminatingByPreemption`). */
function terminatingByPreemption(pod: Pod): boolean {
  if (!pod.metadata?.deletionTimestamp) return false;
  return (
    pod.status?.conditions?.some(
      (c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'PreemptionByScheduler',
    ) ?? false
  );
}

/** A private copy to evict pods from: a clone of the framework's NodeInfo, or one rebuilt from its pods. */
function copyNodeInfo(nodeInfo: NodeInfo): SchedulerNodeInfo {
  if (nodeInfo instanceof SchedulerNodeInfo) return nodeInfo.clone();
  const copy = new SchedulerNodeInfo(nodeInfo.node);
  for (const info of nodeInfo.pods)
    copy.addPod(info instanceof SchedulerPodInfo ? info : new SchedulerPodInfo(info.pod));
  return copy;
}

/**
 * Validates {@link DefaultPreemptionArgs} and applies upstream's defaults (10 %, 100). Throws `Invalid`
 * naming each bad field.
 * @category Scheduler plugins
 */
export function defaultPreemptionArgs(args: unknown): Required<DefaultPreemptionArgs> {
  const errs = new ArgsErrors('DefaultPreemptionArgs', DefaultPreemption.pluginName);
  const object = argsObject(args, errs);
  const percentage = integer(object.minCandidateNodesPercentage, 'minCandidateNodesPercentage', errs, 10);
  const absolute = integer(object.minCandidateNodesAbsolute, 'minCandidateNodesAbsolute', errs, 100);
  if (percentage < 0 || percentage > 100)
    errs.invalid('minCandidateNodesPercentage', percentage, 'not in valid range [0, 100]');
  if (absolute < 0) errs.invalid('minCandidateNodesAbsolute', absolute, 'not in valid range [0, inf)');
  if (percentage === 0 && absolute === 0) {
    errs.invalid(
      'minCandidateNodesPercentage',
      percentage,
      'cannot be zero at the same time as minCandidateNodesAbsolute',
    );
    errs.invalid(
      'minCandidateNodesAbsolute',
      absolute,
      'cannot be zero at the same time as minCandidateNodesPercentage',
    );
  }
  errs.throwIfAny();
  return { minCandidateNodesPercentage: percentage, minCandidateNodesAbsolute: absolute };
}

/**
 * The registration of {@link DefaultPreemption}: its factory validates {@link DefaultPreemptionArgs}.
 * @category Scheduler plugins
 */
export const defaultPreemptionRegistration: SchedulerPlugin<DefaultPreemptionArgs> = {
  name: DefaultPreemption.pluginName,
  factory(args: DefaultPreemptionArgs | undefined, handle: SchedulingFrameworkHandle): DefaultPreemption {
    return new DefaultPreemption(handle, defaultPreemptionArgs(args));
  },
};
