// SPDX-License-Identifier: Apache-2.0
// End to end: controllers written as a plugin author would write them, wired as modules into a real
// in-process control plane (registry + in-process ApiClient + the embedded store), using only the
// public exports. docs/guides/writing-a-controller.md walks through this file.
import {
  ApiClient,
  ContainerModule,
  Controller,
  ControlPlaneBuilder,
  controllerFor,
  controllerOwnerOf,
  createLogger,
  ItemExponentialFailureRateLimiter,
  informersModule,
  inject,
  injectable,
  inProcessApiClientModule,
  isStatusError,
  LeaderElector,
  Logger,
  leaderElectionModule,
  MetricsRegistry,
  type RateLimiter,
  type ReconcileRequest,
  type ReconcileResult,
  type Reconciler,
  registryModule,
  SharedInformerFactory,
  systemNamespacesModule,
  TerminalError,
} from '@cpkit/core';
import { startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { embeddedStoreModule, openEmbeddedStore } from '@cpkit/store-embedded';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap, Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';

// ---------------------------------------------------------------------------------------------------
// The example controller: keeps `spec.replicas` pods of each ReplicaSet.
// ---------------------------------------------------------------------------------------------------

/**
 * Keeps `spec.replicas` pods controlled by each ReplicaSet: creates them from the template, deletes
 * the extra ones, and reports the count in `status.replicas`.
 *
 * Level-triggered: it receives a key, never an event, reads the current state and converges. It runs
 * the same way whether it was woken by a ReplicaSet change, a change to one of its pods, or a retry.
 */
@injectable()
export class ReplicaSetReconciler implements Reconciler {
  constructor(@inject(ApiClient) private readonly client: ApiClient) {}

  async reconcile(request: ReconcileRequest): Promise<ReconcileResult> {
    const { namespace, name } = request;
    let replicaSet: ReplicaSet;
    try {
      replicaSet = await this.client.get<ReplicaSet>('ReplicaSet', name, { namespace });
    } catch (error) {
      // Deleted since it was queued: nothing left to converge.
      if (isStatusError(error, 'NotFound')) return {};
      throw error; // anything else: retried with backoff
    }

    // Pods run as their service account. Creating them before it exists would fail admission
    // upstream, so wait for it: the thrown NotFound retries this key with exponential backoff.
    const serviceAccount = replicaSet.spec?.template?.spec?.serviceAccountName;
    if (serviceAccount)
      await this.client.get<ServiceAccount>('ServiceAccount', serviceAccount, { namespace });

    const matchLabels = replicaSet.spec?.selector?.matchLabels ?? {};
    const selector = Object.entries(matchLabels)
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    const pods = (await this.client.list<Pod>('Pod', { namespace, labelSelector: selector })).items.filter(
      (pod) => controllerOwnerOf(pod)?.uid === replicaSet.metadata?.uid && !pod.metadata?.deletionTimestamp,
    );

    const wanted = replicaSet.spec?.replicas ?? 1;
    for (let i = pods.length; i < wanted; i++) await this.client.create(podFor(replicaSet));
    // Scale down newest first, as upstream prefers to keep the pods that have run longest.
    // creationTimestamp has one-second resolution: ties go by name, so the choice is stable.
    const age = (pod: Pod): string => `${pod.metadata?.creationTimestamp ?? ''} ${pod.metadata?.name}`;
    const extra = pods
      .sort((a, b) => age(b).localeCompare(age(a)))
      .slice(0, Math.max(0, pods.length - wanted));
    for (const pod of extra) {
      try {
        await this.client.delete('Pod', pod.metadata!.name!, { namespace });
      } catch (error) {
        if (!isStatusError(error, 'NotFound')) throw error;
      }
    }

    const replicas = Math.max(pods.length, wanted) - extra.length;
    const generation = replicaSet.metadata?.generation;
    if (replicaSet.status?.replicas !== replicas || replicaSet.status?.observedGeneration !== generation) {
      // Carries the resourceVersion just read: a concurrent change makes this a Conflict, which
      // throws and retries against the newer state.
      await this.client.updateStatus<ReplicaSet>({
        ...replicaSet,
        status: { ...replicaSet.status, replicas, observedGeneration: generation },
      });
    }
    return {};
  }
}

/** A pod from the ReplicaSet's template, controlled by it. */
function podFor(replicaSet: ReplicaSet): Pod {
  const { name, namespace, uid } = replicaSet.metadata!;
  const template = replicaSet.spec!.template!;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${name}-`,
      namespace,
      labels: { ...template.metadata?.labels },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: name!,
          uid: uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: structuredClone(template.spec!),
  };
}

/** Options of {@link replicaSetControllerModule}. */
export interface ReplicaSetControllerOptions {
  /** ReplicaSets reconciled at once. Default 2. */
  concurrency?: number;
  /** Retry backoff; default: the controller runtime's (5 ms doubling, 10 qps overall). */
  rateLimiter?: RateLimiter<string>;
}

/**
 * The plugin's one module: binds the reconciler and contributes the controller. The control-plane
 * builder starts every `Controller` it finds (controllers from the builder are Runnables).
 * Needs `informersModule()` (one shared informer per kind for the whole process).
 */
export function replicaSetControllerModule(options: ReplicaSetControllerOptions = {}): ContainerModule {
  return new ContainerModule((bind) => {
    bind(ReplicaSetReconciler).toSelf().inSingletonScope();
    bind(Controller)
      .toDynamicValue(({ container }) => {
        const informers = container.get(SharedInformerFactory);
        // The same shared informer (and cache) the controller uses for its primary kind.
        const replicaSets = informers.forKind<ReplicaSet>('ReplicaSet');
        const builder = controllerFor('ReplicaSet', {
          informers,
          registry: container.get<MetricsRegistry>(MetricsRegistry),
          logger: container.get<Logger>(Logger),
        })
          .owns('Pod') // a pod change wakes the ReplicaSet named in its controller owner reference
          // A service account appearing wakes the ReplicaSets waiting for it, without waiting for backoff.
          .watches<ServiceAccount>('ServiceAccount', (account) =>
            replicaSets
              .list(account.metadata?.namespace)
              .filter((rs) => rs.spec?.template?.spec?.serviceAccountName === account.metadata?.name)
              .map((rs) => ({ namespace: rs.metadata!.namespace!, name: rs.metadata!.name! })),
          )
          .withConcurrency(options.concurrency ?? 2);
        if (options.rateLimiter) builder.withRateLimiter(options.rateLimiter);
        return builder.complete(container.get(ReplicaSetReconciler));
      })
      .inSingletonScope();
  });
}

// ---------------------------------------------------------------------------------------------------
// A second, smaller controller: deletes ConfigMaps once their expiry annotation has passed.
// ---------------------------------------------------------------------------------------------------

const expiresAtAnnotation = 'example.cpkit.dev/expires-at';

/** Deletes each ConfigMap annotated with an ISO `expires-at` once that time has passed. */
@injectable()
export class ExpiryReconciler implements Reconciler {
  constructor(@inject(ApiClient) private readonly client: ApiClient) {}

  async reconcile({ namespace, name }: ReconcileRequest): Promise<ReconcileResult> {
    let configMap: ConfigMap;
    try {
      configMap = await this.client.get<ConfigMap>('ConfigMap', name, { namespace });
    } catch (error) {
      if (isStatusError(error, 'NotFound')) return {};
      throw error;
    }
    const annotation = configMap.metadata?.annotations?.[expiresAtAnnotation];
    if (annotation === undefined) return {};
    const expiresAt = Date.parse(annotation);
    // Retrying cannot fix a malformed annotation: stop until someone edits the object.
    if (Number.isNaN(expiresAt))
      throw new TerminalError(`${expiresAtAnnotation}: "${annotation}" is not a date`);
    const remainingMs = expiresAt - Date.now();
    // Nothing will change on the object when it expires, so no event would wake us: ask for a call then.
    if (remainingMs > 0) return { requeueAfter: remainingMs };
    await this.client.delete('ConfigMap', name, {
      namespace,
      preconditions: { uid: configMap.metadata?.uid },
    });
    return {};
  }
}

export function expiryControllerModule(): ContainerModule {
  return new ContainerModule((bind) => {
    bind(ExpiryReconciler).toSelf().inSingletonScope();
    bind(Controller)
      .toDynamicValue(({ container }) =>
        controllerFor('ConfigMap', {
          informers: container.get(SharedInformerFactory),
          registry: container.get<MetricsRegistry>(MetricsRegistry),
        })
          .named('configmap-expiry')
          .complete(container.get(ExpiryReconciler)),
      )
      .inSingletonScope();
  });
}

// ---------------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------------

function replicaSet(name: string, replicas: number, serviceAccountName?: string): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'busybox' }], serviceAccountName },
      },
    },
  };
}

/** The pods controlled by ReplicaSet `name`, as the API returns them. */
async function podsOf(cp: Pick<TestControlPlane, 'client'>, name: string): Promise<Pod[]> {
  const owner = await cp.client.get<ReplicaSet>('ReplicaSet', name, { namespace: 'default' });
  const pods = await cp.client.list<Pod>('Pod', { namespace: 'default', labelSelector: `app=${name}` });
  return pods.items.filter((pod) => controllerOwnerOf(pod)?.uid === owner.metadata?.uid);
}

/** The value of one series of a counter or gauge in the control plane's metrics registry. */
async function metricValue(
  cp: TestControlPlane,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = cp.controlPlane.get<MetricsRegistry>(MetricsRegistry).getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value;
}

/** Whether ConfigMap `name` no longer exists. */
async function gone(cp: TestControlPlane, name: string): Promise<boolean> {
  try {
    await cp.client.get('ConfigMap', name, { namespace: 'default' });
    return false;
  } catch (error) {
    if (isStatusError(error, 'NotFound')) return true;
    throw error;
  }
}

const running: TestControlPlane[] = [];
afterEach(async () => {
  for (const cp of running.splice(0)) await cp.stop();
});

async function start(...modules: ContainerModule[]): Promise<TestControlPlane> {
  const cp = await startTestControlPlane({ store: await openEmbeddedStore(), modules });
  running.push(cp);
  return cp;
}

/** Resolves once `name` owns exactly `count` pods and reports `status.replicas === count`. */
async function converged(cp: Pick<TestControlPlane, 'client'>, name: string, count: number): Promise<Pod[]> {
  let pods: Pod[] = [];
  await eventually(async () => {
    pods = await podsOf(cp, name);
    const owner = await cp.client.get<ReplicaSet>('ReplicaSet', name, { namespace: 'default' });
    return pods.length === count && owner.status?.replicas === count;
  }, `ReplicaSet ${name} has ${count} pods and status.replicas ${count}`);
  return pods;
}

describe('a ReplicaSet-style controller on the real control plane', () => {
  it('scales up, scales down, and recreates a pod deleted behind its back', async () => {
    const cp = await start(informersModule(), replicaSetControllerModule());

    await cp.client.create(replicaSet('web', 3));
    const pods = await converged(cp, 'web', 3);
    for (const pod of pods) {
      expect(pod.metadata?.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(controllerOwnerOf(pod)).toMatchObject({ kind: 'ReplicaSet', name: 'web', controller: true });
      expect(pod.spec?.containers?.[0]?.image).toBe('busybox');
    }

    await cp.client.patch('ReplicaSet', 'web', 'merge', { spec: { replicas: 5 } }, { namespace: 'default' });
    await converged(cp, 'web', 5);

    await cp.client.patch('ReplicaSet', 'web', 'merge', { spec: { replicas: 1 } }, { namespace: 'default' });
    const [survivor] = await converged(cp, 'web', 1);

    await cp.client.delete('Pod', survivor.metadata!.name!, { namespace: 'default' });
    await eventually(async () => {
      const now = await podsOf(cp, 'web');
      return now.length === 1 && now[0].metadata?.uid !== survivor.metadata?.uid;
    }, 'the deleted pod is replaced by a new one');

    const status = (await cp.client.get<ReplicaSet>('ReplicaSet', 'web', { namespace: 'default' })).status;
    expect(status).toMatchObject({ replicas: 1, observedGeneration: 3 });
  });

  it('runs wired as in the single-node starter, behind leader election', async () => {
    const store = await openEmbeddedStore();
    const controlPlane = await new ControlPlaneBuilder({ gracePeriodMs: 5000 })
      .withModules(
        new ContainerModule((bind) => bind(Logger).toConstantValue(createLogger({ level: 'silent' }))),
        embeddedStoreModule(store),
        registryModule(),
        inProcessApiClientModule(),
        systemNamespacesModule(),
        leaderElectionModule({
          leaseName: 'cpkit-single-node',
          leaseNamespace: 'kube-system',
          identity: 'e2e',
          dependsOn: ['system-namespaces'],
        }),
        informersModule(),
        replicaSetControllerModule(),
      )
      .build();
    try {
      await controlPlane.start();
      const cp = { client: controlPlane.get<ApiClient>(ApiClient) };
      await cp.client.create(replicaSet('web', 2));
      await converged(cp, 'web', 2);
      expect(controlPlane.get(LeaderElector).isLeader()).toBe(true);
    } finally {
      await controlPlane.stop();
      await store.close();
    }
  });

  it('keeps two ReplicaSets apart, each with its own pods', async () => {
    const cp = await start(informersModule(), replicaSetControllerModule());
    await cp.client.create(replicaSet('a', 2));
    await cp.client.create(replicaSet('b', 3));
    await converged(cp, 'a', 2);
    await converged(cp, 'b', 3);
    const all = await cp.client.list<Pod>('Pod', { namespace: 'default' });
    expect(all.items).toHaveLength(5);
  });

  it('retries a failing reconcile with growing backoff, then succeeds', async () => {
    // Record when each reconcile of the ReplicaSet began and how it ended, by swapping the
    // reconciler binding for a subclass: the controller and everything else stay as shipped.
    const attempts: { at: number; failed: boolean }[] = [];
    @injectable()
    class RecordingReconciler extends ReplicaSetReconciler {
      override async reconcile(request: ReconcileRequest): Promise<ReconcileResult> {
        const attempt = { at: performance.now(), failed: false };
        attempts.push(attempt);
        try {
          return await super.reconcile(request);
        } catch (error) {
          attempt.failed = true;
          throw error;
        }
      }
    }
    const baseDelayMs = 40;
    const cp = await start(
      informersModule(),
      replicaSetControllerModule({ rateLimiter: new ItemExponentialFailureRateLimiter(baseDelayMs, 5_000) }),
      new ContainerModule((_bind, _unbind, _isBound, rebind) => {
        rebind(ReplicaSetReconciler).to(RecordingReconciler).inSingletonScope();
      }),
    );

    // The template names a service account that does not exist yet: every reconcile throws NotFound.
    await cp.client.create(replicaSet('api', 2, 'builder'));
    await eventually(() => attempts.filter((a) => a.failed).length >= 4, 'four reconciles have failed');
    await cp.client.create<ServiceAccount>({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'builder', namespace: 'default' },
    });
    await converged(cp, 'api', 2);

    // Each retry waited at least twice as long as the one before: 40, 80, 160 ms, ...
    const failures = attempts.findIndex((a) => !a.failed);
    expect(failures).toBeGreaterThanOrEqual(4);
    // (Only between failures: the ServiceAccount's arrival wakes the next attempt through watches().)
    for (let i = 1; i < failures; i++) {
      const waited = attempts[i].at - attempts[i - 1].at;
      expect(waited).toBeGreaterThanOrEqual(baseDelayMs * 2 ** (i - 1) - 3);
    }
    const errors = await metricValue(cp, 'controller_runtime_reconcile_total', {
      controller: 'replicaset',
      result: 'error',
    });
    expect(errors).toBe(attempts.filter((a) => a.failed).length);
    expect(
      await metricValue(cp, 'controller_runtime_reconcile_errors_total', { controller: 'replicaset' }),
    ).toBe(errors);
    expect(await metricValue(cp, 'workqueue_retries_total', { name: 'replicaset' })).toBeGreaterThanOrEqual(
      errors!,
    );
  });

  it('wakes a ReplicaSet through watches() when the service account it waits for appears', async () => {
    // Retries so slow that only the ServiceAccount event can bring the ReplicaSet up in time.
    const cp = await start(
      informersModule(),
      replicaSetControllerModule({ rateLimiter: new ItemExponentialFailureRateLimiter(60_000, 60_000) }),
    );
    await cp.client.create(replicaSet('worker', 2, 'runner'));
    await eventually(
      async () =>
        (await metricValue(cp, 'controller_runtime_reconcile_errors_total', { controller: 'replicaset' })) ===
        1,
      'the first reconcile has failed',
    );
    await cp.client.create<ServiceAccount>({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'runner', namespace: 'default' },
    });
    await converged(cp, 'worker', 2);
  });

  it('stops retrying on a TerminalError until the object changes', async () => {
    const cp = await start(informersModule(), expiryControllerModule());
    const terminal = () =>
      metricValue(cp, 'controller_runtime_terminal_reconcile_errors_total', {
        controller: 'configmap-expiry',
      });
    const errors = () =>
      metricValue(cp, 'controller_runtime_reconcile_errors_total', { controller: 'configmap-expiry' });
    await cp.client.create<ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'typo', namespace: 'default', annotations: { [expiresAtAnnotation]: 'tomorrow' } },
    });
    await eventually(async () => (await terminal()) === 1, 'the malformed annotation fails terminally');

    // Another object goes through the same queue; a retry of the first (5 ms backoff) would show by then.
    const past = new Date(Date.now() - 1000).toISOString();
    await cp.client.create<ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'expired', namespace: 'default', annotations: { [expiresAtAnnotation]: past } },
    });
    await eventually(() => gone(cp, 'expired'), 'the other, expired ConfigMap is deleted');
    expect(await errors()).toBe(1);
    expect(await terminal()).toBe(1);

    // Fixing the object is a change: it is reconciled again, and now it expires.
    await cp.client.patch(
      'ConfigMap',
      'typo',
      'merge',
      { metadata: { annotations: { [expiresAtAnnotation]: past } } },
      { namespace: 'default' },
    );
    await eventually(() => gone(cp, 'typo'), 'the fixed ConfigMap is deleted');
  });

  it('honours requeueAfter: an object nothing touches is reconciled again when asked', async () => {
    const cp = await start(informersModule(), expiryControllerModule());
    const ttlMs = 400;
    const created = Date.now();
    await cp.client.create<ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'short-lived',
        namespace: 'default',
        annotations: { [expiresAtAnnotation]: new Date(created + ttlMs).toISOString() },
      },
    });
    await cp.client.create<ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'forever', namespace: 'default' },
    });

    await eventually(() => gone(cp, 'short-lived'), 'the expired ConfigMap is deleted');
    expect(Date.now() - created).toBeGreaterThanOrEqual(ttlMs);
    await expect(cp.client.get('ConfigMap', 'forever', { namespace: 'default' })).resolves.toBeDefined();

    const requeues = await metricValue(cp, 'controller_runtime_reconcile_total', {
      controller: 'configmap-expiry',
      result: 'requeue_after',
    });
    // At least once; a timer may fire a millisecond early and ask again, but it must not spin.
    expect(requeues).toBeGreaterThanOrEqual(1);
    expect(requeues).toBeLessThanOrEqual(3);
  });

  it('exports controller-runtime and work-queue metrics to the control plane registry', async () => {
    const cp = await start(informersModule(), replicaSetControllerModule({ concurrency: 3 }));
    await cp.client.create(replicaSet('metrics', 2));
    await converged(cp, 'metrics', 2);

    const labels = (result: string) => ({ controller: 'replicaset', result });
    expect(
      await metricValue(cp, 'controller_runtime_reconcile_total', labels('success')),
    ).toBeGreaterThanOrEqual(1);
    expect(await metricValue(cp, 'controller_runtime_reconcile_total', labels('error'))).toBe(0);
    expect(await metricValue(cp, 'controller_runtime_reconcile_total', labels('requeue'))).toBe(0);
    expect(await metricValue(cp, 'controller_runtime_reconcile_total', labels('requeue_after'))).toBe(0);
    expect(
      await metricValue(cp, 'controller_runtime_max_concurrent_reconciles', { controller: 'replicaset' }),
    ).toBe(3);
    expect(await metricValue(cp, 'workqueue_adds_total', { name: 'replicaset' })).toBeGreaterThanOrEqual(1);

    // The text exposition a Prometheus scrape would read.
    const text = await cp.controlPlane.get<MetricsRegistry>(MetricsRegistry).metrics();
    expect(text).toMatch(
      /^controller_runtime_reconcile_total\{controller="replicaset",result="success"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^controller_runtime_reconcile_time_seconds_count\{controller="replicaset"\} [1-9]/m,
    );
  });
});
