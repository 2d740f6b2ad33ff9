// SPDX-License-Identifier: Apache-2.0

import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { type KindReference, type KubeObject, parseApiVersion } from '../api/object.js';
import { type Clock, SystemClock } from '../clock/clock.js';
import {
  type Controller,
  type ReconcileRequest,
  type ReconcileResult,
  type Reconciler,
  TerminalError,
} from '../contracts/controller.js';
import type { Runnable } from '../contracts/runnable.js';
import { StatusError } from '../errors/status-error.js';
import { objectKey, splitObjectKey } from '../informers/indexed-cache.js';
import type { InformerEvent, InformerSelection } from '../informers/shared-informer.js';
import type { SharedInformerFactory } from '../informers/shared-informer-factory.js';
import type { RateLimiter } from '../workqueue/rate-limiter.js';
import { defaultControllerRateLimiter } from '../workqueue/rate-limiter.js';
import { WorkQueue } from '../workqueue/workqueue.js';
import { ControllerMetrics, type ReconcileOutcome } from './controller-metrics.js';

/** Maps a watched object to the requests to reconcile. @category Controller runtime */
export type MapFunc<T extends KubeObject = KubeObject> = (object: T) => readonly ReconcileRequest[];

/** One source of reconcile requests. @category Controller runtime */
export type ControllerSource =
  | { type: 'for'; kind: KindReference; selection?: InformerSelection }
  | { type: 'owns'; kind: KindReference }
  | { type: 'watches'; kind: KindReference; map: MapFunc };

/** Everything a {@link ReconcilingController} is made of; the builder fills it in. @category Controller runtime */
export interface ReconcilingControllerSpec {
  name: string;
  sources: readonly ControllerSource[];
  reconciler: Reconciler;
  /** Reconciles that may run at once (different keys only). */
  concurrency: number;
  needsLeaderElection: boolean;
  informers: SharedInformerFactory;
  clock?: Clock;
  registry?: Registry;
  logger?: Logger;
  /** Default: per-item 5 ms → 1000 s backoff and a 10 qps / burst 100 bucket. */
  rateLimiter?: RateLimiter<string>;
}

/**
 * The owner reference with `controller: true`, if any: the object that manages this one.
 * @category Controller runtime
 */
export function controllerOwnerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/** Tells whether an owner reference points at the controller's primary kind. */
function ownerMatcher(kind: KindReference): (ref: OwnerReference, sample: KubeObject | undefined) => boolean {
  if (typeof kind !== 'string') {
    return (ref) => ref.kind === kind.kind && parseApiVersion(ref.apiVersion).group === kind.group;
  }
  // A kind name ('ReplicaSet'): match by kind. A resource ('replicasets.apps'): learn the kind from
  // the primary objects themselves, which carry apiVersion and kind.
  if (/^[A-Z]/.test(kind) && !kind.includes('.')) return (ref) => ref.kind === kind;
  return (ref, sample) =>
    sample?.kind !== undefined &&
    ref.kind === sample.kind &&
    parseApiVersion(ref.apiVersion).group === parseApiVersion(sample.apiVersion ?? '').group;
}

const requestKey = (request: ReconcileRequest): string =>
  request.namespace ? `${request.namespace}/${request.name}` : request.name;

/**
 * A controller built by `ControllerBuilder`: informers feed keys into a rate-limited work queue and
 * `concurrency` workers call the reconciler, one key at a time per key.
 * - resolve `{}` → the key's backoff is reset;
 * - resolve `{ requeueAfter: ms > 0 }` → reconciled again after `ms` (backoff reset);
 * - resolve `{ requeueAfter: 0 }` → requeued at once but rate-limited, so it cannot spin;
 * - throw → retried with per-item exponential backoff;
 * - throw {@link TerminalError} → counted, not retried until the object changes.
 *
 * A {@link Runnable}: `start` resolves once the informers have synced and the workers run; on abort
 * the queue shuts down and {@link ReconcilingController.stopped} resolves when in-flight reconciles end.
 * @category Controller runtime
 */
export class ReconcilingController implements Runnable, Controller {
  readonly name: string;
  readonly needsLeaderElection: boolean;
  readonly concurrency: number;
  private readonly spec: ReconcilingControllerSpec;
  private readonly clock: Clock;
  private readonly metrics: ControllerMetrics;
  private readonly logger: Logger | undefined;
  private running: Promise<void> | undefined;
  private queue: WorkQueue<string> | undefined;

  constructor(spec: ReconcilingControllerSpec) {
    this.spec = spec;
    this.name = spec.name;
    this.needsLeaderElection = spec.needsLeaderElection;
    this.concurrency = spec.concurrency;
    this.clock = spec.clock ?? new SystemClock();
    this.metrics = ControllerMetrics.for(spec.registry);
    this.logger = spec.logger?.child({ controller: spec.name });
  }

  /** Queues a reconcile of `request` (as a watch event would). Ignored when not running. */
  enqueue(request: ReconcileRequest): void {
    this.queue?.add(requestKey(request));
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new StatusError('BadRequest', `controller "${this.name}" is already running`);
    if (signal.aborted) return;
    const queue = new WorkQueue<string>({
      name: this.name,
      clock: this.clock,
      registry: this.spec.registry,
      rateLimiter: this.spec.rateLimiter ?? defaultControllerRateLimiter<string>(this.clock),
    });
    this.queue = queue;
    this.metrics.initialize(this.name, this.concurrency);

    const primary = this.spec.sources.find((s) => s.type === 'for')!;
    const primaryInformer = this.spec.informers.forKind(
      primary.kind,
      primary.type === 'for' ? primary.selection : {},
    );
    const subscriptions: Subscription[] = [];
    const informers = [primaryInformer];
    for (const source of this.spec.sources) {
      const informer = source.type === 'for' ? primaryInformer : this.spec.informers.forKind(source.kind);
      if (source.type !== 'for') informers.push(informer);
      const toKeys = this.keysFor(source, () => primaryInformer.list()[0]);
      subscriptions.push(
        informer.events$.subscribe((event) => {
          for (const key of toKeys(event)) queue.add(key);
        }),
      );
    }

    const stop = (): void => {
      for (const s of subscriptions) s.unsubscribe();
      queue.shutDown();
    };
    signal.addEventListener('abort', stop, { once: true });

    await Promise.all(informers.map((informer) => informer.start(signal)));
    if (signal.aborted) {
      this.queue = undefined;
      return;
    }
    this.logger?.info({ concurrency: this.concurrency }, 'starting workers');
    const workers = Array.from({ length: this.concurrency }, () => this.work(queue, signal));
    this.running = Promise.all(workers).then(() => {
      this.running = undefined;
      this.queue = undefined;
      this.logger?.info('stopped');
    });
  }

  async stopped(): Promise<void> {
    await this.running;
  }

  private keysFor(
    source: ControllerSource,
    samplePrimary: () => KubeObject | undefined,
  ): (event: InformerEvent<KubeObject>) => string[] {
    const objectsOf = (event: InformerEvent<KubeObject>): KubeObject[] =>
      event.type === 'updated' && event.oldObject !== event.object
        ? [event.oldObject, event.object]
        : [event.object];
    const unique = (keys: string[]): string[] => [...new Set(keys)];
    switch (source.type) {
      case 'for':
        return (event) => [objectKey(event.object)];
      case 'owns': {
        const primary = this.spec.sources.find((s) => s.type === 'for')!.kind;
        const matches = ownerMatcher(primary);
        return (event) =>
          unique(
            objectsOf(event).flatMap((object) => {
              const ref = controllerOwnerOf(object);
              if (!ref || !matches(ref, samplePrimary())) return [];
              // An owner lives in its dependent's namespace unless its kind is cluster-scoped, which
              // the primary objects themselves tell (namespaced primaries carry a namespace).
              const sample = samplePrimary();
              const clusterScoped = sample !== undefined && !sample.metadata?.namespace;
              return [
                requestKey({
                  namespace: clusterScoped ? '' : (object.metadata?.namespace ?? ''),
                  name: ref.name,
                }),
              ];
            }),
          );
      }
      case 'watches':
        return (event) =>
          unique(
            objectsOf(event).flatMap((object) => {
              try {
                return source.map(object).map(requestKey);
              } catch (error) {
                this.logger?.error({ err: error }, 'map function of a watched kind threw; event ignored');
                return [];
              }
            }),
          );
    }
  }

  private async work(queue: WorkQueue<string>, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        // Keys still queued at shutdown are left for the next leader or start.
        if (!signal.aborted) await this.reconcileOne(queue, key, signal);
      } finally {
        queue.done(key);
      }
    }
  }

  private async reconcileOne(queue: WorkQueue<string>, key: string, signal: AbortSignal): Promise<void> {
    const controller = this.name;
    const request = splitObjectKey(key);
    const started = this.clock.now();
    this.metrics.activeWorkers.inc({ controller });
    let outcome: ReconcileOutcome;
    try {
      const result: ReconcileResult | undefined = await this.spec.reconciler.reconcile(request, signal);
      const after = result?.requeueAfter;
      if (after !== undefined && after > 0) {
        queue.forget(key);
        queue.addAfter(key, after);
        outcome = 'requeue_after';
      } else if (after !== undefined) {
        queue.addRateLimited(key);
        outcome = 'requeue';
      } else {
        queue.forget(key);
        outcome = 'success';
      }
    } catch (error) {
      outcome = 'error';
      this.metrics.reconcileErrors.inc({ controller });
      if (error instanceof TerminalError) {
        this.metrics.terminalReconcileErrors.inc({ controller });
        queue.forget(key);
        this.logger?.error({ err: error, key }, 'reconcile failed terminally; not retrying');
      } else {
        queue.addRateLimited(key);
        this.logger?.warn({ err: error, key, retries: queue.numRequeues(key) }, 'reconcile failed; retrying');
      }
    } finally {
      this.metrics.activeWorkers.dec({ controller });
      this.metrics.reconcileTime.observe({ controller }, (this.clock.now() - started) / 1000);
    }
    this.metrics.reconcileTotal.inc({ controller, result: outcome });
  }
}
