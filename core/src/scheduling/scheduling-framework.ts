// SPDX-License-Identifier: Apache-2.0
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type Clock, SystemClock } from '../clock/clock.js';
import type { ApiClient } from '../contracts/api-client.js';
import {
  type BindPlugin,
  type CycleState,
  CycleState as CycleStateClass,
  type FilterPlugin,
  MaxNodeScore,
  MinNodeScore,
  type NodeInfo,
  type NodeInfoLister,
  type NodeScore,
  type PermitPlugin,
  type PodInfo,
  type PostBindPlugin,
  type PostFilterOutcome,
  type PostFilterPlugin,
  type PreBindPlugin,
  type PreEnqueuePlugin,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type QueuedPodInfo,
  type QueueSortPlugin,
  type ReservePlugin,
  type SchedulingFrameworkHandle,
  type SchedulingObjectListers,
  type SchedulingPlugin,
  SchedulingStatus,
  type SchedulingStatusCode,
  type ScorePlugin,
  type WaitingPod,
} from '../contracts/scheduler-plugin.js';
import { StatusError } from '../errors/status-error.js';
import type { Logger } from '../observability/logger.js';
import {
  addPluginStatus,
  fitErrorMessage,
  newSchedulingDiagnosis,
  type SchedulingDiagnosis,
} from './diagnosis.js';
import { podKey, SchedulerNodeInfo, SchedulerPodInfo } from './node-info.js';
import type { PluginRegistry } from './plugin-registry.js';
import {
  invalidConfiguration,
  type ResolvedPluginReference,
  type ResolvedSchedulingProfile,
  resolveSchedulingProfile,
  type SchedulingExtensionPoint,
  type SchedulingProfile,
  schedulingExtensionPoints,
} from './scheduling-profile.js';
import { FrameworkWaitingPod } from './waiting-pod.js';

/** Below this many nodes every node is evaluated, as upstream. @category Scheduling */
export const MinFeasibleNodesToFind = 100;
/** The adaptive percentage never goes below this, as upstream. @category Scheduling */
export const MinFeasibleNodesPercentageToFind = 5;

/**
 * How many feasible nodes the search stops at, as upstream's `numFeasibleNodesToFind`: all nodes below
 * 100; else `percentage` of them (adaptive `50 - nodes/125`, at least 5%, when `percentage` is absent or
 * 0), and never fewer than 100.
 * @category Scheduling
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentage?: number): number {
  if (numAllNodes < MinFeasibleNodesToFind) return numAllNodes;
  let adaptive = percentage ?? 0;
  if (adaptive <= 0) {
    adaptive = 50 - Math.trunc(numAllNodes / 125);
    if (adaptive < MinFeasibleNodesPercentageToFind) adaptive = MinFeasibleNodesPercentageToFind;
  }
  if (adaptive >= 100) return numAllNodes;
  const numNodes = Math.trunc((numAllNodes * adaptive) / 100);
  return Math.max(numNodes, MinFeasibleNodesToFind);
}

/** One timed plugin call, for `scheduler_plugin_execution_duration_seconds`. @category Scheduling */
export interface PluginExecutionObservation {
  readonly profile: string;
  /** Upstream's extension point label: `Filter`, `Score`, `PreFilter`, ... */
  readonly extensionPoint: string;
  readonly plugin: string;
  readonly status: SchedulingStatusCode;
  readonly durationSeconds: number;
}

/** Receives timed plugin calls of sampled cycles. @category Scheduling */
export type PluginExecutionObserver = (observation: PluginExecutionObservation) => void;

/** Options of {@link SchedulingFramework.create}. @category Scheduling */
export interface SchedulingFrameworkOptions {
  registry: PluginRegistry;
  /** The profile as configured; merged into `defaultProfile`. */
  profile: SchedulingProfile;
  /** The default plugins' profile the configured one is merged into. Default: none (the profile alone). */
  defaultProfile?: SchedulingProfile;
  /** The profile's field path in error messages. Default: `profiles[0]`. */
  profilePath?: string;
  apiClient: ApiClient;
  logger: Logger;
  /** Timers of Permit waits. Default: the system clock. */
  clock?: Clock;
  /** Cached views of other kinds, handed to plugins as {@link SchedulingFrameworkHandle.objectListers}. */
  objectListers?: SchedulingObjectListers;
  /**
   * Pods nominated to a node (by preemption) that are not bound yet. When given, Filter runs as upstream's
   * `RunFilterPluginsWithNominatedPods`: a node must fit the pod both with the nominated pods of equal or
   * higher priority added and without them. Can also be set later with
   * {@link SchedulingFramework.setNominatedPods}.
   */
  nominatedPods?: NominatedPodsLister;
  /** Reported to plugins as {@link SchedulingFrameworkHandle.parallelism}. Default: 16. */
  parallelism?: number;
  /** Receives plugin execution times of sampled cycles. */
  observer?: PluginExecutionObserver;
  /** Share of cycles (0–100) whose plugin calls are timed when an observer is set. Default: 10. */
  metricsSamplePercent?: number;
  /** Random numbers in [0, 1) for tie-breaks and sampling. Default: `Math.random`. */
  random?: () => number;
  /**
   * Require exactly one QueueSort and at least one Bind plugin, as a running scheduler does. Default:
   * true; the harness turns it off to run partial profiles.
   */
  requireQueueSortAndBind?: boolean;
}

/** The pods nominated to each node. @category Scheduling */
export type NominatedPodsLister = (nodeName: string) => readonly PodInfo[];

/** Result of {@link SchedulingFramework.findFeasibleNodes}. @category Scheduling */
export interface FeasibleNodesResult {
  /** Set when the cycle failed internally (a plugin error): the pod is retried with backoff. */
  readonly error?: SchedulingStatus;
  /** The nodes that passed every Filter, in the order they were found. */
  readonly feasible: NodeInfo[];
  readonly diagnosis: SchedulingDiagnosis;
}

/** Weighted scores of one cycle. @category Scheduling */
export interface NodeScores {
  /** The scored nodes; index `i` of every array below is `nodes[i]`. */
  readonly nodes: readonly NodeInfo[];
  /** Sum over plugins of normalized score × weight. */
  readonly totals: Float64Array;
  /** Each plugin's normalized score × weight. */
  readonly byPlugin: ReadonlyMap<string, Float64Array>;
}

/** Result of {@link SchedulingFramework.runScore}. @category Scheduling */
export interface ScoreOutcome {
  readonly status: SchedulingStatus;
  readonly scores?: NodeScores;
}

/** Result of {@link SchedulingFramework.schedulePod}. @category Scheduling */
export interface ScheduleResult {
  /**
   * Success with `selectedNode`; Unschedulable when no node fits (its message is the FailedScheduling
   * text, see {@link fitErrorMessage}); Error when a plugin failed.
   */
  readonly status: SchedulingStatus;
  readonly selectedNode?: string;
  readonly feasible: readonly NodeInfo[];
  readonly diagnosis: SchedulingDiagnosis;
  /** Scores, when more than one node was feasible. */
  readonly scores?: NodeScores;
  readonly numAllNodes: number;
}

interface Entry<P> {
  readonly name: string;
  readonly plugin: P;
  // The last rejection this plugin returned and its copy naming the plugin: plugins usually return one
  // shared status object per reason, so tagging it once saves an allocation per rejected node.
  lastRejection?: SchedulingStatus;
  lastTagged?: SchedulingStatus;
}

interface ScoreEntry extends Entry<ScorePlugin> {
  readonly weight: number;
}

const implementsPoint: Readonly<Record<SchedulingExtensionPoint, (plugin: SchedulingPlugin) => boolean>> = {
  preEnqueue: (p) => typeof (p as PreEnqueuePlugin).preEnqueue === 'function',
  queueSort: (p) => typeof (p as QueueSortPlugin).less === 'function',
  preFilter: (p) => typeof (p as PreFilterPlugin).preFilter === 'function',
  filter: (p) => typeof (p as FilterPlugin).filter === 'function',
  postFilter: (p) => typeof (p as PostFilterPlugin).postFilter === 'function',
  preScore: (p) => typeof (p as PreScorePlugin).preScore === 'function',
  score: (p) => typeof (p as ScorePlugin).score === 'function',
  reserve: (p) =>
    typeof (p as ReservePlugin).reserve === 'function' &&
    typeof (p as ReservePlugin).unreserve === 'function',
  permit: (p) => typeof (p as PermitPlugin).permit === 'function',
  preBind: (p) => typeof (p as PreBindPlugin).preBind === 'function',
  bind: (p) => typeof (p as BindPlugin).bind === 'function',
  postBind: (p) => typeof (p as PostBindPlugin).postBind === 'function',
};

const pointLabels: Readonly<Record<SchedulingExtensionPoint, string>> = {
  preEnqueue: 'PreEnqueue',
  queueSort: 'QueueSort',
  preFilter: 'PreFilter',
  filter: 'Filter',
  postFilter: 'PostFilter',
  preScore: 'PreScore',
  score: 'Score',
  reserve: 'Reserve',
  permit: 'Permit',
  preBind: 'PreBind',
  bind: 'Bind',
  postBind: 'PostBind',
};

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

/** An Error status naming the plugin and the point, for throws and malformed returns. */
function pluginError(point: string, plugin: string, error: unknown): SchedulingStatus {
  const message = error instanceof Error ? error.message : String(error);
  return new SchedulingStatus(
    'Error',
    [`running ${point} plugin "${plugin}": ${message}`],
    plugin,
    error instanceof Error ? error : undefined,
  );
}

function isStatus(value: unknown): value is SchedulingStatus {
  return value instanceof SchedulingStatus;
}

/** A non-success status from a plugin: rejections keep their code, anything else becomes Error. */
function failure(point: string, plugin: string, status: unknown): SchedulingStatus {
  if (!isStatus(status))
    return pluginError(point, plugin, `returned ${String(status)} instead of a SchedulingStatus`);
  if (status.isRejected()) return status.withPlugin(plugin);
  if (status.code === 'Error') return status.withPlugin(plugin);
  return pluginError(point, plugin, `unexpected status ${status.code}`);
}

const emptyLister: NodeInfoLister = { list: () => [], get: () => undefined };

/**
 * Runs one profile's plugins at each extension point, as the Kubernetes scheduling framework does. One
 * instance per profile: plugins are built once, through their registry factories, with a
 * {@link SchedulingFrameworkHandle}. No method throws for a plugin's failure: a plugin that throws or
 * returns garbage becomes an `Error` status naming it.
 *
 * ```ts
 * const framework = await SchedulingFramework.create({ registry, profile, defaultProfile, apiClient, logger });
 * const state = framework.newCycleState();
 * const result = await framework.schedulePod(state, pod, snapshot);
 * ```
 * @category Scheduling
 */
export class SchedulingFramework {
  readonly profile: ResolvedSchedulingProfile;
  readonly handle: SchedulingFrameworkHandle;
  /** Plugin instances by name. */
  readonly plugins: ReadonlyMap<string, SchedulingPlugin>;

  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #observer: PluginExecutionObserver | undefined;
  readonly #sampleShare: number;
  readonly #random: () => number;
  readonly #waitingPods = new Map<string, FrameworkWaitingPod>();
  #snapshot: NodeInfoLister = emptyLister;
  #nominatedPods: NominatedPodsLister | undefined;
  #nextStartNodeIndex = 0;

  #preEnqueue: Entry<PreEnqueuePlugin>[] = [];
  #queueSort: Entry<QueueSortPlugin> | undefined;
  #preFilter: Entry<PreFilterPlugin>[] = [];
  #filter: Entry<FilterPlugin>[] = [];
  #postFilter: Entry<PostFilterPlugin>[] = [];
  #preScore: Entry<PreScorePlugin>[] = [];
  #score: ScoreEntry[] = [];
  #reserve: Entry<ReservePlugin>[] = [];
  #permit: Entry<PermitPlugin>[] = [];
  #preBind: Entry<PreBindPlugin>[] = [];
  #bind: Entry<BindPlugin>[] = [];
  #postBind: Entry<PostBindPlugin>[] = [];

  private constructor(
    profile: ResolvedSchedulingProfile,
    options: SchedulingFrameworkOptions,
    plugins: Map<string, SchedulingPlugin>,
  ) {
    this.profile = profile;
    this.plugins = plugins;
    this.#logger = options.logger;
    this.#clock = options.clock ?? new SystemClock();
    this.#observer = options.observer;
    this.#sampleShare = (options.metricsSamplePercent ?? 10) / 100;
    this.#random = options.random ?? Math.random;
    this.#nominatedPods = options.nominatedPods;
    const parallelism = options.parallelism ?? 16;
    this.handle = {
      apiClient: options.apiClient,
      logger: options.logger,
      parallelism,
      nodeInfos: () => this.#snapshot,
      getWaitingPod: (uid) => this.#waitingPods.get(uid),
      rejectWaitingPod: (uid, plugin, message) => {
        const waiting = this.#waitingPods.get(uid);
        if (!waiting) return false;
        waiting.reject(plugin, message);
        return true;
      },
      runFilterPlugins: (state, pod, nodeInfo) => this.runFilterWithNominatedPods(state, pod, nodeInfo),
      runPreFilterExtensionAddPod: (state, pod, podInfo, nodeInfo) =>
        this.runPreFilterExtensionAddPod(state, pod, podInfo, nodeInfo),
      runPreFilterExtensionRemovePod: (state, pod, podInfo, nodeInfo) =>
        this.runPreFilterExtensionRemovePod(state, pod, podInfo, nodeInfo),
      nominatedPodsForNode: (nodeName) => this.#nominatedPods?.(nodeName) ?? [],
      ...(options.objectListers ? { objectListers: options.objectListers } : {}),
    };
  }

  /**
   * Resolves the profile, builds every plugin it enables (each once, with its `pluginConfig` args) and
   * checks that each plugin implements the points it is enabled at. Throws `Invalid` naming the field
   * for configuration mistakes (unknown plugin, a plugin enabled where it does not fit, a factory that
   * rejects its args, no QueueSort or Bind plugin).
   */
  static async create(options: SchedulingFrameworkOptions): Promise<SchedulingFramework> {
    const profile = resolveSchedulingProfile(options.profile, {
      registry: options.registry,
      defaultProfile: options.defaultProfile,
      path: options.profilePath,
    });
    const names = new Set<string>();
    for (const set of Object.values(profile.plugins)) for (const ref of set.enabled) names.add(ref.name);
    const plugins = new Map<string, SchedulingPlugin>();
    const framework = new SchedulingFramework(profile, options, plugins);
    const logger = options.logger;
    for (const name of names) {
      // resolveSchedulingProfile checked every name against the registry.
      const registration = options.registry.get(name)!;
      let plugin: SchedulingPlugin;
      try {
        plugin = await registration.factory(profile.pluginArgs.get(name), framework.handle);
      } catch (error) {
        const field = profile.pluginArgSources.get(name) ?? `${profile.path}.pluginConfig`;
        const why = error instanceof Error ? error.message : String(error);
        throw invalidConfiguration([
          { reason: 'FieldValueInvalid', message: `plugin "${name}": ${why}`, field },
        ]);
      }
      if (typeof plugin !== 'object' || plugin === null) {
        throw invalidConfiguration([
          {
            reason: 'FieldValueInvalid',
            message: `plugin "${name}": factory returned no plugin`,
            field: profile.path,
          },
        ]);
      }
      plugins.set(name, plugin);
    }
    framework.#wire(options.requireQueueSortAndBind ?? true);
    logger.debug?.({ profile: profile.schedulerName, plugins: [...names] }, 'scheduling framework ready');
    return framework;
  }

  /** Orders each point's plugins as upstream expands `multiPoint`, and checks their interfaces. */
  #wire(requireQueueSortAndBind: boolean): void {
    const causes: { reason: string; message: string; field: string }[] = [];
    const multiPoint = this.profile.plugins.multiPoint.enabled;
    const multiNames = new Set(multiPoint.map((p) => p.name));
    const lists = {} as Record<SchedulingExtensionPoint, ResolvedPluginReference[]>;
    for (const point of schedulingExtensionPoints) {
      const set = this.profile.plugins[point];
      const specificNames = new Set(set.enabled.map((p) => p.name));
      for (const ref of set.enabled) {
        if (!implementsPoint[point](this.plugins.get(ref.name)!)) {
          causes.push({
            reason: 'FieldValueInvalid',
            message: `plugin "${ref.name}" does not implement the ${pointLabels[point]} extension point`,
            field: ref.source,
          });
        }
      }
      const fromMulti: ResolvedPluginReference[] = [];
      if (!set.disabled.has('*')) {
        for (const ref of multiPoint) {
          if (set.disabled.has(ref.name) || specificNames.has(ref.name)) continue;
          if (!implementsPoint[point](this.plugins.get(ref.name)!)) continue;
          fromMulti.push(ref);
        }
      }
      // Upstream's order: plugins also in multiPoint but configured here, then multiPoint's, then the rest.
      lists[point] = [
        ...set.enabled.filter((p) => multiNames.has(p.name)),
        ...fromMulti,
        ...set.enabled.filter((p) => !multiNames.has(p.name)),
      ];
    }
    if (requireQueueSortAndBind) {
      if (lists.queueSort.length !== 1) {
        causes.push({
          reason: 'FieldValueInvalid',
          message: `exactly one QueueSort plugin must be enabled, got ${lists.queueSort.length}${
            lists.queueSort.length > 0 ? ` (${lists.queueSort.map((p) => p.name).join(', ')})` : ''
          }`,
          field: `${this.profile.path}.plugins.queueSort`,
        });
      }
      if (lists.bind.length === 0) {
        causes.push({
          reason: 'FieldValueRequired',
          message: 'at least one Bind plugin must be enabled',
          field: `${this.profile.path}.plugins.bind`,
        });
      }
    }
    if (causes.length > 0) throw invalidConfiguration(causes);
    const entries = <P>(point: SchedulingExtensionPoint): Entry<P>[] =>
      lists[point].map((ref) => ({ name: ref.name, plugin: this.plugins.get(ref.name) as P }));
    this.#preEnqueue = entries('preEnqueue');
    this.#queueSort = entries<QueueSortPlugin>('queueSort')[0];
    this.#preFilter = entries('preFilter');
    this.#filter = entries('filter');
    this.#postFilter = entries('postFilter');
    this.#preScore = entries('preScore');
    this.#score = lists.score.map((ref) => ({
      name: ref.name,
      plugin: this.plugins.get(ref.name) as ScorePlugin,
      weight: ref.weight > 0 ? ref.weight : 1,
    }));
    this.#reserve = entries('reserve');
    this.#permit = entries('permit');
    this.#preBind = entries('preBind');
    this.#bind = entries('bind');
    this.#postBind = entries('postBind');
  }

  /** The profile's scheduler name (pods with this `spec.schedulerName`). */
  get schedulerName(): string {
    return this.profile.schedulerName;
  }

  /** Names of the plugins enabled at `point`, in the order they run (Score: with weights). */
  pluginsAt(point: SchedulingExtensionPoint): { name: string; weight?: number }[] {
    if (point === 'score') return this.#score.map((e) => ({ name: e.name, weight: e.weight }));
    if (point === 'queueSort') return this.#queueSort ? [{ name: this.#queueSort.name }] : [];
    const lists: Record<Exclude<SchedulingExtensionPoint, 'score' | 'queueSort'>, Entry<unknown>[]> = {
      preEnqueue: this.#preEnqueue,
      preFilter: this.#preFilter,
      filter: this.#filter,
      postFilter: this.#postFilter,
      preScore: this.#preScore,
      reserve: this.#reserve,
      permit: this.#permit,
      preBind: this.#preBind,
      bind: this.#bind,
      postBind: this.#postBind,
    };
    return lists[point].map((e) => ({ name: e.name }));
  }

  get hasFilterPlugins(): boolean {
    return this.#filter.length > 0;
  }

  get hasScorePlugins(): boolean {
    return this.#score.length > 0;
  }

  /** The snapshot plugins see through {@link SchedulingFrameworkHandle.nodeInfos}. */
  setSnapshot(snapshot: NodeInfoLister): void {
    this.#snapshot = snapshot;
  }

  /** A fresh CycleState; a sampled share of them times plugin calls for the observer. */
  newCycleState(): CycleState {
    const state = new CycleStateClass();
    state.recordPluginMetrics = this.#observer !== undefined && this.#random() < this.#sampleShare;
    return state;
  }

  #observe(
    state: CycleState,
    point: string,
    plugin: string,
    status: SchedulingStatusCode,
    start: number,
  ): void {
    if (!state.recordPluginMetrics || !this.#observer) return;
    try {
      this.#observer({
        profile: this.profile.schedulerName,
        extensionPoint: point,
        plugin,
        status,
        durationSeconds: (performance.now() - start) / 1000,
      });
    } catch (error) {
      this.#logger.warn({ err: error }, 'plugin execution observer threw');
    }
  }

  // ---- queueing ----

  /** Runs PreEnqueue plugins; the first non-success (naming its plugin) keeps the pod out of activeQ. */
  runPreEnqueue(pod: Pod): SchedulingStatus {
    for (const { name, plugin } of this.#preEnqueue) {
      let status: SchedulingStatus;
      try {
        status = plugin.preEnqueue(pod);
      } catch (error) {
        return pluginError('PreEnqueue', name, error);
      }
      if (status?.code !== 'Success') return failure('PreEnqueue', name, status);
    }
    return SchedulingStatus.success();
  }

  /**
   * The QueueSort plugin's order. A throwing plugin is logged and falls back to arrival order, so a
   * queue never breaks; without a QueueSort plugin, arrival order.
   */
  queueSortLess(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    if (this.#queueSort) {
      try {
        return this.#queueSort.plugin.less(a, b);
      } catch (error) {
        this.#logger.error({ err: error, plugin: this.#queueSort.name }, 'QueueSort plugin threw');
      }
    }
    return a.timestamp < b.timestamp;
  }

  // ---- filtering ----

  /**
   * Runs PreFilter plugins. Skip disables the plugin's Filter for this cycle; a rejection ends the cycle
   * (status names the plugin); PreFilterResults are intersected, and an empty intersection is
   * UnschedulableAndUnresolvable (`node(s) didn't satisfy plugin(s) [A B] simultaneously`).
   */
  async runPreFilter(
    state: CycleState,
    pod: Pod,
    nodes: readonly NodeInfo[],
  ): Promise<{ status: SchedulingStatus; result?: PreFilterResult; pluginsWithNodes?: string[] }> {
    let merged: ReadonlySet<string> | undefined;
    let pluginsWithNodes: string[] | undefined;
    for (const { name, plugin } of this.#preFilter) {
      const start = state.recordPluginMetrics ? performance.now() : 0;
      let outcome: PreFilterOutcome;
      try {
        const returned = plugin.preFilter(state, pod, nodes);
        outcome = isThenable(returned) ? await returned : returned;
      } catch (error) {
        return { status: pluginError('PreFilter', name, error) };
      }
      const status = outcome?.status;
      this.#observe(state, 'PreFilter', name, status?.code ?? 'Error', start);
      if (status?.code === 'Skip') {
        state.skipFilterPlugins.add(name);
        continue;
      }
      if (status?.code !== 'Success') return { status: failure('PreFilter', name, status) };
      const names = outcome.result?.nodeNames;
      if (names === undefined) continue;
      pluginsWithNodes ??= [];
      pluginsWithNodes.push(name);
      if (merged === undefined) merged = names;
      else {
        const intersection = new Set<string>();
        for (const n of merged) if (names.has(n)) intersection.add(n);
        merged = intersection;
      }
      if (merged.size === 0) {
        const message =
          pluginsWithNodes.length === 1
            ? `node(s) didn't satisfy plugin ${pluginsWithNodes[0]}`
            : `node(s) didn't satisfy plugin(s) [${[...pluginsWithNodes].sort().join(' ')}] simultaneously`;
        return {
          status: new SchedulingStatus('UnschedulableAndUnresolvable', [message], name),
          result: { nodeNames: merged },
          pluginsWithNodes,
        };
      }
    }
    return {
      status: SchedulingStatus.success(),
      result: merged === undefined ? undefined : { nodeNames: merged },
      pluginsWithNodes,
    };
  }

  /** Runs the PreFilter plugins' AddPod extensions (preemption's "what if this pod were there"). */
  runPreFilterExtensionAddPod(
    state: CycleState,
    pod: Pod,
    podInfo: PodInfo,
    nodeInfo: NodeInfo,
  ): SchedulingStatus {
    return this.#runExtensions(state, pod, podInfo, nodeInfo, 'addPod');
  }

  /** Runs the PreFilter plugins' RemovePod extensions (preemption's "what if this pod were gone"). */
  runPreFilterExtensionRemovePod(
    state: CycleState,
    pod: Pod,
    podInfo: PodInfo,
    nodeInfo: NodeInfo,
  ): SchedulingStatus {
    return this.#runExtensions(state, pod, podInfo, nodeInfo, 'removePod');
  }

  #runExtensions(
    state: CycleState,
    pod: Pod,
    podInfo: PodInfo,
    nodeInfo: NodeInfo,
    which: 'addPod' | 'removePod',
  ): SchedulingStatus {
    for (const { name, plugin } of this.#preFilter) {
      if (state.skipFilterPlugins.has(name)) continue;
      let status: SchedulingStatus;
      try {
        const extensions = plugin.preFilterExtensions?.();
        if (!extensions) continue;
        status = extensions[which](state, pod, podInfo, nodeInfo);
      } catch (error) {
        return pluginError('PreFilterExtension', name, error);
      }
      if (status?.code !== 'Success')
        return pluginError('PreFilterExtension', name, status?.message?.() ?? status);
    }
    return SchedulingStatus.success();
  }

  /**
   * Runs the Filter plugins (except those skipped this cycle) on one node, stopping at the first that
   * does not return Success. Returns Success, the rejection naming its plugin, or an Error status.
   */
  runFilter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    const filters = this.#filter;
    const skip = state.skipFilterPlugins;
    const checkSkip = skip.size > 0;
    const timed = state.recordPluginMetrics;
    for (let i = 0; i < filters.length; i++) {
      const entry = filters[i];
      if (checkSkip && skip.has(entry.name)) continue;
      const start = timed ? performance.now() : 0;
      let status: SchedulingStatus;
      try {
        status = entry.plugin.filter(state, pod, nodeInfo);
      } catch (error) {
        return pluginError('Filter', entry.name, error);
      }
      if (timed) this.#observe(state, 'Filter', entry.name, status?.code ?? 'Error', start);
      if (status?.code !== 'Success') {
        if (status !== undefined && status === entry.lastRejection) return entry.lastTagged!;
        const tagged = failure('Filter', entry.name, status);
        if (tagged.isRejected()) {
          entry.lastRejection = status;
          entry.lastTagged = tagged;
        }
        return tagged;
      }
    }
    return SchedulingStatus.success();
  }

  /** Sets (or clears) where nominated pods come from; see {@link SchedulingFrameworkOptions.nominatedPods}. */
  setNominatedPods(lister: NominatedPodsLister | undefined): void {
    this.#nominatedPods = lister;
  }

  /**
   * Filter as upstream's `RunFilterPluginsWithNominatedPods`: when pods of equal or higher priority are
   * nominated to the node, the pod must fit with them added (to a copy of the node and of the state,
   * through the PreFilter AddPod extensions) and also without them (so pod affinity to a nominated pod
   * cannot be the reason it fits).
   */
  runFilterWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    const nominated = this.#nominatedPods?.(nodeInfo.name);
    if (!nominated || nominated.length === 0 || !(nodeInfo instanceof SchedulerNodeInfo)) {
      return this.runFilter(state, pod, nodeInfo);
    }
    const priority = pod.spec?.priority ?? 0;
    const key = podKey(pod);
    let withNominated: SchedulerNodeInfo | undefined;
    let stateWithNominated: CycleState | undefined;
    for (const info of nominated) {
      if ((info.pod.spec?.priority ?? 0) < priority || podKey(info.pod) === key) continue;
      withNominated ??= nodeInfo.clone();
      stateWithNominated ??= state.clone();
      const added = withNominated.addPod(
        info instanceof SchedulerPodInfo ? info : new SchedulerPodInfo(info.pod),
      );
      const status = this.runPreFilterExtensionAddPod(stateWithNominated, pod, added, withNominated);
      if (!status.isSuccess()) return status;
    }
    if (!withNominated || !stateWithNominated) return this.runFilter(state, pod, nodeInfo);
    const status = this.runFilter(stateWithNominated, pod, withNominated);
    if (!status.isSuccess()) return status;
    return this.runFilter(state, pod, nodeInfo);
  }

  /** How many feasible nodes this profile's search stops at for `numAllNodes` nodes. */
  numFeasibleNodesToFind(numAllNodes: number): number {
    return numFeasibleNodesToFind(numAllNodes, this.profile.percentageOfNodesToScore);
  }

  /**
   * PreFilter, then Filter over the snapshot's nodes (or the PreFilterResult's), starting where the
   * previous search stopped and stopping once {@link SchedulingFramework.numFeasibleNodesToFind} nodes
   * fit. Rejected nodes get their status in `diagnosis.nodeToStatus`.
   */
  async findFeasibleNodes(
    state: CycleState,
    pod: Pod,
    snapshot: NodeInfoLister,
  ): Promise<FeasibleNodesResult> {
    this.#snapshot = snapshot;
    const diagnosis = newSchedulingDiagnosis();
    const allNodes = snapshot.list();
    const preFilter = await this.runPreFilter(state, pod, allNodes);
    const status = preFilter.status;
    if (!status.isSuccess()) {
      if (!status.isRejected()) return { error: status, feasible: [], diagnosis };
      // Every node gets the PreFilter status, so preemption sees the same reason everywhere.
      diagnosis.nodeToStatus.setAbsentNodesStatus(status);
      diagnosis.preFilterMessage = status.message();
      addPluginStatus(diagnosis, status);
      return { feasible: [], diagnosis };
    }
    let nodes = allNodes;
    const nodeNames = preFilter.result?.nodeNames;
    if (nodeNames !== undefined) {
      const narrowed: NodeInfo[] = [];
      for (const name of nodeNames) {
        const info = snapshot.get(name);
        if (info) narrowed.push(info);
      }
      nodes = narrowed;
      diagnosis.nodeToStatus.setAbsentNodesStatus(
        SchedulingStatus.unschedulableAndUnresolvable(
          `node(s) didn't satisfy plugin(s) [${[...(preFilter.pluginsWithNodes ?? [])].sort().join(' ')}]`,
        ),
      );
    }
    const n = nodes.length;
    if (n === 0) return { feasible: [], diagnosis };
    const toFind = this.numFeasibleNodesToFind(n);
    const start = this.#nextStartNodeIndex % n;
    const feasible: NodeInfo[] = [];
    if (this.#filter.length === 0) {
      for (let i = 0; i < toFind; i++) feasible.push(nodes[(start + i) % n]);
      this.#nextStartNodeIndex = (start + toFind) % n;
      diagnosis.evaluatedNodes = toFind;
      return { feasible, diagnosis };
    }
    const nominated = this.#nominatedPods !== undefined;
    let processed = 0;
    for (; processed < n && feasible.length < toFind; processed++) {
      const index = start + processed;
      const nodeInfo = nodes[index < n ? index : index - n];
      const result = nominated
        ? this.runFilterWithNominatedPods(state, pod, nodeInfo)
        : this.runFilter(state, pod, nodeInfo);
      if (result.code === 'Success') {
        feasible.push(nodeInfo);
      } else if (result.code === 'Error') {
        return { error: result, feasible: [], diagnosis };
      } else {
        diagnosis.nodeToStatus.set(nodeInfo.name, result);
        addPluginStatus(diagnosis, result);
      }
    }
    this.#nextStartNodeIndex = (start + processed) % n;
    diagnosis.evaluatedNodes = processed;
    return { feasible, diagnosis };
  }

  /**
   * Runs PostFilter plugins after no node fit: the first Success (typically a nomination) or
   * UnschedulableAndUnresolvable ends the phase; Unschedulable lets the next plugin try. Without a
   * success the status is Unschedulable with every plugin's reasons.
   */
  async runPostFilter(
    state: CycleState,
    pod: Pod,
    filteredNodeStatuses: ReadonlyMap<string, SchedulingStatus>,
  ): Promise<PostFilterOutcome> {
    const reasons: string[] = [];
    let rejectedBy: string | undefined;
    let result: PostFilterOutcome['result'];
    for (const { name, plugin } of this.#postFilter) {
      const start = state.recordPluginMetrics ? performance.now() : 0;
      let outcome: PostFilterOutcome;
      try {
        const returned = plugin.postFilter(state, pod, filteredNodeStatuses);
        outcome = isThenable(returned) ? await returned : returned;
      } catch (error) {
        return { status: pluginError('PostFilter', name, error) };
      }
      const status = outcome?.status;
      this.#observe(state, 'PostFilter', name, status?.code ?? 'Error', start);
      if (status?.code === 'Success') return { status: status.withPlugin(name), result: outcome.result };
      if (status?.code === 'UnschedulableAndUnresolvable')
        return { status: status.withPlugin(name), result: outcome.result };
      if (!status?.isRejected?.()) return { status: failure('PostFilter', name, status) };
      reasons.push(...status.reasons);
      rejectedBy = name;
      if (outcome.result) result = outcome.result;
    }
    return { status: new SchedulingStatus('Unschedulable', reasons, rejectedBy), result };
  }

  // ---- scoring ----

  /** Runs PreScore plugins; Skip disables the plugin's Score this cycle; any other failure is an Error. */
  async runPreScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Promise<SchedulingStatus> {
    for (const { name, plugin } of this.#preScore) {
      const start = state.recordPluginMetrics ? performance.now() : 0;
      let status: SchedulingStatus;
      try {
        const returned = plugin.preScore(state, pod, nodes);
        status = isThenable(returned) ? await returned : returned;
      } catch (error) {
        return pluginError('PreScore', name, error);
      }
      this.#observe(state, 'PreScore', name, status?.code ?? 'Error', start);
      if (status?.code === 'Skip') {
        state.skipScorePlugins.add(name);
        continue;
      }
      if (status?.code !== 'Success')
        return pluginError('PreScore', name, isStatus(status) ? status.message() : status);
    }
    return SchedulingStatus.success();
  }

  /**
   * Scores every node with every Score plugin (except skipped ones), normalizes each plugin's scores
   * with its NormalizeScore, checks they lie in [0, 100], multiplies by the plugin's weight and sums.
   * Any failure is an Error naming the plugin.
   */
  runScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): ScoreOutcome {
    const n = nodes.length;
    const totals = new Float64Array(n);
    const byPlugin = new Map<string, Float64Array>();
    const skip = state.skipScorePlugins;
    const timed = state.recordPluginMetrics;
    for (const entry of this.#score) {
      if (skip.size > 0 && skip.has(entry.name)) continue;
      const scores = new Float64Array(n);
      const plugin = entry.plugin;
      for (let i = 0; i < n; i++) {
        const start = timed ? performance.now() : 0;
        let score: number | SchedulingStatus;
        try {
          score = plugin.score(state, pod, nodes[i]);
        } catch (error) {
          return { status: pluginError('Score', entry.name, error) };
        }
        if (typeof score === 'number') {
          if (Number.isNaN(score)) return { status: pluginError('Score', entry.name, 'returned NaN') };
          scores[i] = score;
          if (timed) this.#observe(state, 'Score', entry.name, 'Success', start);
        } else if (isStatus(score) && score.isSuccess()) {
          scores[i] = 0;
        } else {
          return {
            status: pluginError('Score', entry.name, isStatus(score) ? score.message() || score.code : score),
          };
        }
      }
      let extensions: ReturnType<ScorePlugin['scoreExtensions']>;
      try {
        extensions = plugin.scoreExtensions?.();
      } catch (error) {
        return { status: pluginError('ScoreExtension', entry.name, error) };
      }
      if (extensions) {
        // NormalizeScore works on NodeScore objects: built only for plugins that normalize.
        const list: NodeScore[] = new Array(n);
        for (let i = 0; i < n; i++) list[i] = { name: nodes[i].name, score: scores[i] };
        const start = timed ? performance.now() : 0;
        let status: SchedulingStatus;
        try {
          status = extensions.normalizeScore(state, pod, list);
        } catch (error) {
          return { status: pluginError('ScoreExtension', entry.name, error) };
        }
        this.#observe(state, 'ScoreExtension', entry.name, status?.code ?? 'Error', start);
        if (status?.code !== 'Success') {
          return {
            status: pluginError('ScoreExtension', entry.name, isStatus(status) ? status.message() : status),
          };
        }
        for (let i = 0; i < n; i++) scores[i] = list[i].score;
      }
      const weight = entry.weight;
      for (let i = 0; i < n; i++) {
        const s = scores[i];
        if (!(s >= MinNodeScore && s <= MaxNodeScore)) {
          return {
            status: new SchedulingStatus(
              'Error',
              [
                `plugin "${entry.name}" returns an invalid score ${s} for node "${nodes[i].name}", it should be in the range of [${MinNodeScore}, ${MaxNodeScore}] after normalizing`,
              ],
              entry.name,
            ),
          };
        }
        const weighted = s * weight;
        scores[i] = weighted;
        totals[i] += weighted;
      }
      byPlugin.set(entry.name, scores);
    }
    return { status: SchedulingStatus.success(), scores: { nodes, totals, byPlugin } };
  }

  /**
   * The node with the highest total score; ties are broken uniformly at random (reservoir sampling), as
   * upstream. `undefined` when there are no nodes.
   */
  selectHost(scores: NodeScores): string | undefined {
    const { nodes, totals } = scores;
    let selected = -1;
    let max = Number.NEGATIVE_INFINITY;
    let ties = 0;
    for (let i = 0; i < nodes.length; i++) {
      const total = totals[i];
      if (total > max) {
        max = total;
        selected = i;
        ties = 1;
      } else if (total === max) {
        ties++;
        if (this.#random() * ties < 1) selected = i;
      }
    }
    return selected < 0 ? undefined : nodes[selected].name;
  }

  /**
   * One scheduling decision without side effects, as upstream's `schedulePod`: PreFilter and Filter,
   * then (with more than one feasible node) PreScore, Score and host selection. PostFilter is not run;
   * the caller runs it on an Unschedulable result and may then rebuild the message with
   * `fitErrorMessage(result.numAllNodes, result.diagnosis)` after setting `postFilterMessage`.
   */
  async schedulePod(state: CycleState, pod: Pod, snapshot: NodeInfoLister): Promise<ScheduleResult> {
    const numAllNodes = snapshot.list().length;
    const { error, feasible, diagnosis } = await this.findFeasibleNodes(state, pod, snapshot);
    if (error) return { status: error, feasible, diagnosis, numAllNodes };
    if (numAllNodes === 0) {
      return {
        status: new SchedulingStatus('Unschedulable', ['no nodes available to schedule pods']),
        feasible,
        diagnosis,
        numAllNodes,
      };
    }
    if (feasible.length === 0) {
      return {
        status: new SchedulingStatus('Unschedulable', [fitErrorMessage(numAllNodes, diagnosis)]),
        feasible,
        diagnosis,
        numAllNodes,
      };
    }
    if (feasible.length === 1) {
      return {
        status: SchedulingStatus.success(),
        selectedNode: feasible[0].name,
        feasible,
        diagnosis,
        numAllNodes,
      };
    }
    const preScore = await this.runPreScore(state, pod, feasible);
    if (!preScore.isSuccess()) return { status: preScore, feasible, diagnosis, numAllNodes };
    const { status, scores } = this.runScore(state, pod, feasible);
    if (!status.isSuccess() || !scores) return { status, feasible, diagnosis, numAllNodes };
    return {
      status: SchedulingStatus.success(),
      selectedNode: this.selectHost(scores),
      feasible,
      diagnosis,
      scores,
      numAllNodes,
    };
  }

  // ---- binding cycle ----

  async #runNodeHook<P>(
    state: CycleState,
    point: string,
    entry: Entry<P>,
    call: (plugin: P) => SchedulingStatus | Promise<SchedulingStatus>,
  ): Promise<SchedulingStatus> {
    const start = state.recordPluginMetrics ? performance.now() : 0;
    let status: SchedulingStatus;
    try {
      const returned = call(entry.plugin);
      status = isThenable(returned) ? await returned : returned;
    } catch (error) {
      return pluginError(point, entry.name, error);
    }
    this.#observe(state, point, entry.name, status?.code ?? 'Error', start);
    return status;
  }

  /** Runs Reserve plugins in order; the first non-success (naming its plugin) is returned. */
  async runReserve(state: CycleState, pod: Pod, nodeName: string): Promise<SchedulingStatus> {
    for (const entry of this.#reserve) {
      const status = await this.#runNodeHook(state, 'Reserve', entry, (p) => p.reserve(state, pod, nodeName));
      if (status?.code !== 'Success') return failure('Reserve', entry.name, status);
    }
    return SchedulingStatus.success();
  }

  /** Runs every Reserve plugin's Unreserve in reverse order; failures are logged, never returned. */
  async runUnreserve(state: CycleState, pod: Pod, nodeName: string): Promise<void> {
    for (let i = this.#reserve.length - 1; i >= 0; i--) {
      const { name, plugin } = this.#reserve[i];
      try {
        await plugin.unreserve(state, pod, nodeName);
      } catch (error) {
        this.#logger.error({ err: error, plugin: name, pod: podKey(pod) }, 'Unreserve plugin failed');
      }
    }
  }

  /**
   * Runs Permit plugins. A rejection (naming its plugin) or error ends it; when some plugin says Wait
   * (and none rejects), the pod becomes a {@link WaitingPod} with one timer per waiting plugin and the
   * status is Wait: call {@link SchedulingFramework.waitOnPermit} to learn the outcome.
   */
  async runPermit(state: CycleState, pod: Pod, nodeName: string): Promise<SchedulingStatus> {
    let waits: Map<string, number> | undefined;
    for (const { name, plugin } of this.#permit) {
      const start = state.recordPluginMetrics ? performance.now() : 0;
      let outcome: Awaited<ReturnType<PermitPlugin['permit']>>;
      try {
        const returned = plugin.permit(state, pod, nodeName);
        outcome = isThenable(returned) ? await returned : returned;
      } catch (error) {
        return pluginError('Permit', name, error);
      }
      const status = outcome?.status;
      this.#observe(state, 'Permit', name, status?.code ?? 'Error', start);
      if (status?.code === 'Success') continue;
      if (status?.code === 'Wait') {
        const timeout = outcome.timeoutMs;
        if (typeof timeout !== 'number' || !(timeout >= 0)) {
          return pluginError('Permit', name, 'returned Wait without a timeoutMs');
        }
        waits ??= new Map();
        waits.set(name, timeout);
        continue;
      }
      return failure('Permit', name, status);
    }
    if (!waits) return SchedulingStatus.success();
    const key = podKey(pod);
    this.#waitingPods.get(key)?.reject('', 'superseded by a new Permit wait');
    this.#waitingPods.set(key, new FrameworkWaitingPod(pod, waits, this.#clock));
    return SchedulingStatus.wait('one or more plugins asked to wait and no plugin rejected pod');
  }

  /**
   * Waits until the pod's Permit wait ends: Success once every waiting plugin allowed it (or when the
   * pod is not waiting), else the Unschedulable rejection naming the plugin (or timeout).
   */
  async waitOnPermit(pod: Pod): Promise<SchedulingStatus> {
    const key = podKey(pod);
    const waiting = this.#waitingPods.get(key);
    if (!waiting) return SchedulingStatus.success();
    try {
      return await waiting.result();
    } finally {
      if (this.#waitingPods.get(key) === waiting) this.#waitingPods.delete(key);
    }
  }

  /** The waiting pod with this key (uid, or namespace/name without one). */
  getWaitingPod(key: string): WaitingPod | undefined {
    return this.#waitingPods.get(key);
  }

  /** Every pod waiting at Permit. */
  waitingPods(): WaitingPod[] {
    return [...this.#waitingPods.values()];
  }

  /** Runs PreBind plugins in order; the first non-success (naming its plugin) is returned. */
  async runPreBind(state: CycleState, pod: Pod, nodeName: string): Promise<SchedulingStatus> {
    for (const entry of this.#preBind) {
      const status = await this.#runNodeHook(state, 'PreBind', entry, (p) => p.preBind(state, pod, nodeName));
      if (status?.code !== 'Success') return failure('PreBind', entry.name, status);
    }
    return SchedulingStatus.success();
  }

  /**
   * Runs Bind plugins until one returns something other than Skip: its Success binds, its rejection or
   * error (naming it) fails the pod. Skip when no plugin bound.
   */
  async runBind(state: CycleState, pod: Pod, nodeName: string): Promise<SchedulingStatus> {
    for (const entry of this.#bind) {
      const status = await this.#runNodeHook(state, 'Bind', entry, (p) => p.bind(state, pod, nodeName));
      if (status?.code === 'Skip') continue;
      if (status?.code === 'Success') return status.withPlugin(entry.name);
      return failure('Bind', entry.name, status);
    }
    return SchedulingStatus.skip();
  }

  /** Runs PostBind plugins; failures are logged. */
  async runPostBind(state: CycleState, pod: Pod, nodeName: string): Promise<void> {
    for (const { name, plugin } of this.#postBind) {
      try {
        await plugin.postBind(state, pod, nodeName);
      } catch (error) {
        this.#logger.error({ err: error, plugin: name, pod: podKey(pod) }, 'PostBind plugin failed');
      }
    }
  }
}

/** True when `error` is a configuration error from {@link SchedulingFramework.create}. @category Scheduling */
export function isSchedulingConfigurationError(error: unknown): error is StatusError {
  return error instanceof StatusError && error.details?.kind === 'KubeSchedulerConfiguration';
}
