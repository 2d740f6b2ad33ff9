// SPDX-License-Identifier: Apache-2.0
import type { Binding } from 'kubernetes-types/core/v1.js';
import type { Observable } from 'rxjs';
import type { KindReference, KubeList, KubeObject } from '../api/object.js';

/**
 * Service identifier of the {@link ApiClient}.
 * @category Contracts
 */
export const ApiClient = Symbol.for('cpkit.ApiClient');

/** @category Contracts */
export interface GetOptions {
  /** Namespace of a namespaced kind. */
  namespace?: string;
  /** `"0"` allows any (possibly stale) version; absent means the latest. */
  resourceVersion?: string;
}

/** @category Contracts */
export interface ListOptions {
  /** Namespace to list; absent lists every namespace (for namespaced kinds). */
  namespace?: string;
  /** Label selector in the Kubernetes string syntax, e.g. `app=web,tier in (fe,be),!canary`. */
  labelSelector?: string;
  /** Field selector, e.g. `spec.nodeName=node-1,status.phase!=Succeeded`. */
  fieldSelector?: string;
  /** Page size (positive integer). */
  limit?: number;
  /** Continue token from the previous page's `metadata.continue`. */
  continue?: string;
  /** List at this resourceVersion; with `resourceVersionMatch` as Kubernetes defines it. */
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

/** @category Contracts */
export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Absent or `"0"`: first an ADDED event for every existing object, then changes. `"n"`: every change
   * after resourceVersion n. Too old: the stream errors with `Expired` (410).
   */
  resourceVersion?: string;
  /** Ask for BOOKMARK events carrying the latest resourceVersion. */
  allowWatchBookmarks?: boolean;
  /** Close the stream (complete) after this many seconds. */
  timeoutSeconds?: number;
}

/** @category Contracts */
export interface WriteOptions {
  /** `['All']` validates and returns the result without persisting it. */
  dryRun?: 'All'[];
  /** Name of the actor making the change (recorded in managedFields by later issues). */
  fieldManager?: string;
}

/** @category Contracts */
export interface CreateOptions extends WriteOptions {
  /** Namespace for a namespaced kind; defaults to the object's `metadata.namespace`. */
  namespace?: string;
}

/** @category Contracts */
export type UpdateOptions = WriteOptions;

/** @category Contracts */
export interface PatchOptions extends WriteOptions {
  namespace?: string;
  /**
   * Patch a subresource instead of the main resource: `status`, or `finalize` (Namespace
   * `spec.finalizers`, which the namespace finalizer empties once a namespace has no content left).
   */
  subresource?: 'status' | 'finalize';
}

/**
 * `merge` is RFC 7386 JSON merge patch; `json` is RFC 6902 JSON patch (an array of operations).
 * Strategic merge and server-side apply come with the API server.
 * @category Contracts
 */
export type PatchType = 'merge' | 'json';

/** @category Contracts */
export interface DeleteOptions extends WriteOptions {
  namespace?: string;
  /** Delete only when the object still has this uid / resourceVersion; otherwise `Conflict`. */
  preconditions?: { uid?: string; resourceVersion?: string };
  /** How dependents are treated. Default: Background. */
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
}

/** One event of a watch, as Kubernetes sends it. @category Contracts */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  /** The object after the change (for DELETED: its last state; for BOOKMARK: only metadata.resourceVersion). */
  object: T;
}

/**
 * Typed access to the API, with the same semantics over two transports: in-process (direct calls into
 * the registry, no HTTP) and HTTP (any Kubernetes-compatible server). Every component talks to the API
 * through this, never to the Store.
 *
 * Every method rejects with a {@link StatusError} for expected failures (`NotFound`, `AlreadyExists`,
 * `Conflict`, `Invalid`, `Forbidden`, `Expired`, ...) and changes nothing when it does.
 * @category Contracts
 */
export interface ApiClient {
  /** Reads one object. */
  get<T extends KubeObject = KubeObject>(kind: KindReference, name: string, options?: GetOptions): Promise<T>;

  /** Lists objects, filtered by selectors and paged with limit/continue. */
  list<T extends KubeObject = KubeObject>(kind: KindReference, options?: ListOptions): Promise<KubeList<T>>;

  /** Creates `object`. The server sets uid, creationTimestamp, resourceVersion and generation. */
  create<T extends KubeObject>(object: T, options?: CreateOptions): Promise<T>;

  /**
   * Replaces the object (not its status). When `metadata.resourceVersion` is set and stale the call
   * fails with `Conflict`; when absent the update is unconditional.
   */
  update<T extends KubeObject>(object: T, options?: UpdateOptions): Promise<T>;

  /** Replaces the status subresource only; spec and metadata changes in `object` are ignored. */
  updateStatus<T extends KubeObject>(object: T, options?: UpdateOptions): Promise<T>;

  /** Applies a merge or JSON patch to the named object. */
  patch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    type: PatchType,
    patch: unknown,
    options?: PatchOptions,
  ): Promise<T>;

  /**
   * Creates the `pods/binding` subresource (`POST /api/v1/namespaces/{namespace}/pods/{name}/binding`):
   * assigns the pod `binding.metadata.name` to the node `binding.target.name`. This is how a scheduler
   * binds; an update can never set `spec.nodeName`.
   *
   * The namespace is `options.namespace`, else `binding.metadata.namespace`, else `default`. When
   * `binding.metadata.uid` is set, the pod must still have that uid. On success the pod has
   * `spec.nodeName` set, the Binding's annotations merged into its own, and the condition
   * `PodScheduled=True`.
   *
   * Errors: `NotFound` when the pod does not exist; `Conflict` when the pod is already assigned
   * (`pod web is already assigned to node "n1"`), is being deleted, still has scheduling gates, or its uid
   * differs from the precondition; `Invalid` when `target.name` is missing or `target.kind` is not `Node`.
   */
  bind(binding: Binding, options?: CreateOptions): Promise<void>;

  /**
   * Deletes the named object. With finalizers present the object is only marked (deletionTimestamp)
   * and the returned object is that marked state; otherwise the returned object is its last state.
   */
  delete<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: DeleteOptions,
  ): Promise<T>;

  /** A cold stream of changes; subscribe to start, unsubscribe to stop. */
  watch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    options?: WatchOptions,
  ): Observable<WatchEvent<T>>;
}
