// SPDX-License-Identifier: Apache-2.0
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfoLister } from '../contracts/scheduler-plugin.js';
import { errors } from '../errors/status-error.js';
import { affinityPodsChangeCount, SchedulerNodeInfo, SchedulerPodInfo } from './node-info.js';

/**
 * The nodes one scheduling cycle works on, as upstream's `Snapshot`: a list in a stable order, a lookup
 * by name, and the nodes that hold pods with (required anti-)affinity, so InterPodAffinity only walks
 * those.
 *
 * ```ts
 * const snapshot = SchedulingSnapshot.fromObjects(nodes, pods);
 * snapshot.get('node-1')?.requested.milliCPU;
 * ```
 * @category Scheduling
 */
export class SchedulingSnapshot implements NodeInfoLister {
  readonly #list: readonly SchedulerNodeInfo[];
  readonly #byName: Map<string, SchedulerNodeInfo>;
  #havePodsWithAffinity: readonly SchedulerNodeInfo[] | undefined;
  #havePodsWithRequiredAntiAffinity: readonly SchedulerNodeInfo[] | undefined;
  // The affinity change count the two lists above were computed at: a cache may keep changing the
  // NodeInfos of a snapshot it reuses, so the lists are recomputed when any such pod came or went.
  #affinityVersion = -1;

  /**
   * @param nodeInfos the nodes, in the order `list()` returns them. The snapshot takes them as they are;
   *   callers hand it copies when they keep changing their own.
   * @param generation the cache generation the snapshot was taken at (informational).
   */
  constructor(
    nodeInfos: readonly SchedulerNodeInfo[],
    readonly generation = 0,
  ) {
    this.#list = nodeInfos;
    this.#byName = new Map();
    for (const info of nodeInfos) this.#byName.set(info.name, info);
  }

  /**
   * A snapshot of `nodes` with the `pods` bound to them (`spec.nodeName`). Pods on nodes not in the list
   * and pods without a node are ignored; terminated pods (Succeeded, Failed) hold no resources and are
   * ignored too. Throws `BadRequest` for two nodes with the same name.
   */
  static fromObjects(nodes: readonly Node[], pods: readonly Pod[] = []): SchedulingSnapshot {
    const infos: SchedulerNodeInfo[] = [];
    const byName = new Map<string, SchedulerNodeInfo>();
    for (const [index, node] of nodes.entries()) {
      const info = new SchedulerNodeInfo(node);
      if (byName.has(info.name)) {
        throw errors.badRequest(`nodes[${index}].metadata.name: duplicate node name "${info.name}"`);
      }
      byName.set(info.name, info);
      infos.push(info);
    }
    for (const pod of pods) {
      const nodeName = pod.spec?.nodeName;
      if (!nodeName) continue;
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      byName.get(nodeName)?.addPod(new SchedulerPodInfo(pod));
    }
    return new SchedulingSnapshot(infos);
  }

  list(): readonly SchedulerNodeInfo[] {
    return this.#list;
  }

  get(nodeName: string): SchedulerNodeInfo | undefined {
    return this.#byName.get(nodeName);
  }

  /** Number of nodes. */
  get size(): number {
    return this.#list.length;
  }

  /** Nodes holding at least one pod with pod affinity or anti-affinity. */
  havePodsWithAffinityList(): readonly SchedulerNodeInfo[] {
    this.#refreshAffinityLists();
    return this.#havePodsWithAffinity!;
  }

  /** Nodes holding at least one pod with required pod anti-affinity. */
  havePodsWithRequiredAntiAffinityList(): readonly SchedulerNodeInfo[] {
    this.#refreshAffinityLists();
    return this.#havePodsWithRequiredAntiAffinity!;
  }

  #refreshAffinityLists(): void {
    const version = affinityPodsChangeCount();
    if (version === this.#affinityVersion && this.#havePodsWithAffinity) return;
    const withAffinity: SchedulerNodeInfo[] = [];
    const withAnti: SchedulerNodeInfo[] = [];
    for (const info of this.#list) {
      if (info.podsWithAffinity.length > 0) withAffinity.push(info);
      if (info.podsWithRequiredAntiAffinity.length > 0) withAnti.push(info);
    }
    this.#havePodsWithAffinity = withAffinity;
    this.#havePodsWithRequiredAntiAffinity = withAnti;
    this.#affinityVersion = version;
  }
}
