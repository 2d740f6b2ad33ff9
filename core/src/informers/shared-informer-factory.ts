// SPDX-License-Identifier: Apache-2.0
import type { Logger } from 'pino';
import type { KindReference, KubeObject } from '../api/object.js';
import type { Clock } from '../clock/clock.js';
import type { ApiClient } from '../contracts/api-client.js';
import type { Runnable } from '../contracts/runnable.js';
import { type InformerSelection, SharedInformer, type SharedInformerOptions } from './shared-informer.js';

/** Settings every informer of a factory shares. @category Informers */
export interface SharedInformerFactoryOptions {
  clock?: Clock;
  /** Default resync period for the factory's informers; 0 or absent: none. */
  resyncPeriodMs?: number;
  pageSize?: number;
  backoff?: SharedInformerOptions['backoff'];
  logger?: Logger;
}

/**
 * Hands out one {@link SharedInformer} per kind and selection, so every controller in a process that
 * asks for the same kind shares one cache and one watch.
 *
 * As a {@link Runnable} it starts every informer it has handed out, and those handed out later while
 * it runs, and resolves once all of them have synced. Informers can also be started on their own
 * (a controller starts the ones it uses); each runs while any of its starters still runs.
 * @category Informers
 */
export class SharedInformerFactory implements Runnable {
  readonly name = 'shared-informer-factory';
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private running: AbortSignal | undefined;

  constructor(
    readonly client: ApiClient,
    private readonly options: SharedInformerFactoryOptions = {},
  ) {}

  /**
   * The informer for `kind` with this selection, created on first request. A resync period given
   * here applies only when this call creates the informer.
   */
  forKind<T extends KubeObject = KubeObject>(
    kind: KindReference,
    selection: InformerSelection & { resyncPeriodMs?: number } = {},
  ): SharedInformer<T> {
    const id = JSON.stringify([
      typeof kind === 'string' ? kind : [kind.group, kind.version, kind.kind],
      selection.namespace ?? null,
      selection.labelSelector ?? null,
      selection.fieldSelector ?? null,
    ]);
    let informer = this.informers.get(id);
    if (!informer) {
      informer = new SharedInformer<KubeObject>(this.client, kind, {
        ...this.options,
        ...selection,
        resyncPeriodMs: selection.resyncPeriodMs ?? this.options.resyncPeriodMs,
      });
      this.informers.set(id, informer);
      if (this.running && !this.running.aborted) void informer.start(this.running);
    }
    return informer as unknown as SharedInformer<T>;
  }

  /** Every informer handed out so far. */
  all(): SharedInformer<KubeObject>[] {
    return [...this.informers.values()];
  }

  async start(signal: AbortSignal): Promise<void> {
    this.running = signal;
    await Promise.all(this.all().map((informer) => informer.start(signal)));
  }

  /** Resolves once every informer handed out so far has synced. */
  async waitForCacheSync(): Promise<void> {
    await Promise.all(this.all().map((informer) => informer.synced()));
  }

  async stopped(): Promise<void> {
    await Promise.all(this.all().map((informer) => informer.stopped()));
  }
}
