// SPDX-License-Identifier: Apache-2.0
import type { Observable } from 'rxjs';

/**
 * Service identifier of the {@link Store} role.
 * @category Contracts
 */
export const Store = Symbol.for('cpkit.Store');

/**
 * One stored key with its revisions, as etcd's `KeyValue`.
 * @category Contracts
 */
export interface StoreEntry {
  /** The full key, e.g. `/registry/pods/default/web`. */
  key: string;
  /** The stored value (cpkit's registry stores JSON text). */
  value: string;
  /** Revision at which the key was (last) created. */
  createRevision: number;
  /** Revision of the last change to the key; the object's `resourceVersion`. */
  modRevision: number;
}

/**
 * One change seen by {@link Store.watch}.
 * @category Contracts
 */
export interface StoreEvent {
  /** `create` when the key did not exist before, `update` when it did, `delete` when it was removed. */
  type: 'create' | 'update' | 'delete';
  key: string;
  /** The revision of this change. Strictly increasing across every event of one watch. */
  revision: number;
  /** The value after the change; for `delete`, the last value the key had before it was deleted. */
  value: string;
  /** The value before the change; absent for `create`. */
  prevValue?: string;
  /** The modRevision the key had before the change; absent for `create`. */
  prevRevision?: number;
}

/** @category Contracts */
export interface StoreGetOptions {
  /** Read the key as it was at this revision (must not be compacted). Default: the current revision. */
  revision?: number;
}

/** @category Contracts */
export interface StoreListOptions {
  /** At most this many entries (a positive integer). Default: no limit. */
  limit?: number;
  /** Token from a previous page's {@link StoreListResult.continue}. Pins the list to that page's revision. */
  continue?: string;
  /** List the prefix as it was at this revision (must not be compacted). Default: the current revision. */
  revision?: number;
}

/** @category Contracts */
export interface StoreListResult {
  /** Entries in ascending key order. */
  items: StoreEntry[];
  /** The revision the list reflects. Every page of one paged list has the same revision. */
  revision: number;
  /** Present when more entries remain; pass it back as {@link StoreListOptions.continue}. */
  continue?: string;
  /** How many entries remain after this page, when known. */
  remainingItemCount?: number;
}

/** @category Contracts */
export interface StoreWatchOptions {
  /**
   * Deliver every change with a revision strictly greater than this one, replaying history first.
   * Absent: only changes from now on. A compacted revision makes the watch error with `Expired` (410).
   */
  afterRevision?: number;
  /** Treat the key as a prefix and watch every key under it. Default: true. */
  prefix?: boolean;
}

/** @category Contracts */
export interface StoreDeleteOptions {
  /** Delete only if the key's modRevision is exactly this; otherwise fail with `Conflict`. */
  expectedRevision?: number;
}

/** @category Contracts */
export interface StoreBackupInfo {
  /** The revision the backup captures. */
  revision: number;
  /** Number of live keys in the backup. */
  keys: number;
  /** Size of the backup file in bytes. */
  bytes: number;
}

/**
 * A revisioned key-value store with watch: the single source of truth of a control plane, with
 * etcd's semantics. Only the registry talks to it; components go through the ApiClient.
 *
 * Semantics every implementation follows (and the contract suite in `@cpkit/core/testing` checks):
 * - Every successful write (create, update, delete) advances one store-wide revision by exactly one;
 *   revisions are positive integers that never repeat.
 * - Keys are non-empty strings starting with `/`, at most 1024 characters, without NUL characters.
 * - Errors are {@link StatusError}s: `NotFound` (404), `AlreadyExists` (409), `Conflict` (409, stale
 *   revision), `Expired` (410, compacted revision or continue token), `BadRequest` (400, bad
 *   arguments: key, revision, limit, continue token), `ServiceUnavailable` (503) or `Timeout` (504)
 *   when the backend cannot be reached. A failed call changes nothing.
 * @category Contracts
 */
export interface Store {
  /** Creates `key`; fails with `AlreadyExists` if it exists. Resolves with the stored entry. */
  create(key: string, value: string): Promise<StoreEntry>;

  /** Reads `key`; fails with `NotFound` if absent (at the requested revision). */
  get(key: string, options?: StoreGetOptions): Promise<StoreEntry>;

  /** Lists every key that starts with `prefix`, in key order, in pages when `limit` is set. */
  list(prefix: string, options?: StoreListOptions): Promise<StoreListResult>;

  /**
   * Compare-and-swap: replaces the value of `key` only if its modRevision equals `expectedRevision`.
   * Fails with `NotFound` if the key is absent and `Conflict` if the revision is stale.
   */
  update(key: string, value: string, expectedRevision: number): Promise<StoreEntry>;

  /**
   * Deletes `key`, optionally only at an expected revision. Resolves with the entry as it was just
   * before the delete, its `modRevision` replaced by the revision of the delete.
   */
  delete(key: string, options?: StoreDeleteOptions): Promise<StoreEntry>;

  /**
   * A cold stream of the changes to `key` (or every key under it as a prefix), in revision order,
   * each exactly once. Subscribing starts the watch; unsubscribing stops it and frees its resources.
   * The stream errors with `Expired` when `afterRevision` is compacted, and with `ServiceUnavailable`
   * when the backend is lost for good; it never completes on its own otherwise.
   */
  watch(key: string, options?: StoreWatchOptions): Observable<StoreEvent>;

  /** The current (latest committed) revision of the store. */
  currentRevision(): Promise<number>;

  /**
   * Discards history older than `revision`: reads, lists and watches at an older revision fail with
   * `Expired` afterwards. Current values are never discarded.
   */
  compact(revision: number): Promise<void>;

  /** The oldest revision still readable (0 when nothing was ever compacted). */
  compactedRevision(): Promise<number>;

  /**
   * Writes a consistent backup of every live key, with its revisions, to the file `path`.
   * How to restore a backup is specific to each implementation and documented in its README.
   */
  backup(path: string): Promise<StoreBackupInfo>;

  /** Releases connections and files. Open watches complete. Further calls fail. */
  close(): Promise<void>;
}
