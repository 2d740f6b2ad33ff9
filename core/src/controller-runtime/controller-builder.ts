// SPDX-License-Identifier: Apache-2.0
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KindReference, KubeObject } from '../api/object.js';
import type { Clock } from '../clock/clock.js';
import type { Reconciler } from '../contracts/controller.js';
import { errors, type StatusCause } from '../errors/status-error.js';
import type { InformerSelection } from '../informers/shared-informer.js';
import type { SharedInformerFactory } from '../informers/shared-informer-factory.js';
import type { RateLimiter } from '../workqueue/rate-limiter.js';
import { type ControllerSource, type MapFunc, ReconcilingController } from './reconciling-controller.js';

/** What every controller built by a builder shares. @category Controller runtime */
export interface ControllerBuilderDeps {
  /** Where the controller gets its (shared) informers. */
  informers: SharedInformerFactory;
  clock?: Clock;
  /** prom-client registry for `controller_runtime_*` and `workqueue_*` metrics; default: prom-client's. */
  registry?: Registry;
  logger?: Logger;
}

const kindId = (kind: KindReference): string =>
  typeof kind === 'string' ? kind : `${kind.group}/${kind.version}/${kind.kind}`;

const defaultName = (kind: KindReference): string =>
  (typeof kind === 'string' ? kind.split('.')[0] : kind.kind).toLowerCase();

// Controller names become metric label values and log fields: keep them to DNS-label-like words.
const validName = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;

/**
 * Builds a {@link ReconcilingController} fluently, as controller-runtime does:
 *
 * ```ts
 * const controller = controllerFor('ReplicaSet', { informers })
 *   .owns('Pod')
 *   .watches('Node', (node) => podsOn(node))
 *   .withConcurrency(4)
 *   .complete(new ReplicaSetReconciler(client));
 * ```
 *
 * Mistakes (no `for`, `for` twice, no reconciler, a kind given twice, bad concurrency or name, a
 * map that is not a function) are collected and reported together by {@link ControllerBuilder.complete}
 * as one `Invalid` StatusError with a cause per mistake.
 * @category Controller runtime
 */
export class ControllerBuilder {
  private readonly sources: ControllerSource[] = [];
  private readonly causes: StatusCause[] = [];
  private name: string | undefined;
  private concurrency = 1;
  private leaderElection = true;
  private rateLimiter: RateLimiter<string> | undefined;

  constructor(private readonly deps: ControllerBuilderDeps) {}

  /** The primary kind: its objects are the keys reconciled. Exactly one is required. */
  for(kind: KindReference, selection?: InformerSelection): this {
    if (this.sources.some((s) => s.type === 'for')) {
      this.causes.push({
        reason: 'FieldValueDuplicate',
        field: 'for',
        message: 'for() may be called only once',
      });
    } else {
      this.addSource({ type: 'for', kind, selection }, 'for');
    }
    return this;
  }

  /** Names the controller (metrics label, logs). Default: the primary kind in lower case. */
  named(name: string): this {
    this.name = name;
    return this;
  }

  /**
   * Also watches `kind` and reconciles the primary object that controls each changed object (its
   * owner reference with `controller: true`), like a ReplicaSet for its Pods.
   */
  owns(kind: KindReference): this {
    this.addSource({ type: 'owns', kind }, `owns[${this.count('owns')}]`);
    return this;
  }

  /** Also watches `kind`, reconciling whatever `map` returns for each changed object (old and new state). */
  watches<T extends KubeObject = KubeObject>(kind: KindReference, map: MapFunc<T>): this {
    const field = `watches[${this.count('watches')}]`;
    if (typeof map !== 'function') {
      this.causes.push({
        reason: 'FieldValueRequired',
        field: `${field}.map`,
        message: 'a map function is required',
      });
    }
    this.addSource({ type: 'watches', kind, map: map as MapFunc }, field);
    return this;
  }

  /** Reconciles that may run at once (on different keys). Default 1. */
  withConcurrency(concurrency: number): this {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      this.causes.push({
        reason: 'FieldValueInvalid',
        field: 'concurrency',
        message: `must be an integer >= 1, got ${concurrency}`,
      });
    } else {
      this.concurrency = concurrency;
    }
    return this;
  }

  /** Whether it runs only on the elected leader (default true, as upstream). */
  withLeaderElection(needed: boolean): this {
    this.leaderElection = needed;
    return this;
  }

  /** Replaces the default rate limiter (5 ms → 1000 s per item, 10 qps / burst 100 overall). */
  withRateLimiter(rateLimiter: RateLimiter<string>): this {
    this.rateLimiter = rateLimiter;
    return this;
  }

  /** Builds the controller, or throws one `Invalid` StatusError listing every mistake. */
  complete(reconciler: Reconciler): ReconcilingController {
    const causes = [...this.causes];
    const primary = this.sources.find((s) => s.type === 'for');
    if (!primary)
      causes.push({
        reason: 'FieldValueRequired',
        field: 'for',
        message: 'a primary kind is required: call for(kind)',
      });
    if (!reconciler || typeof reconciler.reconcile !== 'function') {
      causes.push({
        reason: 'FieldValueRequired',
        field: 'reconciler',
        message: 'a Reconciler with a reconcile() method is required',
      });
    }
    if (!this.deps?.informers) {
      causes.push({
        reason: 'FieldValueRequired',
        field: 'informers',
        message: 'a SharedInformerFactory is required',
      });
    }
    const name = this.name ?? (primary ? defaultName(primary.kind) : undefined);
    if (name !== undefined && !validName.test(name)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'name',
        message: `"${name}" must consist of lower case alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`,
      });
    }
    if (causes.length > 0) throw errors.invalid('Controller', name ?? '', causes);
    return new ReconcilingController({
      name: name!,
      sources: this.sources,
      reconciler,
      concurrency: this.concurrency,
      needsLeaderElection: this.leaderElection,
      informers: this.deps.informers,
      clock: this.deps.clock,
      registry: this.deps.registry,
      logger: this.deps.logger,
      rateLimiter: this.rateLimiter,
    });
  }

  /** Alias of {@link ControllerBuilder.complete}. */
  build(reconciler: Reconciler): ReconcilingController {
    return this.complete(reconciler);
  }

  private count(type: ControllerSource['type']): number {
    return this.sources.filter((s) => s.type === type).length;
  }

  private addSource(source: ControllerSource, field: string): void {
    const kind = source.kind as KindReference | undefined;
    if (kind === undefined || kind === '' || (typeof kind !== 'string' && !kind.kind)) {
      this.causes.push({ reason: 'FieldValueRequired', field, message: 'a kind is required' });
      return;
    }
    const duplicate = this.sources.find((s) => kindId(s.kind) === kindId(kind));
    if (duplicate) {
      this.causes.push({
        reason: 'FieldValueDuplicate',
        field,
        message: `kind "${kindId(kind)}" is already watched (by ${duplicate.type}); each kind may appear once`,
      });
      return;
    }
    this.sources.push(source);
  }
}

/**
 * Starts a {@link ControllerBuilder} for the primary kind: `controllerFor('ReplicaSet', deps).owns('Pod').complete(r)`.
 * @category Controller runtime
 */
export function controllerFor(
  kind: KindReference,
  deps: ControllerBuilderDeps,
  selection?: InformerSelection,
): ControllerBuilder {
  return new ControllerBuilder(deps).for(kind, selection);
}
