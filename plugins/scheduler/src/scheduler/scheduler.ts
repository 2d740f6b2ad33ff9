// SPDX-License-Identifier: Apache-2.0
import { setMaxListeners } from 'node:events';
import {
  type ApiClient,
  type CacheReader,
  type Clock,
  type CycleState,
  DefaultSchedulerName,
  fitErrorMessage,
  formatTimestamp,
  IndexedCache,
  type InformerEvent,
  isStatusError,
  type KindReference,
  type KubeObject,
  type Logger,
  type MetricsRegistry,
  newEvent,
  objectReference,
  PluginRegistry,
  podKey,
  type Runnable,
  resolveSchedulingProfile,
  type SchedulerPlugin,
  SchedulerPodInfo,
  SchedulingFramework,
  type SchedulingObjectListers,
  type SchedulingProfile,
  SchedulingStatus,
  type SharedInformer,
  SharedInformerFactory,
  type StatusCause,
  StatusError,
  SystemClock,
} from '@cpkit/core';
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { Subscription } from 'rxjs';
import { SchedulerCache } from './scheduler-cache.js';
import type { SchedulerConfiguration } from './scheduler-configuration.js';
import { SchedulerMetrics, type SchedulingAttemptResult } from './scheduler-metrics.js';
import { type QueuedPod, SchedulingQueue } from './scheduling-queue.js';

/** Options of a {@link Scheduler}. @category Scheduler */
export interface SchedulerOptions {
  apiClient: ApiClient;
  logger: Logger;
  metrics: MetricsRegistry;
  /** The plugin registry: every plugin a profile may enable. */
  registrations: readonly SchedulerPlugin[];
  /** The profile every configured profile is merged into (the default plugins' profile). */
  defaultProfile?: SchedulingProfile;
  /** The configuration (validated); absent: one `default-scheduler` profile with the defaults. */
  configuration?: SchedulerConfiguration;
  /** Shared informers to use; absent: the scheduler makes its own. */
  informerFactory?: SharedInformerFactory;
  clock?: Clock;
  /** How long an assumed pod may wait for its binding to be observed. Default 15 minutes. */
  assumedPodTtlMs?: number;
  /** Runnables the scheduler starts after. Default: `['system-namespaces']`. */
  dependsOn?: readonly string[];
}

interface RunState {
  readonly signal: AbortSignal;
  readonly queue: SchedulingQueue;
  readonly cache: SchedulerCache;
  readonly frameworks: ReadonlyMap<string, SchedulingFramework>;
  readonly subscriptions: Subscription[];
  readonly pendingWork: Set<Promise<void>>;
  stopReporting: () => void;
  loop?: Promise<void>;
  shutDown?: boolean;
}

const noPodInfos: readonly SchedulerPodInfo[] = Object.freeze([]);

function invalidConfiguration(causes: StatusCause[]): StatusError {
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
  return new StatusError('Invalid', `invalid scheduler configuration: ${summary}`, {
    kind: 'KubeSchedulerConfiguration',
    group: 'kubescheduler.config.k8s.io',
    causes,
  });
}

function podName(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

function isTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function nodeChangedForScheduling(oldNode: Node, node: Node): boolean {
  // Heartbeats rewrite conditions' timestamps constantly; only what scheduling reads moves pods.
  const relevant = (n: Node): string =>
    JSON.stringify([n.spec, n.metadata?.labels, n.status?.allocatable, n.status?.images?.length]);
  return relevant(oldNode) !== relevant(node);
}

/**
 * The scheduler: watches unscheduled pods of its profiles (`spec.schedulerName`) and nodes, and assigns
 * pods to nodes one scheduling cycle at a time, as upstream's `scheduleOne`:
 *
 * 1. pop the next pod from the {@link SchedulingQueue};
 * 2. take the cycle's snapshot from the {@link SchedulerCache} and run the profile's framework (PreFilter,
 *    Filter, PostFilter when nothing fits, PreScore, Score, host selection);
 * 3. assume the pod on the chosen node, run Reserve and Permit;
 * 4. start the binding cycle (wait at Permit, PreBind, Bind through `pods/binding`, PostBind) without
 *    waiting for it, and go on with the next pod.
 *
 * A failure unreserves, forgets the assumed pod, requeues it (with backoff), records a
 * `FailedScheduling` Event and sets `PodScheduled=False` (reason `Unschedulable`, or `SchedulerError`
 * for internal errors). A success records a `Scheduled` Event. Pods naming a scheduler without a profile
 * here are left alone.
 *
 * It is a {@link Runnable} with `needsLeaderElection`: with leader election wired, only the leader
 * schedules. Each start builds fresh frameworks, queue and cache, so leadership can come and go.
 * @category Scheduler
 */
export class Scheduler implements Runnable {
  readonly name = 'scheduler';
  readonly needsLeaderElection = true;
  readonly dependsOn: readonly string[];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: SchedulerMetrics;
  private readonly registry: PluginRegistry;
  private readonly profiles: readonly SchedulingProfile[];
  private run: RunState | undefined;
  private eventSequence = 0;

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? new SystemClock();
    this.logger = options.logger.child({ component: 'scheduler' });
    this.metrics = new SchedulerMetrics(options.metrics);
    this.registry = new PluginRegistry(options.registrations);
    this.dependsOn = options.dependsOn ?? ['system-namespaces'];
    const configured = options.configuration?.profiles ?? [];
    this.profiles = configured.length > 0 ? configured : [{ schedulerName: DefaultSchedulerName }];
    this.checkProfiles();
  }

  /**
   * Resolves every profile against the registry now, so an unknown plugin or a misplaced one fails the
   * wiring (naming the field) rather than the first leadership.
   */
  private checkProfiles(): void {
    const causes: StatusCause[] = [];
    for (const [index, profile] of this.profiles.entries()) {
      try {
        resolveSchedulingProfile(profile, {
          registry: this.registry,
          defaultProfile: this.options.defaultProfile,
          path: `profiles[${index}]`,
        });
      } catch (error) {
        if (!(error instanceof StatusError) || !error.details?.causes) throw error;
        causes.push(...error.details.causes);
      }
    }
    if (causes.length > 0) throw invalidConfiguration(causes);
  }

  /**
   * Builds every profile's plugins once, on caches that stay empty, and drops them: plugin factories
   * check their arguments, and this way a bad argument fails start-up on every replica (see
   * {@link SchedulerPluginCheck}) instead of only when this replica becomes leader.
   */
  async checkPlugins(): Promise<void> {
    const idle: SchedulingObjectListers = {
      forKind: <T extends KubeObject = KubeObject>(): CacheReader<T> => new IndexedCache<T>(),
    };
    this.checkQueueSort(await this.buildFrameworks(idle));
  }

  /** The profiles share one queue, so they must sort it alike (as upstream requires). */
  private checkQueueSort(frameworks: ReadonlyMap<string, SchedulingFramework>): void {
    const causes: StatusCause[] = [];
    const [first, ...rest] = [...frameworks.values()];
    const sortOf = (f: SchedulingFramework): string => f.pluginsAt('queueSort')[0]?.name ?? '';
    for (const framework of rest) {
      if (sortOf(framework) === sortOf(first)) continue;
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${framework.profile.path}.plugins.queueSort`,
        message: `Invalid value: "${sortOf(framework)}": has to match for all profiles (${first.profile.path} uses "${sortOf(first)}")`,
      });
    }
    if (causes.length > 0) throw invalidConfiguration(causes);
  }

  /** Pods per queue, for tests and diagnostics; all zero when not running. */
  pendingPods(): { active: number; backoff: number; unschedulable: number; gated: number } {
    return this.run?.queue.pendingCounts() ?? { active: 0, backoff: 0, unschedulable: 0, gated: 0 };
  }

  async start(stop: AbortSignal): Promise<void> {
    if (stop.aborted) return;
    // One listener on the caller's signal; ours carries one per informer (the plugins' included) and
    // per waiting pop, more than Node's default of 10 before it warns.
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    stop.addEventListener('abort', () => controller.abort(), { once: true });
    const signal = controller.signal;
    const factory =
      this.options.informerFactory ??
      new SharedInformerFactory(this.options.apiClient, { clock: this.clock });
    // Caches plugins ask for (Services, ReplicaSets, Namespaces, ...) run while the scheduler runs and
    // must sync before the first pod, like the scheduler's own.
    const handedOut = new Set<SharedInformer<KubeObject>>();
    const objectListers: SchedulingObjectListers = {
      forKind: <T extends KubeObject = KubeObject>(kind: KindReference): CacheReader<T> => {
        const informer = factory.forKind(kind);
        if (!handedOut.has(informer)) {
          handedOut.add(informer);
          void informer.start(signal);
        }
        return informer as unknown as CacheReader<T>;
      },
    };
    const frameworks = await this.buildFrameworks(objectListers);
    this.checkQueueSort(frameworks);
    if (signal.aborted) return;
    const config = this.options.configuration ?? {};
    const [first] = frameworks.values();
    const queue = new SchedulingQueue({
      clock: this.clock,
      less: (a, b) => first.queueSortLess(a, b),
      preEnqueue: (pod) =>
        frameworks.get(pod.spec?.schedulerName ?? DefaultSchedulerName)?.runPreEnqueue(pod) ??
        SchedulingStatus.success(),
      podInitialBackoffMs: (config.podInitialBackoffSeconds ?? 1) * 1000,
      podMaxBackoffMs: (config.podMaxBackoffSeconds ?? 10) * 1000,
    });
    const cache = new SchedulerCache({
      clock: this.clock,
      assumedPodTtlMs: this.options.assumedPodTtlMs,
      logger: this.logger,
    });
    const run: RunState = {
      signal,
      queue,
      cache,
      frameworks,
      subscriptions: [],
      pendingWork: new Set(),
      stopReporting: this.metrics.reportQueue(() => queue.pendingCounts()),
    };
    this.run = run;

    // Filter sees the pods nominated to a node (by preemption) of equal or higher priority there.
    const podInfos = new WeakMap<Pod, SchedulerPodInfo>();
    const nominated = (nodeName: string): readonly SchedulerPodInfo[] => {
      const pods = queue.nominatedPodsForNode(nodeName);
      if (pods.length === 0) return noPodInfos;
      return pods.map((pod) => {
        let info = podInfos.get(pod);
        if (!info) {
          info = new SchedulerPodInfo(pod);
          podInfos.set(pod, info);
        }
        return info;
      });
    };
    for (const framework of frameworks.values()) framework.setNominatedPods(nominated);

    const nodes = factory.forKind<Node>({ group: '', version: 'v1', kind: 'Node' });
    const pods = factory.forKind<Pod>({ group: '', version: 'v1', kind: 'Pod' });
    run.subscriptions.push(
      nodes.events$.subscribe((event) => this.onNodeEvent(run, event)),
      pods.events$.subscribe((event) => this.onPodEvent(run, event)),
    );
    // Stopped before the caches synced (leadership lost at once): nothing to schedule.
    const aborted = new Promise<void>((resolve) =>
      signal.addEventListener(
        'abort',
        () => {
          this.shutdown(run);
          resolve();
        },
        { once: true },
      ),
    );
    void nodes.start(signal);
    void pods.start(signal);
    const syncs = [nodes, pods, ...handedOut].map((informer) => informer.synced());
    await Promise.race([Promise.all(syncs), aborted]);
    if (signal.aborted) {
      this.shutdown(run);
      return;
    }
    run.loop = this.loop(run);
    this.logger.info({ profiles: [...frameworks.keys()] }, 'scheduler started');
  }

  async stopped(): Promise<void> {
    const run = this.run;
    if (!run) return;
    await run.loop;
    while (run.pendingWork.size > 0) await Promise.allSettled([...run.pendingWork]);
  }

  // ---------------------------------------------------------------------------------------------

  private async buildFrameworks(
    objectListers: SchedulingObjectListers,
  ): Promise<Map<string, SchedulingFramework>> {
    const config = this.options.configuration ?? {};
    const frameworks = new Map<string, SchedulingFramework>();
    for (const [index, profile] of this.profiles.entries()) {
      const framework = await SchedulingFramework.create({
        registry: this.registry,
        profile: {
          ...profile,
          percentageOfNodesToScore: profile.percentageOfNodesToScore ?? config.percentageOfNodesToScore,
        },
        defaultProfile: this.options.defaultProfile,
        profilePath: `profiles[${index}]`,
        apiClient: this.options.apiClient,
        logger: this.logger.child({ profile: profile.schedulerName ?? DefaultSchedulerName }),
        clock: this.clock,
        parallelism: config.parallelism,
        objectListers,
        observer: (o) => this.metrics.observePlugin(o.plugin, o.extensionPoint, o.status, o.durationSeconds),
      });
      frameworks.set(framework.schedulerName, framework);
    }
    return frameworks;
  }

  private shutdown(run: RunState): void {
    if (run.shutDown) return;
    run.shutDown = true;
    run.queue.close();
    run.stopReporting();
    for (const subscription of run.subscriptions) subscription.unsubscribe();
    // Pods held at Permit would otherwise keep their binding cycles waiting for up to 15 minutes.
    for (const framework of run.frameworks.values()) {
      for (const waiting of framework.waitingPods()) waiting.reject('', 'scheduler stopped');
    }
  }

  private responsibleFor(run: RunState, pod: Pod): boolean {
    return run.frameworks.has(pod.spec?.schedulerName ?? DefaultSchedulerName);
  }

  private onNodeEvent(run: RunState, event: InformerEvent<Node>): void {
    switch (event.type) {
      case 'added':
        run.cache.addNode(event.object);
        run.queue.moveAllToActiveOrBackoffQueue('NodeAdd');
        break;
      case 'updated':
        run.cache.updateNode(event.object);
        if (nodeChangedForScheduling(event.oldObject, event.object)) {
          run.queue.moveAllToActiveOrBackoffQueue('NodeUpdate');
        }
        break;
      case 'deleted':
        run.cache.removeNode(event.object);
        break;
    }
  }

  private onPodEvent(run: RunState, event: InformerEvent<Pod>): void {
    const pod = event.object;
    const assigned = Boolean(pod.spec?.nodeName);
    switch (event.type) {
      case 'added':
        if (assigned) {
          run.cache.addPod(pod);
          run.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
        } else if (this.responsibleFor(run, pod) && !isTerminated(pod)) {
          run.queue.add(pod);
        }
        break;
      case 'updated': {
        const old = event.oldObject;
        if (assigned) {
          // Seeing the pod bound confirms an assumed pod and takes it off the queue.
          if (!old.spec?.nodeName) run.queue.delete(pod);
          run.cache.updatePod(pod);
          if (isTerminated(pod) && !isTerminated(old)) {
            run.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
          }
        } else if (this.responsibleFor(run, pod) && !isTerminated(pod)) {
          run.queue.update(old, pod);
        } else {
          run.queue.delete(pod);
        }
        break;
      }
      case 'deleted':
        if (assigned) {
          run.cache.removePod(pod);
          run.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
        } else {
          run.queue.delete(pod);
          run.frameworks
            .get(pod.spec?.schedulerName ?? DefaultSchedulerName)
            ?.handle.rejectWaitingPod(podKey(pod), '', 'pod deleted');
        }
        break;
    }
  }

  private async loop(run: RunState): Promise<void> {
    while (!run.signal.aborted) {
      const info = await run.queue.pop(run.signal);
      if (!info) break;
      try {
        await this.scheduleOne(run, info);
      } catch (error) {
        // scheduleOne handles plugin failures itself; this is a bug, and the scheduler must go on.
        this.logger.error({ err: error, pod: podName(info.pod) }, 'unexpected failure in a scheduling cycle');
        run.queue.requeueAfterFailure(info, run.queue.cycle, true);
      }
    }
  }

  /** One scheduling cycle (upstream's schedulingCycle), then the binding cycle in the background. */
  private async scheduleOne(run: RunState, info: QueuedPod): Promise<void> {
    const pod = info.pod;
    const framework = run.frameworks.get(pod.spec?.schedulerName ?? DefaultSchedulerName);
    if (!framework || info.deleted || pod.metadata?.deletionTimestamp || pod.spec?.nodeName) {
      run.queue.done(info.uid);
      return;
    }
    const started = performance.now();
    const podCycle = run.queue.cycle;
    const state = framework.newCycleState();
    const snapshot = run.cache.beginCycle();
    let nodeName: string;
    let assumed: Pod;
    let permit: SchedulingStatus;
    try {
      const result = await framework.schedulePod(state, pod, snapshot);
      if (!result.status.isSuccess() || !result.selectedNode) {
        let status = result.status;
        let nominatedNodeName: string | undefined;
        if (status.isRejected() && result.numAllNodes > 0) {
          const post = await framework.runPostFilter(
            state,
            pod,
            result.diagnosis.nodeToStatus.toMap(snapshot.list().map((n) => n.name)),
          );
          if (post.status.code === 'Error') {
            status = post.status;
          } else {
            nominatedNodeName = post.result?.nominatedNodeName;
            if (!post.status.isSuccess() && post.status.reasons.length > 0) {
              result.diagnosis.postFilterMessage = post.status.message();
            }
            status = new SchedulingStatus(
              'Unschedulable',
              [fitErrorMessage(result.numAllNodes, result.diagnosis)],
              status.plugin,
            );
          }
        }
        info.unschedulablePlugins = new Set(result.diagnosis.unschedulablePlugins);
        this.failed(run, framework, info, status, podCycle, started, nominatedNodeName);
        return;
      }
      nodeName = result.selectedNode;
      // Assume: the pod counts against the node from now on, so the next cycle sees it there.
      run.cache.assumePod(pod, nodeName);
      assumed = { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName } };
      const reserve = await framework.runReserve(state, assumed, nodeName);
      if (!reserve.isSuccess()) {
        await framework.runUnreserve(state, assumed, nodeName);
        run.cache.forgetPod(pod);
        this.failed(run, framework, info, reserve, podCycle, started);
        return;
      }
      permit = await framework.runPermit(state, assumed, nodeName);
      if (!permit.isSuccess() && !permit.isWait()) {
        await framework.runUnreserve(state, assumed, nodeName);
        run.cache.forgetPod(pod);
        this.failed(run, framework, info, permit, podCycle, started);
        return;
      }
    } finally {
      run.cache.endCycle();
    }
    // The pod stays in flight through its binding cycle, so a deletion meanwhile is noticed on failure.
    const binding = this.bindingCycle(run, framework, info, state, assumed, nodeName, podCycle, started);
    run.pendingWork.add(binding);
    void binding.finally(() => run.pendingWork.delete(binding));
  }

  /** Waits at Permit, then PreBind, Bind and PostBind (upstream's bindingCycle). Never throws. */
  private async bindingCycle(
    run: RunState,
    framework: SchedulingFramework,
    info: QueuedPod,
    state: CycleState,
    assumed: Pod,
    nodeName: string,
    podCycle: number,
    started: number,
  ): Promise<void> {
    const fail = async (status: SchedulingStatus): Promise<void> => {
      await framework.runUnreserve(state, assumed, nodeName);
      run.cache.forgetPod(assumed);
      this.failed(run, framework, info, status, podCycle, started);
    };
    try {
      const permit = await framework.waitOnPermit(assumed);
      if (!permit.isSuccess()) return await fail(permit);
      const preBind = await framework.runPreBind(state, assumed, nodeName);
      if (!preBind.isSuccess()) return await fail(preBind);
      const bind = await framework.runBind(state, assumed, nodeName);
      if (bind.isSkip()) {
        return await fail(SchedulingStatus.error(`no Bind plugin bound pod ${podName(assumed)}`));
      }
      if (!bind.isSuccess()) return await fail(bind);
      run.cache.finishBinding(assumed);
      run.queue.done(info.uid);
      this.observe('scheduled', framework, started);
      this.logger.debug({ pod: podName(assumed), node: nodeName }, 'pod bound');
      this.recordEvent(
        run,
        framework,
        assumed,
        'Normal',
        'Scheduled',
        `Successfully assigned ${podName(assumed)} to ${nodeName}`,
      );
      await framework.runPostBind(state, assumed, nodeName);
    } catch (error) {
      await fail(SchedulingStatus.error(error)).catch((e: unknown) =>
        this.logger.error({ err: e, pod: podName(assumed) }, 'cannot handle a binding failure'),
      );
    }
  }

  /** Handles a failed attempt: requeue, metrics, FailedScheduling Event, PodScheduled=False. */
  private failed(
    run: RunState,
    framework: SchedulingFramework,
    info: QueuedPod,
    status: SchedulingStatus,
    podCycle: number,
    started: number,
    nominatedNodeName?: string,
  ): void {
    const isError = status.code === 'Error';
    this.observe(isError ? 'error' : 'unschedulable', framework, started);
    if (status.plugin && !isError) info.unschedulablePlugins.add(status.plugin);
    run.queue.requeueAfterFailure(info, podCycle, isError);
    if (nominatedNodeName) run.queue.setNominatedNode(info.pod, nominatedNodeName);
    if (run.signal.aborted || info.deleted) return;
    const message = status.message() || status.code;
    const pod = info.pod;
    if (isError) {
      this.logger.warn(
        { pod: podName(pod), plugin: status.plugin, err: status.cause },
        `error scheduling pod: ${message}`,
      );
    } else {
      this.logger.debug({ pod: podName(pod) }, `unable to schedule pod: ${message}`);
    }
    this.recordEvent(run, framework, pod, 'Warning', 'FailedScheduling', message);
    this.track(
      run,
      this.setUnschedulableCondition(
        pod,
        isError ? 'SchedulerError' : 'Unschedulable',
        message,
        nominatedNodeName,
      ),
    );
  }

  private observe(result: SchedulingAttemptResult, framework: SchedulingFramework, started: number): void {
    this.metrics.observeAttempt(result, framework.schedulerName, (performance.now() - started) / 1000);
  }

  private track(run: RunState, work: Promise<void>): void {
    run.pendingWork.add(work);
    void work.finally(() => run.pendingWork.delete(work));
  }

  private async setUnschedulableCondition(
    pod: Pod,
    reason: string,
    message: string,
    nominatedNodeName: string | undefined,
  ): Promise<void> {
    const conditions = [...(pod.status?.conditions ?? [])];
    const index = conditions.findIndex((c) => c.type === 'PodScheduled');
    const previous: PodCondition | undefined = index >= 0 ? conditions[index] : undefined;
    if (
      previous?.status === 'False' &&
      previous.reason === reason &&
      previous.message === message &&
      !nominatedNodeName
    ) {
      return; // Nothing new to say: spare the API a write per retry.
    }
    const condition: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason,
      message,
      lastTransitionTime:
        previous?.status === 'False' && previous.lastTransitionTime
          ? previous.lastTransitionTime
          : formatTimestamp(this.clock.now()),
    };
    if (index >= 0) conditions[index] = condition;
    else conditions.push(condition);
    const status: Record<string, unknown> = { conditions };
    if (nominatedNodeName) status.nominatedNodeName = nominatedNodeName;
    try {
      await this.options.apiClient.patch(
        { group: '', version: 'v1', kind: 'Pod' },
        pod.metadata?.name ?? '',
        'merge',
        { status },
        { namespace: pod.metadata?.namespace, subresource: 'status' },
      );
    } catch (error) {
      if (!isStatusError(error, 'NotFound')) {
        this.logger.warn({ err: error, pod: podName(pod) }, 'cannot update the PodScheduled condition');
      }
    }
  }

  private recordEvent(
    run: RunState,
    framework: SchedulingFramework,
    pod: Pod,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    const event = newEvent({
      regarding: objectReference(pod, { apiVersion: 'v1', kind: 'Pod' }, { resourceVersion: true }),
      type,
      reason,
      action: reason === 'Scheduled' ? 'Binding' : 'Scheduling',
      message,
      reportingComponent: framework.schedulerName,
      nowMs: this.clock.now(),
      sequence: this.eventSequence++,
    });
    const write = this.options.apiClient.create(event).then(
      () => undefined,
      (error: unknown) => {
        if (!isStatusError(error, 'NotFound') && !isStatusError(error, 'Forbidden')) {
          this.logger.warn({ err: error, pod: podName(pod), reason }, 'cannot record an event');
        }
      },
    );
    this.track(run, write);
  }
}

/**
 * Checks the scheduler's plugins (their arguments) when the control plane starts, before leader
 * election: the scheduler itself only starts on the leader, and a standby with a bad configuration
 * would otherwise run on, unable to ever schedule.
 * @category Scheduler
 */
export class SchedulerPluginCheck implements Runnable {
  readonly name = 'scheduler-plugin-check';
  constructor(private readonly scheduler: Scheduler) {}
  async start(): Promise<void> {
    await this.scheduler.checkPlugins();
  }
}
