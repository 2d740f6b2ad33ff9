// SPDX-License-Identifier: Apache-2.0
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { KindReference, KubeObject } from '../api/object.js';
import type { CacheReader } from '../informers/indexed-cache.js';
import type { Logger } from '../observability/logger.js';
import type { ApiClient } from './api-client.js';

/**
 * Service identifier under which scheduler plugins are contributed: bind a {@link SchedulerPlugin}
 * registration (`{ name, factory }`) to it; a scheduler profile then decides which registered plugins
 * run at which extension point. The registry (name → factory) is kept apart from the profile, as in the
 * Kubernetes scheduling framework.
 * @category Contracts
 */
export const SchedulerPlugin = Symbol.for('cpkit.SchedulerPlugin');

/** The highest score a Score plugin may give a node after normalization. @category Contracts */
export const MaxNodeScore = 100;
/** The lowest score a Score plugin may give a node. @category Contracts */
export const MinNodeScore = 0;

/**
 * Status codes, as the scheduling framework defines them.
 * - `Success`: the plugin ran and the pod may proceed.
 * - `Error`: an internal failure (not the pod's fault); the pod is retried with backoff.
 * - `Unschedulable`: the pod does not fit now, but preemption (PostFilter) or a cluster change may help.
 * - `UnschedulableAndUnresolvable`: the pod does not fit and preemption cannot help on this node.
 * - `Wait`: (Permit only) hold the pod until a plugin allows or rejects it, or the timeout passes.
 * - `Skip`: the plugin has nothing to do for this pod (PreFilter/PreScore: its Filter/Score are skipped
 *   for this cycle; Bind: let the next Bind plugin bind).
 * - `Pending`: the pod is waiting for something outside the scheduler (PreEnqueue, Permit); it is not
 *   counted as a failure.
 * @category Contracts
 */
export type SchedulingStatusCode =
  | 'Success'
  | 'Error'
  | 'Unschedulable'
  | 'UnschedulableAndUnresolvable'
  | 'Wait'
  | 'Skip'
  | 'Pending';

/**
 * The result of every extension-point call: a code, human-readable reasons and the plugin that produced
 * it. Expected outcomes (the pod does not fit, wait, skip) are returned, never thrown; a throw from a
 * plugin is treated by the framework as `Error`. Instances are immutable.
 * @category Contracts
 */
export class SchedulingStatus {
  private static readonly successInstance = new SchedulingStatus('Success');

  /**
   * @param code what happened.
   * @param reasons why, one entry per reason, e.g. `Insufficient cpu`.
   * @param plugin the plugin that returned this status (the framework fills it in when absent).
   * @param cause the underlying error of an `Error` status.
   */
  constructor(
    readonly code: SchedulingStatusCode,
    readonly reasons: readonly string[] = [],
    readonly plugin?: string,
    readonly cause?: unknown,
  ) {
    Object.freeze(this.reasons);
  }

  /** The shared Success status. */
  static success(): SchedulingStatus {
    return SchedulingStatus.successInstance;
  }

  /** An internal failure; `error` may be an Error (kept as `cause`) or a message. */
  static error(error: unknown, plugin?: string): SchedulingStatus {
    const message = error instanceof Error ? error.message : String(error);
    return new SchedulingStatus('Error', [message], plugin, error instanceof Error ? error : undefined);
  }

  static unschedulable(...reasons: string[]): SchedulingStatus {
    return new SchedulingStatus('Unschedulable', reasons);
  }

  static unschedulableAndUnresolvable(...reasons: string[]): SchedulingStatus {
    return new SchedulingStatus('UnschedulableAndUnresolvable', reasons);
  }

  static wait(...reasons: string[]): SchedulingStatus {
    return new SchedulingStatus('Wait', reasons);
  }

  static skip(): SchedulingStatus {
    return new SchedulingStatus('Skip');
  }

  static pending(...reasons: string[]): SchedulingStatus {
    return new SchedulingStatus('Pending', reasons);
  }

  isSuccess(): boolean {
    return this.code === 'Success';
  }

  isWait(): boolean {
    return this.code === 'Wait';
  }

  isSkip(): boolean {
    return this.code === 'Skip';
  }

  /** True for the codes that reject the pod: Unschedulable, UnschedulableAndUnresolvable and Pending. */
  isRejected(): boolean {
    return (
      this.code === 'Unschedulable' || this.code === 'UnschedulableAndUnresolvable' || this.code === 'Pending'
    );
  }

  /** A copy naming `plugin` as the one that produced the status. */
  withPlugin(plugin: string): SchedulingStatus {
    return plugin === this.plugin ? this : new SchedulingStatus(this.code, this.reasons, plugin, this.cause);
  }

  /** The reasons joined with `, `, as the scheduler writes them into the pod's condition. */
  message(): string {
    return this.reasons.join(', ');
  }

  toString(): string {
    const parts: string[] = [this.code];
    if (this.plugin) parts.push(`plugin ${this.plugin}`);
    if (this.reasons.length > 0) parts.push(this.message());
    return parts.join(': ');
  }
}

/**
 * A typed key into {@link CycleState}. Create one per kind of data, once, at module level:
 * `const preFilterStateKey = new StateKey<FitState>('PreFilterNodeResourcesFit')`.
 * @category Contracts
 */
export class StateKey<T> {
  // Phantom field so that StateKey<A> and StateKey<B> are different types.
  declare readonly valueType?: T;
  constructor(readonly name: string) {}
}

/** Data that knows how to copy itself when a {@link CycleState} is cloned. @category Contracts */
export interface CloneableStateData {
  clone(): this;
}

function isCloneable(value: unknown): value is CloneableStateData {
  return (
    typeof value === 'object' && value !== null && typeof (value as CloneableStateData).clone === 'function'
  );
}

/**
 * Per-pod, per-scheduling-cycle state: Pre* phases compute data once and later phases read it. Only
 * lives for one cycle. Writes are not synchronized: the framework runs a plugin's Filter for many nodes
 * concurrently, so those must only read.
 * @category Contracts
 */
export class CycleState {
  private readonly data = new Map<StateKey<unknown>, unknown>();
  /** Plugins whose Filter is skipped this cycle (their PreFilter returned Skip). */
  readonly skipFilterPlugins = new Set<string>();
  /** Plugins whose Score is skipped this cycle (their PreScore returned Skip). */
  readonly skipScorePlugins = new Set<string>();
  /**
   * Whether plugin execution times are recorded this cycle. The framework samples a share of cycles
   * (as upstream's `scheduler_plugin_execution_duration_seconds` does) to keep timing off the hot path.
   */
  recordPluginMetrics = false;

  /** The value stored under `key`, or `undefined` when nothing was written. */
  read<T>(key: StateKey<T>): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write<T>(key: StateKey<T>, value: T): void {
    this.data.set(key, value);
  }

  has(key: StateKey<unknown>): boolean {
    return this.data.has(key);
  }

  delete(key: StateKey<unknown>): void {
    this.data.delete(key);
  }

  /**
   * A copy for what-if evaluations (preemption). Values with a `clone()` method are cloned; other values
   * are shared, so store immutable data or implement {@link CloneableStateData}.
   */
  clone(): CycleState {
    const copy = new CycleState();
    for (const [key, value] of this.data) copy.data.set(key, isCloneable(value) ? value.clone() : value);
    for (const name of this.skipFilterPlugins) copy.skipFilterPlugins.add(name);
    for (const name of this.skipScorePlugins) copy.skipScorePlugins.add(name);
    copy.recordPluginMetrics = this.recordPluginMetrics;
    return copy;
  }
}

/**
 * Amounts of resources in the scheduler's internal units: CPU in millicores, memory and ephemeral storage
 * in bytes, pods as a count, extended resources (`nvidia.com/gpu`, hugepages) by name in their integer units.
 * @category Contracts
 */
export interface SchedulingResources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Allocatable pod slots (for `allocatable`) or pods counted (for `requested`). */
  pods: number;
  scalar: Readonly<Record<string, number>>;
}

/** A pod as the scheduler caches it; implementations may add precomputed data. @category Contracts */
export interface PodInfo {
  readonly pod: Pod;
}

/** A pod waiting in the scheduling queue, as QueueSort sees it. @category Contracts */
export interface QueuedPodInfo extends PodInfo {
  /** Epoch milliseconds at which the pod was (re-)added to the queue. */
  readonly timestamp: number;
  /** How many times scheduling was attempted. */
  readonly attempts: number;
  /** Epoch milliseconds of the first time the pod entered the queue. */
  readonly initialAttemptTimestamp: number;
}

/** A host port in use on a node. @category Contracts */
export interface UsedHostPort {
  hostIP: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
}

/**
 * A node together with what the scheduler knows about it: the pods assigned (or assumed) to it and the
 * resources they request. Read-only for plugins; the framework's snapshot owns it.
 * @category Contracts
 */
export interface NodeInfo {
  readonly node: Node;
  /** `node.metadata.name`. */
  readonly name: string;
  readonly pods: readonly PodInfo[];
  /** The node's allocatable resources. */
  readonly allocatable: Readonly<SchedulingResources>;
  /** Sum of the requests of {@link NodeInfo.pods} (pods counts them). */
  readonly requested: Readonly<SchedulingResources>;
  /**
   * Like `requested`, but a container without a CPU or memory request counts a small default (100m CPU,
   * 200 MiB), so scoring spreads best-effort pods.
   */
  readonly nonZeroRequested: Readonly<SchedulingResources>;
  readonly usedPorts: readonly UsedHostPort[];
  /** Increases whenever this NodeInfo changes; lets plugins cache per-node computations. */
  readonly generation: number;
  /**
   * The subset of {@link NodeInfo.pods} with any pod affinity or anti-affinity (required or preferred).
   * Optional: InterPodAffinity scans {@link NodeInfo.pods} when absent.
   */
  readonly podsWithAffinity?: readonly PodInfo[];
  /**
   * The subset of {@link NodeInfo.pods} with required pod anti-affinity terms. Optional: InterPodAffinity
   * scans {@link NodeInfo.pods} when absent.
   */
  readonly podsWithRequiredAntiAffinity?: readonly PodInfo[];
}

/** Read access to the nodes of the current scheduling snapshot. @category Contracts */
export interface NodeInfoLister {
  list(): readonly NodeInfo[];
  /** The node's info, or `undefined` when the snapshot has no such node. */
  get(nodeName: string): NodeInfo | undefined;
  /**
   * The nodes whose {@link NodeInfo.podsWithAffinity} is not empty. Optional: a speed-up for
   * InterPodAffinity, which otherwise scans every node.
   */
  havePodsWithAffinityList?(): readonly NodeInfo[];
  /**
   * The nodes whose {@link NodeInfo.podsWithRequiredAntiAffinity} is not empty. Optional, as
   * {@link NodeInfoLister.havePodsWithAffinityList}.
   */
  havePodsWithRequiredAntiAffinityList?(): readonly NodeInfo[];
}

/**
 * Cached, read-only views of other resource kinds, shared by the scheduler's plugins (as upstream's
 * informer factory). PodTopologySpread reads Services, ReplicationControllers, ReplicaSets and
 * StatefulSets for its default constraints; InterPodAffinity reads Namespaces for `namespaceSelector`.
 * @category Contracts
 */
export interface SchedulingObjectListers {
  /** The cache of `kind` (a kind name such as `'Service'` or a plural resource such as `'replicasets.apps'`). */
  forKind<T extends KubeObject = KubeObject>(kind: KindReference): CacheReader<T>;
}

/** A pod held at Permit. @category Contracts */
export interface WaitingPod {
  readonly pod: Pod;
  /** Names of the Permit plugins that still have to allow it. */
  pendingPlugins(): string[];
  /** `plugin` allows the pod; once every waiting plugin allowed it, binding proceeds. */
  allow(plugin: string): void;
  /** Rejects the pod: it goes back to the queue as unschedulable with `message`. */
  reject(plugin: string, message: string): void;
}

/**
 * What the framework gives plugins at construction: access to the API, the snapshot, waiting pods, and the
 * means to re-run filters (preemption needs them).
 * @category Contracts
 */
export interface SchedulingFrameworkHandle {
  readonly apiClient: ApiClient;
  /** The scheduler's logger, already a child named after the profile. */
  readonly logger: Logger;
  /** The snapshot of nodes the current cycle works on. */
  nodeInfos(): NodeInfoLister;
  /** The waiting pod with this uid, if it is waiting at Permit. */
  getWaitingPod(uid: string): WaitingPod | undefined;
  /** Rejects the waiting pod with this uid; returns false if no such pod waits. */
  rejectWaitingPod(uid: string, plugin: string, message: string): boolean;
  /** Runs every Filter plugin of the profile for `pod` on `nodeInfo` (for preemption's what-ifs). */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus;
  /**
   * Runs the profile's PreFilter AddPod extensions: updates `state` (a clone, for what-ifs) as if
   * `podInfo` were added to `nodeInfo`. Optional (preemption then skips the incremental update).
   */
  runPreFilterExtensionAddPod?(
    state: CycleState,
    pod: Pod,
    podInfo: PodInfo,
    nodeInfo: NodeInfo,
  ): SchedulingStatus;
  /**
   * Runs the profile's PreFilter RemovePod extensions: updates `state` (a clone, for what-ifs) as if
   * `podInfo` were removed from `nodeInfo`. Optional, as {@link SchedulingFrameworkHandle.runPreFilterExtensionAddPod}.
   */
  runPreFilterExtensionRemovePod?(
    state: CycleState,
    pod: Pod,
    podInfo: PodInfo,
    nodeInfo: NodeInfo,
  ): SchedulingStatus;
  /**
   * The pods nominated to `nodeName` (by an earlier preemption) and not bound yet. Optional: absent means
   * the scheduler tracks no nominations.
   */
  nominatedPodsForNode?(nodeName: string): readonly PodInfo[];
  /** Number of nodes the framework evaluates concurrently. */
  readonly parallelism: number;
  /**
   * Cached views of other kinds (Services, ReplicaSets, Namespaces, ...). Optional: plugins that use them
   * behave as if no such objects existed when absent (PodTopologySpread then applies no default
   * constraints; InterPodAffinity's `namespaceSelector` then matches only when it is empty).
   */
  readonly objectListers?: SchedulingObjectListers;
}

/**
 * The smallest plugin: a name. Plugin names are PascalCase rule nouns (`NodeResourcesFit`,
 * `TaintToleration`) and unique within a scheduler. A plugin implements one or more of the extension-point
 * interfaces below.
 * @category Contracts
 */
export interface SchedulingPlugin {
  readonly name: string;
}

/** A value or a promise of it. Hot-path hooks (Filter, Score) are synchronous on purpose. @category Contracts */
export type Awaitable<T> = T | Promise<T>;

/** Orders the scheduling queue. Exactly one QueueSort plugin is enabled per scheduler. @category Contracts */
export interface QueueSortPlugin extends SchedulingPlugin {
  /** True when `a` should be scheduled before `b`. */
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

/**
 * Gates a pod before it enters the active queue. Anything but Success keeps the pod out (unschedulable
 * pods pool) until a relevant change.
 * @category Contracts
 */
export interface PreEnqueuePlugin extends SchedulingPlugin {
  preEnqueue(pod: Pod): SchedulingStatus;
}

/**
 * What PreFilter can say about where the pod may go. `nodeNames` absent means every node; present, only
 * those nodes are evaluated (the framework intersects the sets of all PreFilter plugins).
 * @category Contracts
 */
export interface PreFilterResult {
  nodeNames?: ReadonlySet<string>;
}

/** The value PreFilter returns. @category Contracts */
export interface PreFilterOutcome {
  status: SchedulingStatus;
  result?: PreFilterResult;
}

/**
 * Incremental updates of PreFilter state, used by preemption to evaluate "what if these pods were (not)
 * there" without recomputing from scratch.
 * @category Contracts
 */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): SchedulingStatus;
  removePod(
    state: CycleState,
    podToSchedule: Pod,
    podInfoToRemove: PodInfo,
    nodeInfo: NodeInfo,
  ): SchedulingStatus;
}

/**
 * Runs once per cycle before filtering: checks cluster- or pod-level conditions and writes state for
 * Filter. A non-success status (other than Skip) ends the cycle; Skip disables this plugin's Filter for
 * the cycle.
 * @category Contracts
 */
export interface PreFilterPlugin extends SchedulingPlugin {
  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Awaitable<PreFilterOutcome>;
  /** The plugin's incremental extensions, or `undefined` when it has none. */
  preFilterExtensions(): PreFilterExtensions | undefined;
}

/**
 * Decides whether the pod fits one node. Called for many nodes concurrently; must only read `state`.
 * Success keeps the node; Unschedulable or UnschedulableAndUnresolvable (with reasons) removes it.
 * @category Contracts
 */
export interface FilterPlugin extends SchedulingPlugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus;
}

/** Result of PostFilter: the node the pod is nominated to, typically after preemption. @category Contracts */
export interface PostFilterResult {
  nominatedNodeName?: string;
}

/** The value PostFilter returns. @category Contracts */
export interface PostFilterOutcome {
  status: SchedulingStatus;
  result?: PostFilterResult;
}

/**
 * Runs only when no node passed Filter (preemption lives here). Success with a nominated node ends the
 * PostFilter phase; Unschedulable lets the next PostFilter plugin try.
 * @category Contracts
 */
export interface PostFilterPlugin extends SchedulingPlugin {
  postFilter(
    state: CycleState,
    pod: Pod,
    filteredNodeStatuses: ReadonlyMap<string, SchedulingStatus>,
  ): Awaitable<PostFilterOutcome>;
}

/**
 * Runs once per cycle before scoring with the nodes that passed Filter; writes state for Score. Skip
 * disables this plugin's Score for the cycle; any other non-success ends the cycle.
 * @category Contracts
 */
export interface PreScorePlugin extends SchedulingPlugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Awaitable<SchedulingStatus>;
}

/** A node's score from one plugin. @category Contracts */
export interface NodeScore {
  name: string;
  score: number;
}

/** Rescales a plugin's raw scores into [{@link MinNodeScore}, {@link MaxNodeScore}]. @category Contracts */
export interface ScoreExtensions {
  /** Rewrites `scores` in place. */
  normalizeScore(state: CycleState, pod: Pod, scores: NodeScore[]): SchedulingStatus;
}

/**
 * Ranks the nodes that passed Filter. Returns the node's score as a number (success), or a non-success
 * status, which ends the cycle. After NormalizeScore every score must lie in [0, 100]; the framework
 * multiplies it by the plugin's weight from the profile.
 * @category Contracts
 */
export interface ScorePlugin extends SchedulingPlugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | SchedulingStatus;
  /** The plugin's NormalizeScore, or `undefined` when its raw scores are already in range. */
  scoreExtensions(): ScoreExtensions | undefined;
}

/**
 * Reserves node-local resources for the pod once a node is chosen, before binding. When any later phase
 * fails, every Reserve plugin's `unreserve` runs in reverse order; it must be idempotent and must not fail.
 * @category Contracts
 */
export interface ReservePlugin extends SchedulingPlugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): Awaitable<SchedulingStatus>;
  unreserve(state: CycleState, pod: Pod, nodeName: string): Awaitable<void>;
}

/** The value Permit returns. @category Contracts */
export interface PermitOutcome {
  status: SchedulingStatus;
  /** With a Wait status: how long (milliseconds) to wait before rejecting the pod. Required for Wait. */
  timeoutMs?: number;
}

/**
 * Approves, rejects or delays binding. With Wait the pod is held (as a {@link WaitingPod}) until every
 * waiting plugin allows it, one rejects it, or the shortest timeout passes (rejection).
 * @category Contracts
 */
export interface PermitPlugin extends SchedulingPlugin {
  permit(state: CycleState, pod: Pod, nodeName: string): Awaitable<PermitOutcome>;
}

/** Prepares binding (e.g. provisions volumes). A non-success status rejects the pod. @category Contracts */
export interface PreBindPlugin extends SchedulingPlugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Awaitable<SchedulingStatus>;
}

/**
 * Binds the pod to the node. Bind plugins run in order until one returns something other than Skip;
 * Success means bound, anything else rejects the pod.
 * @category Contracts
 */
export interface BindPlugin extends SchedulingPlugin {
  bind(state: CycleState, pod: Pod, nodeName: string): Awaitable<SchedulingStatus>;
}

/** Informational, after a successful bind (cleanup). Cannot fail the pod. @category Contracts */
export interface PostBindPlugin extends SchedulingPlugin {
  postBind(state: CycleState, pod: Pod, nodeName: string): Awaitable<void>;
}

/**
 * One entry of the plugin registry, contributed under the {@link SchedulerPlugin} identifier: a plugin
 * name and the factory that builds an instance for a profile. `args` is the plugin's configuration from
 * the profile (`undefined` when the profile gives none; the factory applies defaults). A factory that
 * rejects the arguments throws a `StatusError` (`Invalid`) naming the bad field.
 * @category Contracts
 */
export interface SchedulerPlugin<Args = unknown> {
  /** The plugin's name; unique among all registered plugins. */
  readonly name: string;
  factory(args: Args | undefined, handle: SchedulingFrameworkHandle): Awaitable<SchedulingPlugin>;
}
