// SPDX-License-Identifier: Apache-2.0
import {
  type CancelTimer,
  type Clock,
  podKey,
  type QueuedPodInfo,
  type SchedulingStatus,
  SystemClock,
} from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { KeyedHeap } from './keyed-heap.js';

/**
 * The cluster events that can make an unschedulable pod schedulable; each moves the unschedulable pods
 * back to the active queue (or to the backoff queue while they back off), as upstream's queue does.
 * @category Scheduler
 */
export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeUpdate'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'UnschedulableTimeout';

/** Options of a {@link SchedulingQueue}. @category Scheduler */
export interface SchedulingQueueOptions {
  /** The profile's QueueSort: true when `a` goes before `b`. */
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
  /**
   * The PreEnqueue plugins of the pod's profile, run before the pod enters the active queue. Anything
   * but Success keeps the pod gated (in the unschedulable pool) until an update or an event lets it pass.
   */
  preEnqueue?(pod: Pod): SchedulingStatus;
  clock?: Clock;
  /** Backoff after the first failed attempt; doubles per attempt. Default 1000 ms. */
  podInitialBackoffMs?: number;
  /** Longest backoff. Default 10000 ms. */
  podMaxBackoffMs?: number;
  /** A pod unschedulable for longer than this goes back to the active queue anyway. Default 5 minutes. */
  podMaxInUnschedulablePodsDurationMs?: number;
}

/** How many pods wait where (the `queue` label of `scheduler_pending_pods`). @category Scheduler */
export interface PendingPodCounts {
  active: number;
  backoff: number;
  unschedulable: number;
  gated: number;
}

/**
 * A pod in the scheduling queue: the {@link QueuedPodInfo} QueueSort sees, plus the queue's bookkeeping.
 * @category Scheduler
 */
export class QueuedPod implements QueuedPodInfo {
  /** The uid the queue knows the pod by. */
  readonly uid: string;
  /** Plugins that rejected the pod in its last attempt (informational, for logs and events). */
  unschedulablePlugins = new Set<string>();
  /** True while a PreEnqueue plugin holds the pod back. */
  gated = false;
  /** The PreEnqueue plugin that holds it, and why. */
  gatedBy: SchedulingStatus | undefined;
  /** Set when the pod was deleted while a scheduling cycle had it. */
  deleted = false;

  constructor(
    public pod: Pod,
    public timestamp: number,
    public attempts = 0,
    public initialAttemptTimestamp = timestamp,
  ) {
    this.uid = podKey(pod);
  }
}

const oneSecond = 1000;
const noPods: readonly Pod[] = Object.freeze([]);
const unschedulableFlushIntervalMs = 30 * oneSecond;

/**
 * The scheduling queue, shaped like upstream's priority queue:
 *
 * - **activeQ**: pods ready to be scheduled, ordered by the profile's QueueSort (priority, then arrival
 *   for PrioritySort); {@link SchedulingQueue.pop} waits for one.
 * - **backoffQ**: pods that failed and wait out their backoff, `initial · 2^(attempts−1)` capped at the
 *   maximum (1 s → 10 s by default), then move to activeQ by themselves.
 * - **unschedulablePods**: pods no node could take. They move back on a {@link ClusterEvent} that could
 *   help (into backoffQ while still backing off), and after 5 minutes regardless. Pods held by PreEnqueue
 *   (scheduling gates) wait here too, until an update of the pod lets them pass.
 *
 * A pod whose scheduling attempt is under way is "in flight": if an event moved pods while it was being
 * scheduled, a failure sends it to backoffQ rather than to unschedulablePods (the event may have helped).
 * Nominated pods (`status.nominatedNodeName`) are tracked per node for the framework.
 * @category Scheduler
 */
export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly activeQ: KeyedHeap<QueuedPod>;
  private readonly backoffQ: KeyedHeap<QueuedPod>;
  private readonly unschedulable = new Map<string, QueuedPod>();
  private readonly inFlight = new Map<string, QueuedPod>();
  private readonly nominatedByNode = new Map<string, Map<string, Pod>>();
  private readonly nominatedNode = new Map<string, string>();
  private waiters: Array<(pod: QueuedPod | undefined) => void> = [];
  private schedulingCycle = 0;
  private moveRequestCycle = -1;
  private backoffTimer: { due: number; cancel: CancelTimer } | undefined;
  private flushTimer: CancelTimer | undefined;
  private closed = false;

  constructor(private readonly options: SchedulingQueueOptions) {
    this.clock = options.clock ?? new SystemClock();
    this.initialBackoffMs = options.podInitialBackoffMs ?? oneSecond;
    this.maxBackoffMs = options.podMaxBackoffMs ?? 10 * oneSecond;
    this.maxUnschedulableMs = options.podMaxInUnschedulablePodsDurationMs ?? 5 * 60 * oneSecond;
    this.activeQ = new KeyedHeap(
      (p) => p.uid,
      (a, b) => options.less(a, b),
    );
    this.backoffQ = new KeyedHeap(
      (p) => p.uid,
      (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
    );
    this.scheduleUnschedulableFlush();
  }

  /** The current scheduling cycle (incremented by every pop). */
  get cycle(): number {
    return this.schedulingCycle;
  }

  /** Adds a new unscheduled pod (informer add). */
  add(pod: Pod): void {
    if (this.closed) return;
    const key = podKey(pod);
    if (this.inFlight.has(key) || this.find(key)) {
      this.update(pod, pod);
      return;
    }
    this.updateNominated(pod);
    this.moveToActive(new QueuedPod(pod, this.clock.now()));
  }

  /** The pod changed (informer update of an unscheduled pod). */
  update(oldPod: Pod, pod: Pod): void {
    if (this.closed) return;
    const key = podKey(pod);
    this.updateNominated(pod);
    const flying = this.inFlight.get(key);
    if (flying) {
      flying.pod = pod;
      return;
    }
    const active = this.activeQ.get(key);
    if (active) {
      active.pod = pod;
      this.activeQ.addOrUpdate(active);
      return;
    }
    const backingOff = this.backoffQ.get(key);
    if (backingOff) {
      backingOff.pod = pod;
      this.backoffQ.addOrUpdate(backingOff);
      return;
    }
    const parked = this.unschedulable.get(key);
    if (parked) {
      parked.pod = pod;
      // A gated pod re-runs PreEnqueue on every update; an unschedulable one moves when its spec or
      // metadata changed (a status-only update cannot make it fit).
      if (parked.gated || podChangedBeyondStatus(oldPod, pod)) {
        this.unschedulable.delete(key);
        this.requeue(parked);
      }
      return;
    }
    this.add(pod);
  }

  /** The pod was deleted or got assigned: it leaves every queue. */
  delete(pod: Pod): void {
    const key = podKey(pod);
    this.removeNominated(key);
    const flying = this.inFlight.get(key);
    if (flying) flying.deleted = true;
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    this.unschedulable.delete(key);
  }

  /**
   * Waits for the next pod of the active queue; resolves `undefined` when `signal` aborts or the queue
   * closes. The pod is in flight until {@link SchedulingQueue.done} or
   * {@link SchedulingQueue.requeueAfterFailure}.
   */
  pop(signal?: AbortSignal): Promise<QueuedPod | undefined> {
    const next = this.activeQ.pop();
    if (next) return Promise.resolve(this.takeOff(next));
    if (this.closed || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      };
      const waiter = (pod: QueuedPod | undefined): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(pod);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** The in-flight pod's attempt ended without returning it to the queue (assumed, or gone). */
  done(uid: string): void {
    this.inFlight.delete(uid);
  }

  /**
   * Puts back a pod whose attempt failed in scheduling cycle `podCycle`: an `Error` goes to backoffQ; an
   * unschedulable pod goes to unschedulablePods, or to backoffQ when a cluster event moved pods since
   * its attempt began. Nothing happens when the pod was deleted meanwhile or is queued already.
   */
  requeueAfterFailure(info: QueuedPod, podCycle: number, error: boolean): void {
    this.inFlight.delete(info.uid);
    if (this.closed || info.deleted || this.find(info.uid)) return;
    info.timestamp = this.clock.now();
    if (error || this.moveRequestCycle >= podCycle) this.requeue(info);
    else this.unschedulable.set(info.uid, info);
  }

  /**
   * A cluster event that could make unschedulable pods schedulable: every pod in unschedulablePods moves
   * to activeQ, or to backoffQ while it still backs off.
   */
  moveAllToActiveOrBackoffQueue(_event: ClusterEvent): void {
    this.moveRequestCycle = this.schedulingCycle;
    if (this.unschedulable.size === 0) return;
    const pods = [...this.unschedulable.values()];
    this.unschedulable.clear();
    for (const pod of pods) this.requeue(pod);
  }

  /** The pods nominated to `nodeName` (by preemption or `status.nominatedNodeName`). */
  nominatedPodsForNode(nodeName: string): readonly Pod[] {
    const pods = this.nominatedByNode.get(nodeName);
    // Asked for every node of every cycle: no allocation when nothing is nominated there.
    return pods ? [...pods.values()] : noPods;
  }

  /** Records that `pod` is nominated to `nodeName` (PostFilter result); `undefined` clears it. */
  setNominatedNode(pod: Pod, nodeName: string | undefined): void {
    const key = podKey(pod);
    this.removeNominated(key);
    if (!nodeName) return;
    this.nominatedNode.set(key, nodeName);
    let pods = this.nominatedByNode.get(nodeName);
    if (!pods) {
      pods = new Map();
      this.nominatedByNode.set(nodeName, pods);
    }
    pods.set(key, pod);
  }

  /** Pods per sub-queue, for `scheduler_pending_pods`. */
  pendingCounts(): PendingPodCounts {
    let gated = 0;
    for (const pod of this.unschedulable.values()) if (pod.gated) gated++;
    return {
      active: this.activeQ.size,
      backoff: this.backoffQ.size,
      unschedulable: this.unschedulable.size - gated,
      gated,
    };
  }

  /** Where the pod with this uid waits, if anywhere (`inFlight` while being scheduled). */
  whereIs(uid: string): 'active' | 'backoff' | 'unschedulable' | 'gated' | 'inFlight' | undefined {
    if (this.inFlight.has(uid)) return 'inFlight';
    if (this.activeQ.has(uid)) return 'active';
    if (this.backoffQ.has(uid)) return 'backoff';
    const parked = this.unschedulable.get(uid);
    if (parked) return parked.gated ? 'gated' : 'unschedulable';
    return undefined;
  }

  /** How long a pod that failed `attempts` times backs off. */
  backoffDurationMs(attempts: number): number {
    let duration = this.initialBackoffMs;
    for (let i = 1; i < attempts && duration < this.maxBackoffMs; i++) duration *= 2;
    return Math.min(duration, this.maxBackoffMs);
  }

  /** Stops the timers and wakes waiting pops with `undefined`. */
  close(): void {
    this.closed = true;
    this.backoffTimer?.cancel();
    this.backoffTimer = undefined;
    this.flushTimer?.();
    this.flushTimer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter(undefined);
  }

  // ---------------------------------------------------------------------------------------------

  private find(key: string): QueuedPod | undefined {
    return this.activeQ.get(key) ?? this.backoffQ.get(key) ?? this.unschedulable.get(key);
  }

  private takeOff(pod: QueuedPod): QueuedPod {
    this.schedulingCycle++;
    pod.attempts++;
    this.inFlight.set(pod.uid, pod);
    return pod;
  }

  private backoffExpiry(pod: QueuedPod): number {
    return pod.timestamp + this.backoffDurationMs(pod.attempts);
  }

  /** To backoffQ while the pod backs off, else to activeQ (through PreEnqueue). */
  private requeue(pod: QueuedPod): void {
    if (pod.attempts > 0 && this.backoffExpiry(pod) > this.clock.now()) {
      this.backoffQ.addOrUpdate(pod);
      this.armBackoffTimer();
    } else {
      this.moveToActive(pod);
    }
  }

  private moveToActive(pod: QueuedPod): void {
    const status = this.options.preEnqueue?.(pod.pod);
    if (status && !status.isSuccess()) {
      pod.gated = true;
      pod.gatedBy = status;
      this.unschedulable.set(pod.uid, pod);
      return;
    }
    pod.gated = false;
    pod.gatedBy = undefined;
    const waiter = this.waiters.shift();
    if (waiter) waiter(this.takeOff(pod));
    else this.activeQ.addOrUpdate(pod);
  }

  private armBackoffTimer(): void {
    const first = this.backoffQ.peek();
    if (!first || this.closed) return;
    const due = this.backoffExpiry(first);
    if (this.backoffTimer && this.backoffTimer.due <= due) return;
    this.backoffTimer?.cancel();
    const cancel = this.clock.setTimeout(
      () => {
        this.backoffTimer = undefined;
        this.flushBackoffQ();
      },
      Math.max(0, due - this.clock.now()),
    );
    this.backoffTimer = { due, cancel };
  }

  private flushBackoffQ(): void {
    const now = this.clock.now();
    for (;;) {
      const first = this.backoffQ.peek();
      if (!first || this.backoffExpiry(first) > now) break;
      this.backoffQ.pop();
      this.moveToActive(first);
    }
    this.armBackoffTimer();
  }

  private scheduleUnschedulableFlush(): void {
    if (this.closed) return;
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushUnschedulableLeftover();
      this.scheduleUnschedulableFlush();
    }, unschedulableFlushIntervalMs);
  }

  /** Pods unschedulable for longer than the maximum go back (upstream's flushUnschedulablePodsLeftover). */
  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    for (const [key, pod] of this.unschedulable) {
      if (pod.gated || now - pod.timestamp < this.maxUnschedulableMs) continue;
      this.unschedulable.delete(key);
      this.requeue(pod);
    }
  }

  private updateNominated(pod: Pod): void {
    const nominated = pod.status?.nominatedNodeName;
    if (nominated) this.setNominatedNode(pod, nominated);
    else if (this.nominatedNode.has(podKey(pod))) {
      // Keep a nomination the scheduler made itself until the pod's status says otherwise.
      const node = this.nominatedNode.get(podKey(pod)) as string;
      this.nominatedByNode.get(node)?.set(podKey(pod), pod);
    }
  }

  private removeNominated(key: string): void {
    const node = this.nominatedNode.get(key);
    if (node === undefined) return;
    this.nominatedNode.delete(key);
    const pods = this.nominatedByNode.get(node);
    pods?.delete(key);
    if (pods && pods.size === 0) this.nominatedByNode.delete(node);
  }
}

/** True when something other than status and server bookkeeping changed. */
function podChangedBeyondStatus(oldPod: Pod, pod: Pod): boolean {
  const strip = (p: Pod): string =>
    JSON.stringify({
      spec: p.spec,
      labels: p.metadata?.labels,
      annotations: p.metadata?.annotations,
    });
  return strip(oldPod) !== strip(pod);
}
