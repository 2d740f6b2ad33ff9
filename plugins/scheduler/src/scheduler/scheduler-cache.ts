// SPDX-License-Identifier: Apache-2.0
import {
  type Clock,
  type Logger,
  podKey,
  SchedulerNodeInfo,
  SchedulerPodInfo,
  SchedulingSnapshot,
  SystemClock,
} from '@cpkit/core';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';

/** Options of a {@link SchedulerCache}. @category Scheduler */
export interface SchedulerCacheOptions {
  clock?: Clock;
  /**
   * How long an assumed pod whose binding finished may wait for the informer to show it bound before it
   * is dropped (its binding was lost). Default 15 minutes, as upstream.
   */
  assumedPodTtlMs?: number;
  logger?: Logger;
}

interface PodState {
  pod: Pod;
  nodeName: string;
  assumed: boolean;
  /** Epoch ms after which an assumed pod whose binding finished is dropped. */
  deadline: number | undefined;
}

function isTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/**
 * What the scheduler knows about nodes and the pods on them, including **assumed** pods: a pod counts
 * against its node from the moment the scheduler chose the node (Reserve) until the informer shows it
 * bound (confirmed), its binding fails ({@link SchedulerCache.forgetPod}), or it expires because its
 * binding was never observed.
 *
 * The cache hands out its own {@link SchedulingSnapshot}: the NodeInfos themselves, not copies. That is
 * safe because the cache never changes while a scheduling cycle runs: between
 * {@link SchedulerCache.beginCycle} and {@link SchedulerCache.endCycle}, informer events and binding
 * results are queued and applied when the cycle ends (or when the next one begins), so a cycle sees one
 * consistent state however long its plugins await. Only changed NodeInfos change, the snapshot object is
 * rebuilt only when nodes come or go, and the pod being scheduled is assumed between cycles.
 * @category Scheduler
 */
export class SchedulerCache {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly logger: Logger | undefined;
  private readonly nodes = new Map<string, SchedulerNodeInfo>();
  private readonly pods = new Map<string, PodState>();
  /** Pods bound to nodes the cache does not know (yet): added when the node arrives. */
  private readonly orphans = new Map<string, Map<string, Pod>>();
  /** Assumed pods whose binding finished: the only ones that can expire. */
  private readonly expiring = new Set<string>();
  private pending: Array<() => void> = [];
  private inCycle = false;
  private lastCleanup = Number.NEGATIVE_INFINITY;
  private current: SchedulingSnapshot | undefined;

  constructor(options: SchedulerCacheOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.ttlMs = options.assumedPodTtlMs ?? 15 * 60_000;
    this.logger = options.logger;
  }

  /**
   * Starts a scheduling cycle: applies queued changes, drops expired assumed pods and returns the
   * snapshot the cycle works on. Until {@link SchedulerCache.endCycle}, changes are queued.
   */
  beginCycle(): SchedulingSnapshot {
    this.flush();
    // Expiry is a safety net measured in minutes: checking once a second is plenty (as upstream).
    const now = this.clock.now();
    if (now - this.lastCleanup >= 1000) {
      this.lastCleanup = now;
      this.cleanupExpiredAssumedPods();
    }
    this.inCycle = true;
    return this.snapshot();
  }

  /** Ends the cycle and applies what was queued meanwhile. */
  endCycle(): void {
    this.inCycle = false;
    this.flush();
  }

  /** The current snapshot (rebuilt only after nodes were added or removed). */
  snapshot(): SchedulingSnapshot {
    this.current ??= new SchedulingSnapshot([...this.nodes.values()]);
    return this.current;
  }

  /** Number of nodes, and of pods (bound and assumed). */
  counts(): { nodes: number; pods: number; assumed: number } {
    let assumed = 0;
    for (const state of this.pods.values()) if (state.assumed) assumed++;
    return { nodes: this.nodes.size, pods: this.pods.size, assumed };
  }

  /** True while `pod` is assumed (chosen, binding not yet observed). */
  isAssumed(pod: Pod): boolean {
    return this.pods.get(podKey(pod))?.assumed === true;
  }

  // --- the scheduler's own changes -----------------------------------------------------------

  /**
   * Counts `pod` against `nodeName` now (called between cycles, right after the cycle chose the node).
   * The pod stays assumed until the informer shows it bound.
   */
  assumePod(pod: Pod, nodeName: string): void {
    const key = podKey(pod);
    if (this.pods.has(key)) return;
    const assumed: Pod = { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName } };
    this.pods.set(key, { pod: assumed, nodeName, assumed: true, deadline: undefined });
    this.addToNode(assumed, nodeName);
  }

  /** The binding of an assumed pod completed: from now on it expires if its binding is never observed. */
  finishBinding(pod: Pod): void {
    this.apply(() => {
      const state = this.pods.get(podKey(pod));
      if (!state?.assumed) return;
      state.deadline = this.clock.now() + this.ttlMs;
      this.expiring.add(podKey(pod));
    });
  }

  /** The binding failed (or the pod was rejected after Reserve): the assumed pod no longer counts. */
  forgetPod(pod: Pod): void {
    this.apply(() => {
      const key = podKey(pod);
      const state = this.pods.get(key);
      if (!state?.assumed) return;
      this.pods.delete(key);
      this.removeFromNode(state.pod, state.nodeName);
    });
  }

  // --- informer events -----------------------------------------------------------------------

  /** A pod with `spec.nodeName` appeared: confirms an assumed pod, or adds it. */
  addPod(pod: Pod): void {
    this.apply(() => this.upsertPod(pod));
  }

  /** An assigned pod changed. */
  updatePod(pod: Pod): void {
    this.apply(() => this.upsertPod(pod));
  }

  /** An assigned pod was deleted. */
  removePod(pod: Pod): void {
    this.apply(() => {
      const key = podKey(pod);
      const state = this.pods.get(key);
      if (!state) {
        this.orphans.get(pod.spec?.nodeName ?? '')?.delete(key);
        return;
      }
      this.pods.delete(key);
      this.removeFromNode(state.pod, state.nodeName);
    });
  }

  addNode(node: Node): void {
    this.apply(() => this.upsertNode(node));
  }

  updateNode(node: Node): void {
    this.apply(() => this.upsertNode(node));
  }

  removeNode(node: Node): void {
    this.apply(() => {
      const name = node.metadata?.name ?? '';
      const info = this.nodes.get(name);
      if (!info) return;
      this.nodes.delete(name);
      this.current = undefined;
      // Its pods wait for the node to come back (or for their own deletion).
      const waiting = new Map<string, Pod>();
      for (const podInfo of info.pods) waiting.set(podKey(podInfo.pod), podInfo.pod);
      if (waiting.size > 0) this.orphans.set(name, waiting);
    });
  }

  /** Drops assumed pods whose binding finished longer than the TTL ago without being observed. */
  cleanupExpiredAssumedPods(): void {
    if (this.expiring.size === 0) return;
    const now = this.clock.now();
    for (const key of this.expiring) {
      const state = this.pods.get(key);
      if (!state?.assumed) {
        this.expiring.delete(key);
        continue;
      }
      if (state.deadline === undefined || state.deadline > now) continue;
      this.expiring.delete(key);
      this.logger?.warn(
        { pod: `${state.pod.metadata?.namespace}/${state.pod.metadata?.name}`, node: state.nodeName },
        'assumed pod expired: its binding was never observed',
      );
      this.pods.delete(key);
      this.removeFromNode(state.pod, state.nodeName);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private apply(change: () => void): void {
    if (this.inCycle) this.pending.push(change);
    else change();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const changes = this.pending;
    this.pending = [];
    for (const change of changes) change();
  }

  private upsertPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName;
    const state = this.pods.get(key);
    if (!nodeName || isTerminated(pod)) {
      // Terminated pods hold no resources.
      if (state) {
        this.pods.delete(key);
        this.removeFromNode(state.pod, state.nodeName);
      }
      this.orphans.get(nodeName ?? '')?.delete(key);
      return;
    }
    if (state) this.removeFromNode(state.pod, state.nodeName);
    this.pods.set(key, { pod, nodeName, assumed: false, deadline: undefined });
    this.addToNode(pod, nodeName);
  }

  private upsertNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const info = this.nodes.get(name);
    if (info) {
      try {
        info.setNode(node);
      } catch (error) {
        this.logger?.error({ err: error, node: name }, 'cannot read the node; keeping its previous state');
      }
      return;
    }
    let created: SchedulerNodeInfo;
    try {
      created = new SchedulerNodeInfo(node);
    } catch (error) {
      this.logger?.error({ err: error, node: name }, 'cannot read the node; it is not scheduled on');
      return;
    }
    this.nodes.set(name, created);
    this.current = undefined;
    const waiting = this.orphans.get(name);
    if (waiting) {
      this.orphans.delete(name);
      for (const pod of waiting.values()) this.addPodInfo(created, pod);
    }
  }

  private addToNode(pod: Pod, nodeName: string): void {
    const info = this.nodes.get(nodeName);
    if (info) {
      this.addPodInfo(info, pod);
      return;
    }
    let waiting = this.orphans.get(nodeName);
    if (!waiting) {
      waiting = new Map();
      this.orphans.set(nodeName, waiting);
    }
    waiting.set(podKey(pod), pod);
  }

  private addPodInfo(info: SchedulerNodeInfo, pod: Pod): void {
    try {
      info.addPod(new SchedulerPodInfo(pod));
    } catch (error) {
      // An unreadable request (the registry let it through) must not stop the informer.
      this.logger?.error(
        { err: error, pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` },
        'cannot account for the pod on its node',
      );
    }
  }

  private removeFromNode(pod: Pod, nodeName: string): void {
    const info = this.nodes.get(nodeName);
    if (info) info.removePod(pod);
    else {
      const waiting = this.orphans.get(nodeName);
      waiting?.delete(podKey(pod));
      if (waiting?.size === 0) this.orphans.delete(nodeName);
    }
  }
}
