// SPDX-License-Identifier: Apache-2.0
import type { Logger } from 'pino';
import { filter, map, Observable, Subject, type Subscription } from 'rxjs';
import type { KindReference, KubeObject } from '../api/object.js';
import { type CancelTimer, type Clock, SystemClock, sleep } from '../clock/clock.js';
import type { ApiClient, WatchEvent } from '../contracts/api-client.js';
import type { Runnable } from '../contracts/runnable.js';
import { StatusError } from '../errors/status-error.js';
import { type CacheReader, IndexedCache, type IndexFunc, objectKey } from './indexed-cache.js';

/**
 * A change seen by an informer. `updated` carries the previous state; on a resync `oldObject` and
 * `object` are the same object.
 * @category Informers
 */
export type InformerEvent<T extends KubeObject> =
  | { type: 'added'; object: T }
  | { type: 'updated'; object: T; oldObject: T }
  | { type: 'deleted'; object: T };

/** What one informer watches. @category Informers */
export interface InformerSelection {
  /** Only this namespace; absent means every namespace. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** @category Informers */
export interface SharedInformerOptions extends InformerSelection {
  /** Every this many ms, re-emit `updated` for every cached object. 0 or absent: never. */
  resyncPeriodMs?: number;
  /** Page size of the initial list and relists. Default 500. */
  pageSize?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Wait before retrying a failed list or watch: starts at `initialMs`, doubles up to `maxMs`. Default 800 ms → 30 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  logger?: Logger;
}

function kindLabel(kind: KindReference): string {
  return typeof kind === 'string'
    ? kind
    : `${kind.kind}.${kind.version}${kind.group ? `.${kind.group}` : ''}`;
}

function isGone(error: unknown): boolean {
  return (
    error instanceof StatusError &&
    (error.code === 410 || error.reason === 'Expired' || error.reason === 'Gone')
  );
}

/**
 * Keeps an indexed cache of one kind (optionally narrowed to a namespace and selectors) up to date
 * from a list followed by a watch, and publishes the changes as Observables. One informer serves every
 * consumer in a process through one watch (see {@link SharedInformerFactory}).
 *
 * - The first list is paged; the watch then starts from the list's resourceVersion.
 * - A watch that fails (other than 410) or ends is resumed from the last resourceVersion seen, after a
 *   backoff that grows while failures repeat.
 * - A 410 Expired/Gone relists and diffs the result against the cache, so subscribers see exactly the
 *   adds, updates and deletes they missed.
 * - Subscribing to {@link SharedInformer.events$} first replays an `added` event for every cached
 *   object, so late subscribers see the same world as early ones.
 *
 * It is a {@link Runnable} with reference-counted starts: it runs while any signal passed to
 * {@link SharedInformer.start} is not aborted, and stops (closing its watch and timers) when the last
 * one aborts. Event streams do not complete on stop; their subscribers own and end their subscriptions.
 * @category Informers
 */
export class SharedInformer<T extends KubeObject = KubeObject> implements Runnable, CacheReader<T> {
  readonly name: string;
  readonly kind: KindReference;
  readonly selection: Readonly<InformerSelection>;
  private readonly cache = new IndexedCache<T>();
  private readonly changes = new Subject<InformerEvent<T>>();
  private readonly clock: Clock;
  private readonly resyncPeriodMs: number;
  private readonly pageSize: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly logger: Logger | undefined;

  private readonly users = new Set<AbortSignal>();
  private run: { controller: AbortController; done: Promise<void> } | undefined;
  private watchSubscription: Subscription | undefined;
  private cancelResync: CancelTimer | undefined;
  private lastResourceVersion = '';
  private syncedFlag = false;
  private syncWaiters: Array<() => void> = [];

  /** Every change, after a replay of `added` for each cached object at subscription time. */
  readonly events$: Observable<InformerEvent<T>>;
  /** Objects added (including the replay of the cache on subscription). */
  readonly added$: Observable<T>;
  /** Objects changed, with their previous state; also every object on each resync. */
  readonly updated$: Observable<{ oldObject: T; object: T }>;
  /** Objects deleted, in their last known state. */
  readonly deleted$: Observable<T>;

  constructor(
    private readonly client: ApiClient,
    kind: KindReference,
    options: SharedInformerOptions = {},
  ) {
    const invalid: string[] = [];
    if (options.resyncPeriodMs !== undefined && !(options.resyncPeriodMs >= 0)) {
      invalid.push(`resyncPeriodMs: must be >= 0, got ${options.resyncPeriodMs}`);
    }
    if (options.pageSize !== undefined && !(Number.isInteger(options.pageSize) && options.pageSize > 0)) {
      invalid.push(`pageSize: must be a positive integer, got ${options.pageSize}`);
    }
    if (invalid.length > 0) throw new StatusError('BadRequest', invalid.join('; '));
    this.kind = kind;
    this.selection = {
      namespace: options.namespace,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    };
    this.name = `informer/${kindLabel(kind)}${options.namespace ? `/${options.namespace}` : ''}`;
    this.clock = options.clock ?? new SystemClock();
    this.resyncPeriodMs = options.resyncPeriodMs ?? 0;
    this.pageSize = options.pageSize ?? 500;
    this.backoffInitialMs = options.backoff?.initialMs ?? 800;
    this.backoffMaxMs = options.backoff?.maxMs ?? 30_000;
    this.logger = options.logger?.child({ informer: this.name });

    this.events$ = new Observable<InformerEvent<T>>((subscriber) => {
      // Synchronous replay then live: nothing can change the cache in between.
      for (const object of this.cache.list()) subscriber.next({ type: 'added', object });
      return this.changes.subscribe(subscriber);
    });
    this.added$ = this.events$.pipe(
      filter((e) => e.type === 'added'),
      map((e) => e.object),
    );
    this.updated$ = this.events$.pipe(
      filter((e): e is Extract<InformerEvent<T>, { type: 'updated' }> => e.type === 'updated'),
      map((e) => ({ oldObject: e.oldObject, object: e.object })),
    );
    this.deleted$ = this.events$.pipe(
      filter((e) => e.type === 'deleted'),
      map((e) => e.object),
    );
  }

  /** Adds custom indexes, e.g. `{ byNode: (pod) => [pod.spec.nodeName] }`. Existing objects are indexed at once. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.cache.addIndexers(indexers);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(namespace?: string): T[] {
    return this.cache.list(namespace);
  }

  keys(): string[] {
    return this.cache.keys();
  }

  byIndex(indexName: string, value: string): T[] {
    return this.cache.byIndex(indexName, value);
  }

  /** True once the first full list has been loaded into the cache (for the current run). */
  hasSynced(): boolean {
    return this.syncedFlag;
  }

  /** Resolves once {@link SharedInformer.hasSynced} is true. */
  synced(): Promise<void> {
    if (this.syncedFlag) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The resourceVersion of the last list or event applied. */
  lastSyncResourceVersion(): string {
    return this.lastResourceVersion;
  }

  /**
   * Starts the informer (if not running) on behalf of `signal`'s owner and resolves once the cache
   * has synced (or at once when `signal` aborts first). Runs until every starter's signal aborts.
   */
  start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    if (!this.users.has(signal)) {
      this.users.add(signal);
      signal.addEventListener(
        'abort',
        () => {
          this.users.delete(signal);
          if (this.users.size === 0) this.run?.controller.abort();
        },
        { once: true },
      );
    }
    if (!this.run) {
      const controller = new AbortController();
      const run = { controller, done: this.loop(controller.signal) };
      this.run = run;
      void run.done.finally(() => {
        if (this.run === run) this.run = undefined;
      });
    }
    return new Promise((resolve) => {
      void this.synced().then(() => resolve());
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** Resolves once the informer has stopped (at once when it is not running). */
  stopped(): Promise<void> {
    return this.run ? this.run.done : Promise.resolve();
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let failures = 0;
    const backoff = async (): Promise<void> => {
      const delay = Math.min(this.backoffInitialMs * 2 ** failures, this.backoffMaxMs);
      failures++;
      await sleep(this.clock, delay, signal);
    };
    try {
      relist: while (!signal.aborted) {
        try {
          await this.listAndReplace(signal);
        } catch (error) {
          if (signal.aborted) break;
          this.logger?.warn({ err: error }, 'list failed; retrying');
          await backoff();
          continue;
        }
        if (signal.aborted) break;
        this.markSynced(signal);
        while (!signal.aborted) {
          const began = this.clock.now();
          const outcome = await this.watchOnce(signal);
          if (signal.aborted) break relist;
          // A watch that delivered something or stayed open a while was healthy: start backoff over.
          const healthy =
            outcome.sawEvents || this.clock.now() - began >= Math.max(1000, this.backoffInitialMs);
          if (healthy) failures = 0;
          if (outcome.type === 'gone') {
            this.logger?.info('watch expired (410); relisting');
            // Expired again straight after a list: wait, or list and watch would spin.
            if (!healthy) await backoff();
            continue relist;
          }
          if (outcome.type === 'error') {
            this.logger?.warn({ err: outcome.error }, 'watch failed; resuming from the last resourceVersion');
            await backoff();
          } else if (!healthy) {
            // An empty watch that ends at once must not turn into a hot loop.
            await backoff();
          }
        }
      }
    } finally {
      this.watchSubscription?.unsubscribe();
      this.watchSubscription = undefined;
      this.cancelResync?.();
      this.cancelResync = undefined;
      this.syncedFlag = false;
    }
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.client.list<T>(this.kind, {
        ...this.definedSelection(),
        limit: this.pageSize,
        continue: continueToken,
      });
      if (signal.aborted) return;
      items.push(...page.items);
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken);
    this.replace(items);
    this.lastResourceVersion = resourceVersion;
  }

  /** Makes the cache equal to `items`, emitting the difference. */
  private replace(items: T[]): void {
    const fresh = new Map<string, T>();
    for (const item of items) fresh.set(objectKey(item), item);
    for (const key of this.cache.keys()) {
      if (!fresh.has(key)) {
        const old = this.cache.delete(key)!;
        this.changes.next({ type: 'deleted', object: old });
      }
    }
    for (const item of fresh.values()) this.upsert(item);
  }

  private upsert(object: T): void {
    const old = this.cache.get(objectKey(object));
    const rv = object.metadata?.resourceVersion;
    // Same version already cached (e.g. replayed by a watch from "0"): nothing happened.
    if (old && rv !== undefined && old.metadata?.resourceVersion === rv) return;
    this.cache.set(object);
    this.changes.next(old ? { type: 'updated', oldObject: old, object } : { type: 'added', object });
  }

  private apply(event: WatchEvent<T>): void {
    const rv = event.object?.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (rv) this.lastResourceVersion = rv;
      return;
    }
    if (event.type === 'DELETED') {
      const old = this.cache.delete(objectKey(event.object));
      this.changes.next({ type: 'deleted', object: event.object ?? old });
    } else {
      this.upsert(event.object);
    }
    if (rv) this.lastResourceVersion = rv;
  }

  private watchOnce(
    signal: AbortSignal,
  ): Promise<{ type: 'gone' | 'completed' | 'error'; sawEvents: boolean; error?: unknown }> {
    return new Promise((resolve) => {
      let sawEvents = false;
      const onAbort = (): void => {
        this.watchSubscription?.unsubscribe();
        this.watchSubscription = undefined;
        resolve({ type: 'completed', sawEvents });
      };
      const finish = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.watchSubscription = undefined;
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.watchSubscription = this.client
        .watch<T>(this.kind, {
          ...this.definedSelection(),
          resourceVersion: this.lastResourceVersion || undefined,
          allowWatchBookmarks: true,
        })
        .subscribe({
          next: (event) => {
            sawEvents = true;
            try {
              this.apply(event);
            } catch (error) {
              // A malformed event (no name) must not kill the watch for everyone.
              this.logger?.error({ err: error, event: event.type }, 'dropped a malformed watch event');
            }
          },
          error: (error: unknown) => {
            finish();
            resolve(isGone(error) ? { type: 'gone', sawEvents } : { type: 'error', sawEvents, error });
          },
          complete: () => {
            finish();
            resolve({ type: 'completed', sawEvents });
          },
        });
      // The watch may have ended synchronously inside subscribe().
      if (signal.aborted) onAbort();
    });
  }

  private markSynced(signal: AbortSignal): void {
    if (this.syncedFlag) return;
    this.syncedFlag = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
    if (this.resyncPeriodMs > 0 && !this.cancelResync) this.scheduleResync(signal);
  }

  private scheduleResync(signal: AbortSignal): void {
    this.cancelResync = this.clock.setTimeout(() => {
      this.cancelResync = undefined;
      if (signal.aborted) return;
      for (const object of this.cache.list())
        this.changes.next({ type: 'updated', oldObject: object, object });
      this.scheduleResync(signal);
    }, this.resyncPeriodMs);
  }

  private definedSelection(): InformerSelection {
    const selection: InformerSelection = {};
    if (this.selection.namespace !== undefined) selection.namespace = this.selection.namespace;
    if (this.selection.labelSelector !== undefined) selection.labelSelector = this.selection.labelSelector;
    if (this.selection.fieldSelector !== undefined) selection.fieldSelector = this.selection.fieldSelector;
    return selection;
  }
}
