// SPDX-License-Identifier: Apache-2.0
// A small in-memory ApiClient for the unit tests of informers, controllers and leader election. It
// keeps a history of changes so watches can resume from a resourceVersion, and lets a test break,
// end or compact watches to exercise recovery. Not exported: real tests of wiring use the in-process client.
import { Observable, Subject } from 'rxjs';
import type { KindReference, KubeList, KubeObject } from '../api/object.js';
import type {
  ApiClient,
  DeleteOptions,
  GetOptions,
  ListOptions,
  WatchEvent,
  WatchOptions,
} from '../contracts/api-client.js';
import { errors, StatusError } from '../errors/status-error.js';

interface HistoryEntry {
  kind: string;
  rv: number;
  event: WatchEvent;
}

const kindName = (kind: KindReference): string => (typeof kind === 'string' ? kind : kind.kind);
const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const clone = <T>(o: T): T => structuredClone(o);

export class FakeApiClient implements ApiClient {
  private rv = 0;
  private compactedRv = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: HistoryEntry[] = [];
  private readonly changes = new Subject<HistoryEntry>();
  private readonly breakers = new Set<(how: 'error' | 'complete', error?: unknown) => void>();
  /** Number of watch subscriptions currently open. */
  activeWatches = 0;
  /** Every call made, for assertions ("list", "watch:12", ...). */
  readonly calls: string[] = [];
  /** When set, the next list calls fail with this error (cleared after `failLists` calls). */
  listError: unknown;
  failLists = 0;
  /** When true, every watch fails at once with 410 Expired. */
  expireEveryWatch = false;
  /** When set, the next update calls fail with it. */
  updateError: unknown;

  private bucket(kind: string): Map<string, KubeObject> {
    let bucket = this.objects.get(kind);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(kind, bucket);
    }
    return bucket;
  }

  private record(kind: string, type: WatchEvent['type'], object: KubeObject): void {
    const entry = { kind, rv: this.rv, event: { type, object: clone(object) } };
    this.history.push(entry);
    this.changes.next(entry);
  }

  async get<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: GetOptions,
  ): Promise<T> {
    const found = this.bucket(kindName(kind)).get(`${options?.namespace ?? ''}/${name}`);
    if (!found) throw errors.notFound({ resource: kindName(kind).toLowerCase(), name });
    return clone(found) as T;
  }

  async list<T extends KubeObject = KubeObject>(
    kind: KindReference,
    options?: ListOptions,
  ): Promise<KubeList<T>> {
    this.calls.push(`list${options?.continue ? `:${options.continue}` : ''}`);
    if (this.failLists > 0) {
      this.failLists--;
      throw this.listError;
    }
    const all = [...this.bucket(kindName(kind)).values()]
      .filter((o) => options?.namespace === undefined || o.metadata?.namespace === options.namespace)
      .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const start = options?.continue ? Number(options.continue) : 0;
    const end = options?.limit ? start + options.limit : all.length;
    const items = all.slice(start, end).map(clone) as T[];
    const metadata: KubeList['metadata'] = { resourceVersion: String(this.rv) };
    if (end < all.length) metadata.continue = String(end);
    return { apiVersion: 'v1', kind: `${kindName(kind)}List`, metadata, items };
  }

  async create<T extends KubeObject>(object: T): Promise<T> {
    const kind = object.kind ?? '';
    const bucket = this.bucket(kind);
    if (bucket.has(keyOf(object))) throw errors.alreadyExists({ name: object.metadata?.name });
    this.rv++;
    const stored = clone(object);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.rv), uid: `uid-${this.rv}` };
    bucket.set(keyOf(stored), stored);
    this.record(kind, 'ADDED', stored);
    return clone(stored);
  }

  async update<T extends KubeObject>(object: T): Promise<T> {
    if (this.updateError) throw this.updateError;
    const kind = object.kind ?? '';
    const bucket = this.bucket(kind);
    const current = bucket.get(keyOf(object));
    if (!current) throw errors.notFound({ name: object.metadata?.name });
    const expected = object.metadata?.resourceVersion;
    if (expected && expected !== current.metadata?.resourceVersion) {
      throw errors.conflict({ name: object.metadata?.name }, 'the object has been modified');
    }
    this.rv++;
    const stored = clone(object);
    stored.metadata = { ...current.metadata, ...stored.metadata, resourceVersion: String(this.rv) };
    bucket.set(keyOf(stored), stored);
    this.record(kind, 'MODIFIED', stored);
    return clone(stored);
  }

  updateStatus<T extends KubeObject>(object: T): Promise<T> {
    return this.update(object);
  }

  async patch<T extends KubeObject = KubeObject>(): Promise<T> {
    throw new StatusError('MethodNotAllowed', 'patch is not supported by FakeApiClient');
  }

  async bind(): Promise<void> {
    throw errors.methodNotAllowed('the fake ApiClient does not serve pods/binding');
  }

  async delete<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: DeleteOptions,
  ): Promise<T> {
    const bucket = this.bucket(kindName(kind));
    const key = `${options?.namespace ?? ''}/${name}`;
    const current = bucket.get(key);
    if (!current) throw errors.notFound({ name });
    bucket.delete(key);
    this.rv++;
    const last = { ...current, metadata: { ...current.metadata, resourceVersion: String(this.rv) } };
    this.record(kindName(kind), 'DELETED', last);
    return clone(last) as T;
  }

  watch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    options?: WatchOptions,
  ): Observable<WatchEvent<T>> {
    const name = kindName(kind);
    return new Observable<WatchEvent<T>>((subscriber) => {
      const from = options?.resourceVersion ? Number(options.resourceVersion) : 0;
      this.calls.push(`watch:${options?.resourceVersion ?? ''}`);
      const matches = (o: KubeObject): boolean =>
        options?.namespace === undefined || o.metadata?.namespace === options.namespace;
      if (this.expireEveryWatch || (from > 0 && from < this.compactedRv)) {
        subscriber.error(errors.expired(`too old resource version: ${from} (${this.compactedRv})`));
        return;
      }
      this.activeWatches++;
      if (from === 0) {
        for (const o of this.bucket(name).values()) {
          if (matches(o)) subscriber.next({ type: 'ADDED', object: clone(o) as T });
        }
      } else {
        for (const entry of this.history) {
          if (entry.kind === name && entry.rv > from && matches(entry.event.object)) {
            subscriber.next(clone(entry.event) as WatchEvent<T>);
          }
        }
      }
      const live = this.changes.subscribe((entry) => {
        if (entry.kind === name && matches(entry.event.object))
          subscriber.next(clone(entry.event) as WatchEvent<T>);
      });
      const breaker = (how: 'error' | 'complete', error?: unknown): void => {
        if (how === 'error') subscriber.error(error);
        else subscriber.complete();
      };
      this.breakers.add(breaker);
      return () => {
        this.activeWatches--;
        live.unsubscribe();
        this.breakers.delete(breaker);
      };
    });
  }

  /** Fails every open watch with `error`. */
  breakWatches(error: unknown = errors.internal('connection reset')): void {
    for (const b of [...this.breakers]) b('error', error);
  }

  /** Ends every open watch normally (as a server timeout does). */
  completeWatches(): void {
    for (const b of [...this.breakers]) b('complete');
  }

  /** Forgets history up to now: watches from older versions fail with 410 Expired. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  /** Changes an object without telling open watches (as if the events were lost). */
  silentlyPut<T extends KubeObject>(object: T): void {
    this.rv++;
    const stored = clone(object);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.rv) };
    this.bucket(object.kind ?? '').set(keyOf(stored), stored);
    this.history.push({
      kind: object.kind ?? '',
      rv: this.rv,
      event: { type: 'MODIFIED', object: clone(stored) },
    });
  }

  /** Deletes an object without telling open watches. */
  silentlyDelete(kind: string, namespace: string, name: string): void {
    this.rv++;
    this.bucket(kind).delete(`${namespace}/${name}`);
  }

  currentResourceVersion(): string {
    return String(this.rv);
  }
}
