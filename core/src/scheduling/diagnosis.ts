// SPDX-License-Identifier: Apache-2.0
import { SchedulingStatus } from '../contracts/scheduler-plugin.js';

/**
 * Why each node was rejected in a cycle, as upstream's `NodeToStatus`: explicit statuses for the nodes
 * Filter rejected, and one shared status for every node not listed (used when PreFilter rejects the pod
 * on all nodes, or its PreFilterResult excluded them).
 * @category Scheduling
 */
export class NodeToStatus {
  readonly #statuses = new Map<string, SchedulingStatus>();
  #absent: SchedulingStatus = SchedulingStatus.unschedulableAndUnresolvable();
  #absentSet = false;

  /** The node's status: its explicit one, else the absent-nodes status when one was set. */
  get(nodeName: string): SchedulingStatus | undefined {
    return this.#statuses.get(nodeName) ?? (this.#absentSet ? this.#absent : undefined);
  }

  set(nodeName: string, status: SchedulingStatus): void {
    this.#statuses.set(nodeName, status);
  }

  /** The status every node without an explicit one gets. */
  setAbsentNodesStatus(status: SchedulingStatus): void {
    this.#absent = status;
    this.#absentSet = true;
  }

  /** The status of nodes without an explicit one, or `undefined` when none was set. */
  absentNodesStatus(): SchedulingStatus | undefined {
    return this.#absentSet ? this.#absent : undefined;
  }

  /** Number of nodes with an explicit status. */
  get size(): number {
    return this.#statuses.size;
  }

  /** The explicit statuses. */
  explicit(): ReadonlyMap<string, SchedulingStatus> {
    return this.#statuses;
  }

  /** Every node's status as a map: explicit ones, and the absent status for the rest of `nodeNames`. */
  toMap(nodeNames: Iterable<string>): Map<string, SchedulingStatus> {
    const map = new Map(this.#statuses);
    if (this.#absentSet) {
      for (const name of nodeNames) if (!map.has(name)) map.set(name, this.#absent);
    }
    return map;
  }
}

/**
 * Everything known about why a pod did not fit, as upstream's `Diagnosis`.
 * @category Scheduling
 */
export interface SchedulingDiagnosis {
  readonly nodeToStatus: NodeToStatus;
  /** Plugins that rejected the pod on some node (the queue uses them to decide which events matter). */
  readonly unschedulablePlugins: Set<string>;
  /** Plugins that returned Pending. */
  readonly pendingPlugins: Set<string>;
  /** PreFilter's message when PreFilter rejected the pod. */
  preFilterMessage?: string;
  /** PostFilter's message (for example preemption's) when PostFilter ran and did not help. */
  postFilterMessage?: string;
  /** Nodes Filter ran on. */
  evaluatedNodes: number;
}

/** A new, empty diagnosis. @category Scheduling */
export function newSchedulingDiagnosis(): SchedulingDiagnosis {
  return {
    nodeToStatus: new NodeToStatus(),
    unschedulablePlugins: new Set(),
    pendingPlugins: new Set(),
    evaluatedNodes: 0,
  };
}

/** Records a rejecting status's plugin in the diagnosis. @category Scheduling */
export function addPluginStatus(diagnosis: SchedulingDiagnosis, status: SchedulingStatus): void {
  if (!status.plugin) return;
  if (status.code === 'Pending') diagnosis.pendingPlugins.add(status.plugin);
  else if (status.isRejected()) diagnosis.unschedulablePlugins.add(status.plugin);
}

/**
 * The FailedScheduling message, upstream's format:
 * `0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {key: value}.` — each
 * reason counted over the nodes and the `count reason` strings sorted as strings, as upstream sorts them.
 * When PreFilter rejected the pod its message replaces the histogram; PostFilter's message follows.
 * @category Scheduling
 */
export function fitErrorMessage(numAllNodes: number, diagnosis: SchedulingDiagnosis): string {
  let message = `0/${numAllNodes} nodes are available:`;
  if (diagnosis.preFilterMessage) {
    message += ` ${diagnosis.preFilterMessage}.`;
  } else {
    const counts = new Map<string, number>();
    const statuses = diagnosis.nodeToStatus;
    for (const status of statuses.explicit().values()) {
      for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    const absent = statuses.absentNodesStatus();
    if (absent && statuses.size < numAllNodes) {
      for (const reason of absent.reasons)
        counts.set(reason, (counts.get(reason) ?? 0) + numAllNodes - statuses.size);
    }
    const histogram = [...counts].map(([reason, count]) => `${count} ${reason}`);
    // Plain code-unit order, as Go's sort.Strings (so "10 ..." sorts before "2 ...", as upstream).
    histogram.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (histogram.length > 0) message += ` ${histogram.join(', ')}.`;
  }
  if (diagnosis.postFilterMessage) message += ` ${diagnosis.postFilterMessage}.`;
  return message;
}
