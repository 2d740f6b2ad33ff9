// SPDX-License-Identifier: Apache-2.0
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  checkStoreKey,
  checkStoreLimit,
  checkStoreOptions,
  checkStoreRevision,
  checkStoreValue,
  decodeContinueToken,
  encodeContinueToken,
  errors,
  maxStoreKeyLength,
  StatusError,
  type Store,
  type StoreBackupInfo,
  type StoreDeleteOptions,
  type StoreEntry,
  type StoreEvent,
  type StoreGetOptions,
  type StoreListOptions,
  type StoreListResult,
  type StoreWatchOptions,
} from '@cpkit/core';
import { Observable, Subject } from 'rxjs';
import sortedBtree from 'sorted-btree';
import {
  type LoadedState,
  type PersistedChange,
  resolveStoreFile,
  SqliteFile,
  type StoredRow,
  type SynchronousMode,
} from './sqlite-file.js';

// sorted-btree is CommonJS with an `exports.default`: Node's ESM interop hands over the exports object
// (class under `.default`), bundler-style interop (vitest) the class itself. Accept both.
type BTreeClass = typeof sortedBtree.default;
const BTree: BTreeClass =
  (sortedBtree as unknown as { default?: BTreeClass }).default ?? (sortedBtree as unknown as BTreeClass);
type BTree<K, V> = InstanceType<typeof sortedBtree.default<K, V>>;

/**
 * Options of {@link EmbeddedStore.open}.
 * @category Store
 */
export interface EmbeddedStoreOptions {
  /**
   * Where the data lives: an existing file, or a path ending in `.db`/`.sqlite`/`.sqlite3`, is the
   * SQLite file itself; anything else is a directory (created when absent) holding `store.db`.
   * Absent: pure in-memory store.
   */
  path?: string;
  /**
   * Persist every write to SQLite before acknowledging it. Default: `true` when `path` is set.
   * `false` with a `path` loads that file (a data file or a backup) once and then runs in memory only.
   */
  durable?: boolean;
  /**
   * `full` (default) fsyncs the WAL on every group commit: acknowledged writes survive power loss.
   * `normal` skips that fsync: acknowledged writes survive a crash or `kill -9` of the process, not
   * the loss of the machine.
   */
  synchronous?: SynchronousMode;
  /**
   * Compact automatically every this many milliseconds, to the revision seen at the previous tick, so
   * at least one interval of history stays readable (the Kubernetes API server does the same every
   * 5 minutes). Default: 300000. 0 turns automatic compaction off.
   */
  compactionIntervalMs?: number;
}

/** One revision of one key. Histories hold these in ascending `modRevision`. */
interface Version {
  value: string;
  createRevision: number;
  modRevision: number;
  /** A tombstone: the key was deleted at `modRevision`; `value` is its last value. */
  deleted: boolean;
}

/** A write waiting for its group commit; handed to SQLite as it is. */
interface PendingWrite extends PersistedChange {
  event: StoreEvent;
  entry: StoreEntry;
  resolve: (entry: StoreEntry) => void;
  reject: (error: unknown) => void;
}

const defaultCompactionIntervalMs = 300_000;

function entryOf(key: string, version: Version): StoreEntry {
  return {
    key,
    value: version.value,
    createRevision: version.createRevision,
    modRevision: version.modRevision,
  };
}

/** The live version of `history` at `revision`, or undefined when the key did not exist then. */
function versionAt(history: Version[], revision: number): Version | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const version = history[i];
    if (version.modRevision <= revision) return version.deleted ? undefined : version;
  }
  return undefined;
}

/** The smallest string greater than every key that starts with `prefix`. */
function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last === 0xffff) return prefix + '\uffff'.repeat(maxStoreKeyLength);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** UTF-16 code unit order, as JavaScript compares strings. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyNotFound(key: string): StatusError {
  return errors.notFound({ resource: 'key', name: key });
}

/**
 * The embedded {@link Store}: MVCC in memory, durable in SQLite.
 *
 * Every key maps, in a B+ tree ordered by key, to its history of versions; a revision log keeps
 * every change since the compaction point for watch replay; one RxJS Subject fans committed
 * changes out to watchers, each filtering by its key or prefix. In durable mode each write is
 * applied in memory, written to SQLite with the other writes of the same event-loop turn in one
 * transaction (group commit), and acknowledged, made visible to reads and sent to watchers only
 * after that transaction commits.
 *
 * Create one with {@link EmbeddedStore.open}.
 * @category Store
 */
export class EmbeddedStore implements Store {
  // A plain string comparator: the library's default also orders numbers, objects and mixed types,
  // which costs a third of the time of a lookup for nothing here.
  private readonly keys: BTree<string, Version[]> = new BTree<string, Version[]>(undefined, compareKeys);
  /** Every change after `compacted`, in revision order: `log[i].revision === logBase + i`. */
  private log: StoreEvent[] = [];
  private logBase: number;
  /** The newest revision applied in memory (durable mode: possibly not yet committed). */
  private revision: number;
  /** The newest revision committed (equal to `revision` in memory mode). Reads see this. */
  private committed: number;
  private compacted: number;
  private liveKeys = 0;
  private readonly changes$ = new Subject<StoreEvent>();
  /** Events waiting to go out on `changes$`; keeps delivery in order when a watcher writes. */
  private outbox: StoreEvent[] = [];
  private emitting = false;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  /** Reads waiting for the pending writes to commit. */
  private commitWaiters: (() => void)[] = [];
  private openWatches = 0;
  private closed = false;
  private failure: StatusError | undefined;
  private compactionTimer: NodeJS.Timeout | undefined;
  private compactionMark = 0;

  private constructor(
    private readonly file: SqliteFile | undefined,
    initial: LoadedState | undefined,
    compactionIntervalMs: number,
  ) {
    const revision = initial?.revision ?? 0;
    this.revision = revision;
    this.committed = revision;
    // History is not kept on disk: a reopened store can serve its latest state only.
    this.compacted = revision;
    this.logBase = revision + 1;
    if (initial) {
      for (const row of initial.rows) {
        this.keys.set(row.key, [
          {
            value: row.value,
            createRevision: row.createRevision,
            modRevision: row.modRevision,
            deleted: false,
          },
        ]);
      }
      this.liveKeys = initial.rows.length;
    }
    if (compactionIntervalMs > 0) {
      this.compactionMark = this.committed;
      this.compactionTimer = setInterval(() => this.autoCompact(), compactionIntervalMs);
      this.compactionTimer.unref();
    }
  }

  /**
   * Opens a store. With a `path`, loads the latest value of every key and the store's revision from
   * SQLite; the compacted revision of a reopened store is its revision at open (history stays in
   * memory only). Fails with `BadRequest` on bad options and `ServiceUnavailable` when the file
   * cannot be used (corrupt, or held by another process).
   */
  static async open(options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
    const problem = checkStoreOptions(options);
    if (problem) throw problem;
    const { path, synchronous = 'full', compactionIntervalMs = defaultCompactionIntervalMs } = options;
    const durable = options.durable ?? path !== undefined;
    const causes: string[] = [];
    if (path !== undefined && (typeof path !== 'string' || path.length === 0))
      causes.push('path: must be a non-empty string');
    if (durable && path === undefined) causes.push('path: is required when durable is true');
    if (synchronous !== 'full' && synchronous !== 'normal')
      causes.push("synchronous: must be 'full' or 'normal'");
    if (!Number.isSafeInteger(compactionIntervalMs) || compactionIntervalMs < 0) {
      causes.push('compactionIntervalMs: must be a non-negative integer');
    }
    if (causes.length > 0) {
      throw errors.badRequest(
        `invalid embedded store options: ${causes.join('; ')}`,
        causes.map((cause) => {
          const [field, message] = cause.split(': ');
          return { reason: 'FieldValueInvalid', field, message };
        }),
      );
    }
    if (path === undefined) return new EmbeddedStore(undefined, undefined, compactionIntervalMs);
    const storeFile = resolveStoreFile(path);
    if (!durable) return new EmbeddedStore(undefined, SqliteFile.read(storeFile), compactionIntervalMs);
    const file = SqliteFile.open(storeFile, synchronous);
    let initial: LoadedState;
    try {
      initial = file.load();
    } catch (error) {
      file.close();
      throw error;
    }
    return new EmbeddedStore(file, initial, compactionIntervalMs);
  }

  /** Number of live keys (in memory, including writes not yet committed). */
  get keyCount(): number {
    return this.liveKeys;
  }

  /** Number of watch subscriptions currently open (tests use it to prove watches are freed). */
  get watchCount(): number {
    return this.openWatches;
  }

  async create(key: string, value: string): Promise<StoreEntry> {
    const problem = this.unusable() ?? checkStoreKey(key) ?? checkStoreValue(value);
    if (problem) throw problem;
    const history = this.keys.get(key);
    if (history !== undefined && !history[history.length - 1].deleted) {
      throw errors.alreadyExists({ resource: 'key', name: key });
    }
    const revision = ++this.revision;
    const version: Version = { value, createRevision: revision, modRevision: revision, deleted: false };
    if (history === undefined) this.keys.set(key, [version]);
    else history.push(version);
    this.liveKeys++;
    return this.record(key, version, { type: 'create', key, revision, value }, entryOf(key, version));
  }

  async get(key: string, options?: StoreGetOptions): Promise<StoreEntry> {
    const problem = this.unusable() ?? checkStoreKey(key) ?? checkStoreOptions(options);
    if (problem) throw problem;
    if (this.pending.length > 0) await this.readBarrier();
    const revision = this.readRevision(options?.revision, 'revision');
    const history = this.keys.get(key);
    const version = history && versionAt(history, revision);
    if (version === undefined) throw keyNotFound(key);
    return entryOf(key, version);
  }

  async list(prefix: string, options?: StoreListOptions): Promise<StoreListResult> {
    const problem =
      this.unusable() ??
      checkStoreKey(prefix, 'prefix') ??
      checkStoreOptions(options) ??
      (options?.limit !== undefined ? checkStoreLimit(options.limit) : undefined);
    if (problem) throw problem;
    if (this.pending.length > 0) await this.readBarrier();
    let revision: number;
    let start = prefix;
    if (options?.continue !== undefined) {
      const position = decodeContinueToken(options.continue, prefix);
      if (position instanceof StatusError) throw position;
      if (options.revision !== undefined && options.revision !== position.revision) {
        throw errors.badRequest(
          `revision ${String(options.revision)} does not match the continue token's revision ${position.revision}`,
          [{ reason: 'FieldValueInvalid', field: 'revision', message: 'must match the continue token' }],
        );
      }
      revision = this.readRevision(position.revision, 'continue');
      start = position.startKey;
    } else {
      revision = this.readRevision(options?.revision, 'revision');
    }
    const limit = options?.limit ?? Number.POSITIVE_INFINITY;
    const items: StoreEntry[] = [];
    let more = false;
    this.keys.forRange(start, prefixEnd(prefix), false, (key, history) => {
      const version = versionAt(history, revision);
      if (version === undefined) return undefined;
      if (items.length >= limit) {
        more = true;
        return { break: true };
      }
      items.push(entryOf(key, version));
      return undefined;
    });
    const result: StoreListResult = { items, revision };
    if (more) {
      // Keys never contain NUL, so `last + '\0'` is the smallest key after the last one returned.
      result.continue = encodeContinueToken({ revision, startKey: `${items[items.length - 1].key}\0` });
    }
    return result;
  }

  async update(key: string, value: string, expectedRevision: number): Promise<StoreEntry> {
    const problem =
      this.unusable() ??
      checkStoreKey(key) ??
      checkStoreValue(value) ??
      checkStoreRevision(expectedRevision, 'expectedRevision');
    if (problem) throw problem;
    const history = this.keys.get(key);
    const latest = history?.[history.length - 1];
    if (history === undefined || latest === undefined || latest.deleted) throw keyNotFound(key);
    if (latest.modRevision !== expectedRevision) {
      throw errors.conflict(
        { resource: 'key', name: key },
        `the key was modified at revision ${latest.modRevision}, expected ${expectedRevision}`,
      );
    }
    const revision = ++this.revision;
    const version: Version = {
      value,
      createRevision: latest.createRevision,
      modRevision: revision,
      deleted: false,
    };
    history.push(version);
    const event: StoreEvent = {
      type: 'update',
      key,
      revision,
      value,
      prevValue: latest.value,
      prevRevision: latest.modRevision,
    };
    return this.record(key, version, event, entryOf(key, version));
  }

  async delete(key: string, options?: StoreDeleteOptions): Promise<StoreEntry> {
    const problem =
      this.unusable() ??
      checkStoreKey(key) ??
      checkStoreOptions(options) ??
      (options?.expectedRevision !== undefined
        ? checkStoreRevision(options.expectedRevision, 'expectedRevision')
        : undefined);
    if (problem) throw problem;
    const history = this.keys.get(key);
    const latest = history?.[history.length - 1];
    if (history === undefined || latest === undefined || latest.deleted) throw keyNotFound(key);
    if (options?.expectedRevision !== undefined && latest.modRevision !== options.expectedRevision) {
      throw errors.conflict(
        { resource: 'key', name: key },
        `the key was modified at revision ${latest.modRevision}, expected ${options.expectedRevision}`,
      );
    }
    const revision = ++this.revision;
    const tombstone: Version = {
      value: latest.value,
      createRevision: latest.createRevision,
      modRevision: revision,
      deleted: true,
    };
    history.push(tombstone);
    this.liveKeys--;
    const event: StoreEvent = {
      type: 'delete',
      key,
      revision,
      value: latest.value,
      prevValue: latest.value,
      prevRevision: latest.modRevision,
    };
    return this.record(key, tombstone, event, entryOf(key, tombstone));
  }

  watch(key: string, options?: StoreWatchOptions): Observable<StoreEvent> {
    return new Observable<StoreEvent>((subscriber) => {
      const problem =
        this.unusable() ??
        checkStoreKey(key) ??
        checkStoreOptions(options) ??
        (options?.afterRevision !== undefined
          ? checkStoreRevision(options.afterRevision, 'afterRevision', true)
          : undefined) ??
        (options?.prefix !== undefined && typeof options.prefix !== 'boolean'
          ? errors.badRequest(`invalid prefix ${String(options.prefix)}: must be a boolean`, [
              { reason: 'FieldValueInvalid', field: 'prefix', message: 'must be a boolean' },
            ])
          : undefined);
      if (problem) {
        subscriber.error(problem);
        return undefined;
      }
      const after = options?.afterRevision ?? this.committed;
      if (after < this.compacted) {
        subscriber.error(
          errors.expired(
            `watch from revision ${after} is not possible: history up to revision ${this.compacted} was compacted`,
          ),
        );
        return undefined;
      }
      const matches =
        options?.prefix === false
          ? (event: StoreEvent): boolean => event.key === key
          : (event: StoreEvent): boolean => event.key.startsWith(key);
      // `delivered` makes delivery exactly-once even when this subscription starts while the
      // outbox is being drained: anything replayed below is skipped when it also arrives live.
      let delivered = after;
      for (let revision = after + 1; revision <= this.committed && !subscriber.closed; revision++) {
        const event = this.log[revision - this.logBase];
        delivered = revision;
        if (matches(event)) subscriber.next(event);
      }
      if (subscriber.closed) return undefined;
      this.openWatches++;
      const subscription = this.changes$.subscribe({
        next: (event) => {
          if (event.revision <= delivered) return;
          delivered = event.revision;
          if (matches(event)) subscriber.next(event);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        subscription.unsubscribe();
        this.openWatches--;
      };
    });
  }

  async currentRevision(): Promise<number> {
    const problem = this.unusable();
    if (problem) throw problem;
    return this.committed;
  }

  async compactedRevision(): Promise<number> {
    const problem = this.unusable();
    if (problem) throw problem;
    return this.compacted;
  }

  async compact(revision: number): Promise<void> {
    const problem = this.unusable() ?? checkStoreRevision(revision, 'revision');
    if (problem) throw problem;
    if (revision > this.committed) {
      throw errors.badRequest(
        `cannot compact to revision ${revision}: the current revision is ${this.committed}`,
        [{ reason: 'FieldValueInvalid', field: 'revision', message: 'is in the future' }],
      );
    }
    this.compactTo(revision);
  }

  async backup(path: string): Promise<StoreBackupInfo> {
    const problem =
      this.unusable() ??
      (typeof path === 'string' && path.length > 0
        ? undefined
        : errors.badRequest(`invalid path ${String(path)}: must be a non-empty string`, [
            { reason: 'FieldValueInvalid', field: 'path', message: 'must be a non-empty string' },
          ]));
    if (problem) throw problem;
    // Reading at the committed revision gives a consistent cut without pausing writers: pending and
    // later writes are newer versions the snapshot skips.
    const revision = this.committed;
    const rows = this.rowsAt(revision);
    let bytes: number;
    try {
      bytes = SqliteFile.writeSnapshot(path, rows, revision);
    } catch (error) {
      throw errors.internal(`backup to ${path} failed: ${(error as Error).message}`);
    }
    return { revision, keys: rows.length, bytes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.compactionTimer) clearInterval(this.compactionTimer);
    if (this.pending.length > 0 && this.failure === undefined) this.flush();
    this.changes$.complete();
    this.file?.close();
  }

  /** Rows of every key live at `revision`, in key order. */
  private rowsAt(revision: number): StoredRow[] {
    const rows: StoredRow[] = [];
    this.keys.forEach((history, key) => {
      const version = versionAt(history, revision);
      if (version !== undefined) rows.push(entryOf(key, version));
    });
    return rows;
  }

  /**
   * Waits until the writes pending now are committed. Reads see committed state only, while
   * compare-and-swap checks see pending writes too; without this wait a client that retries a
   * conflicting read-modify-write in a tight loop of microtasks would re-read the same committed
   * value forever and never let the group commit run.
   */
  private async readBarrier(): Promise<void> {
    await new Promise<void>((resolve) => this.commitWaiters.push(resolve));
    const problem = this.unusable();
    if (problem) throw problem;
  }

  /** Why the store cannot serve calls right now, if it cannot. */
  private unusable(): StatusError | undefined {
    if (this.failure) return this.failure;
    if (this.closed) return errors.serviceUnavailable('the embedded store is closed');
    return undefined;
  }

  /** Checks a requested read revision and defaults it to the committed one. */
  private readRevision(requested: unknown, argument: string): number {
    if (requested === undefined) return this.committed;
    const problem = checkStoreRevision(requested, argument);
    if (problem) throw problem;
    const revision = requested as number;
    if (revision > this.committed) {
      throw errors.badRequest(
        `${argument} ${revision} is newer than the current revision ${this.committed}`,
        [{ reason: 'FieldValueInvalid', field: argument, message: 'is in the future' }],
      );
    }
    if (revision < this.compacted) {
      throw errors.expired(`${argument} ${revision} has been compacted (oldest readable: ${this.compacted})`);
    }
    return revision;
  }

  /** Logs an applied change and acknowledges it: at once in memory, after the group commit when durable. */
  private record(
    key: string,
    version: Version,
    event: StoreEvent,
    entry: StoreEntry,
  ): StoreEntry | Promise<StoreEntry> {
    this.log.push(event);
    if (this.file === undefined) {
      // Returned as a value: the calling async method resolves with it without another promise hop.
      this.committed = event.revision;
      this.emit(event);
      return entry;
    }
    return new Promise<StoreEntry>((resolve, reject) => {
      this.pending.push({
        key,
        version,
        event,
        entry,
        resolve,
        reject,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not a microtask: every write issued during this turn of the event loop,
        // including continuations of earlier awaits, joins the same transaction.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every pending write in one SQLite transaction, then publishes and acknowledges them. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const waiters = this.commitWaiters;
    this.commitWaiters = [];
    const revision = batch[batch.length - 1].event.revision;
    try {
      this.file!.commit(batch, revision);
    } catch (error) {
      // Memory now holds writes the disk does not: stop serving rather than diverge. Reopening
      // rebuilds the store from what SQLite committed.
      this.failure = errors.serviceUnavailable(
        `the embedded store failed to commit: ${(error as Error).message}`,
      );
      for (const write of batch) write.reject(this.failure);
      for (const wake of waiters) wake();
      this.changes$.error(this.failure);
      return;
    }
    this.committed = revision;
    for (const write of batch) this.emit(write.event);
    for (const write of batch) write.resolve(write.entry);
    for (const wake of waiters) wake();
  }

  private emit(event: StoreEvent): void {
    this.outbox.push(event);
    if (this.emitting) return;
    this.emitting = true;
    try {
      for (let i = 0; i < this.outbox.length; i++) this.changes$.next(this.outbox[i]);
    } finally {
      this.outbox = [];
      this.emitting = false;
    }
  }

  private compactTo(revision: number): void {
    if (revision <= this.compacted) return;
    // Only keys changed since the last compaction can hold versions older than `revision`.
    const touched = new Set<string>();
    for (let r = this.compacted + 1; r <= revision; r++) {
      const event = this.log[r - this.logBase];
      if (event !== undefined) touched.add(event.key);
    }
    for (const key of touched) {
      const history = this.keys.get(key);
      if (history === undefined) continue;
      let keep = history.length - 1;
      while (keep > 0 && history[keep].modRevision > revision) keep--;
      // history[keep] is the version readable at `revision` (or newer, when every version is newer).
      if (history[keep].modRevision <= revision && history[keep].deleted) keep++;
      if (keep > 0) history.splice(0, keep);
      if (history.length === 0) this.keys.delete(key);
    }
    this.log = this.log.slice(revision + 1 - this.logBase);
    this.logBase = revision + 1;
    this.compacted = revision;
  }

  private autoCompact(): void {
    if (this.unusable()) return;
    this.compactTo(this.compactionMark);
    this.compactionMark = this.committed;
  }
}

/**
 * Opens an embedded store; the same as {@link EmbeddedStore.open}.
 * @category Store
 */
export function openEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  return EmbeddedStore.open(options);
}

/**
 * Restores a backup written by {@link EmbeddedStore.backup} into the data directory (or file)
 * `path` and opens it durably. Fails with `AlreadyExists` when a store already lives there: restore
 * into an empty place, never over live data.
 * @category Store
 */
export async function restoreEmbeddedStore(
  backupPath: string,
  path: string,
  options: Omit<EmbeddedStoreOptions, 'path' | 'durable'> = {},
): Promise<EmbeddedStore> {
  SqliteFile.read(backupPath);
  const target = resolveStoreFile(path);
  if (existsSync(target)) throw errors.alreadyExists({ resource: 'store file', name: target });
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(backupPath, target);
  return EmbeddedStore.open({ ...options, path: target, durable: true });
}
