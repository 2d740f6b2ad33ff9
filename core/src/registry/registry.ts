// SPDX-License-Identifier: Apache-2.0
/**
 * The registry: the one place that owns object semantics on top of a {@link Store}. Everything that
 * makes a stored JSON document a Kubernetes object happens here: names and generateName, uid,
 * creationTimestamp, resourceVersion, generation, defaulting and validation per kind, the status
 * subresource, optimistic concurrency, finalizers and graceful deletion, namespace lifecycle,
 * selectors, paging and watch.
 *
 * Storage layout: one key per object,
 * `/registry/<group>/<resource>/<namespace>/<name>` for namespaced kinds and
 * `/registry/<group>/<resource>/<name>` for cluster-scoped ones, where `<group>` is `core` for the
 * core group (which is why the scheme reserves that group name). Values are the object's JSON
 * without `metadata.resourceVersion`: the resourceVersion of an object is always the store's
 * modRevision of its key, written as a decimal string.
 *
 * @module
 */

import jsonPatch from 'fast-json-patch';
import jsonMergePatch from 'json-merge-patch';
import type { Binding, Namespace } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { Observable } from 'rxjs';
import { Observable as RxObservable, type Subscription } from 'rxjs';
import { AdmissionChain, controlPlaneUser } from '../admission/admission-chain.js';
import { NamespaceLifecycle } from '../admission/namespace-lifecycle.js';
import {
  checkFieldSelectorFields,
  type FieldSelectorMatcher,
  parseFieldSelector,
} from '../api/field-selector.js';
import { type LabelSelectorMatcher, parseLabelSelector } from '../api/label-selector.js';
import type { KindReference, KubeList, KubeObject, UnstructuredObject } from '../api/object.js';
import type { RegisteredKind, Scheme } from '../api/scheme.js';
import { formatTimestamp } from '../api/time.js';
import { fieldCauses, validateObjectMeta } from '../api/validation.js';
import { type CancelTimer, type Clock, SystemClock } from '../clock/clock.js';
import type { AdmissionAttributes, AdmissionPlugin } from '../contracts/admission-plugin.js';
import type {
  CreateOptions,
  DeleteOptions,
  GetOptions,
  ListOptions,
  PatchType,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../contracts/api-client.js';
import type { UserInfo } from '../contracts/authenticator.js';
import type { Store, StoreEntry, StoreEvent } from '../contracts/store.js';
import { errors, isStatusError, type StatusCause, StatusError } from '../errors/status-error.js';
import { assignPodToNode, validatePodBinding } from './pod-binding.js';

/**
 * Upstream's ObjectMeta marks these `omitempty`: an emptied map or list (the last label removed with
 * `{"labels":{"x":null}}`) is not stored and not returned, so clients see the field disappear.
 */
function dropEmptyMetadataCollections(object: UnstructuredObject): void {
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (!metadata) return;
  for (const field of ['labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields']) {
    const value = metadata[field];
    const empty = Array.isArray(value)
      ? value.length === 0
      : isPlainObject(value) && Object.keys(value as object).length === 0;
    if (value === null || empty) delete metadata[field];
  }
}

/** The start of the stored form `encode` writes, up to the opening of metadata. */
const storedHead = /^\{"apiVersion":"[^"\\]*","kind":"[^"\\]*","metadata":\{/;

/**
 * The stored text of an object with its resourceVersion put back, without parsing it: the stored
 * form starts `{"apiVersion":…,"kind":…,"metadata":{` (see `encode`). Text in any other shape (data
 * written by an older version) takes the slow path.
 */
export function withResourceVersion(stored: string, revision: number): string {
  // Anchored: the metadata found must be the top-level one (apiVersion and kind are plain names).
  const head = storedHead.exec(stored);
  if (head) {
    const at = head[0].length;
    return `${stored.slice(0, at)}"resourceVersion":"${revision}"${stored[at] === '}' ? '' : ','}${stored.slice(at)}`;
  }
  const object = JSON.parse(stored) as UnstructuredObject;
  metaOf(object).resourceVersion = String(revision);
  return JSON.stringify(object);
}

/** Serialized objects of store events, shared by every watcher that sees the same event. */
const serializedEvents = new WeakMap<StoreEvent, string>();

function eventJson(event: StoreEvent): string {
  let json = serializedEvents.get(event);
  if (json === undefined) {
    json = withResourceVersion(event.value, event.revision);
    serializedEvents.set(event, json);
  }
  return json;
}

/**
 * A watch event whose `object` is parsed from `json` on first read (a private copy, as every
 * registry result), and whose non-enumerable `json` lets a server write the object unparsed.
 */
function lazyWatchEvent(type: 'ADDED' | 'MODIFIED', json: string): WatchEvent {
  let object: UnstructuredObject | undefined;
  const event = {
    type,
    get object(): UnstructuredObject {
      object ??= JSON.parse(json) as UnstructuredObject;
      return object;
    },
    set object(value: UnstructuredObject) {
      object = value;
      // The text no longer describes the event's object.
      delete (event as unknown as Record<symbol, unknown>)[serializedObject];
    },
  } as WatchEvent;
  Object.defineProperty(event, serializedObject, { value: json, enumerable: false, configurable: true });
  return event;
}

/**
 * Symbol of the serialized form some registry watch events carry: the JSON text of the event's
 * object as delivered, resourceVersion included. A server may write it instead of stringifying the
 * object; it is removed when `object` is replaced, and must not be relied on after mutating `object`.
 * @category Registry
 */
export const serializedObject = Symbol.for('cpkit.serializedObject');

/**
 * Service identifier of the {@link Registry}.
 * @category Registry
 */
export const Registry = Symbol.for('cpkit.Registry');

/**
 * Who makes a registry call, for admission plugins (`AdmissionAttributes.userInfo`). The API server
 * passes the authenticated user; in-process callers may leave it out (they act as the control plane).
 * @category Registry
 */
export interface RegistryCaller {
  user?: UserInfo;
  /**
   * The caller hands the object over: the registry may change and keep it instead of copying it
   * first. For callers that parsed the object themselves and drop it after the call (the API server
   * with request bodies); everyone else leaves it unset.
   */
  handOver?: boolean;
}

/** Options of {@link Registry.create}. @category Registry */
export interface RegistryCreateOptions extends CreateOptions, RegistryCaller {
  /**
   * The kind the caller expects (the API server passes the one named by the URL). The object's
   * `apiVersion`/`kind` default to it and must match it when present.
   */
  kind?: KindReference;
}

/** Options of {@link Registry.update}. @category Registry */
export interface RegistryUpdateOptions extends WriteOptions, RegistryCaller, SubresourceManagedFields {
  /** As {@link RegistryCreateOptions.kind}. */
  kind?: KindReference;
  /** Namespace, when the object does not carry it (`metadata.namespace` wins when both agree). */
  namespace?: string;
  /** Update a subresource instead of the main resource: `status`, or one the kind defines (`finalize`). */
  subresource?: string;
}

/**
 * How a subresource write treats `metadata.managedFields`.
 * @category Registry
 */
export interface SubresourceManagedFields {
  /**
   * On a `status` write, store the requested object's `metadata.managedFields` (an empty list clears
   * them; leaving them out keeps the stored ones) instead of keeping the stored metadata whole. For a
   * caller that records field ownership itself, as the API server's field manager does for status
   * writes and status applies. Ignored for the main resource (which always takes them) and for
   * other subresources. Default: false.
   */
  managedFieldsFromRequest?: boolean;
}

/** Options of {@link Registry.patch}. @category Registry */
export interface RegistryPatchOptions extends WriteOptions, RegistryCaller, SubresourceManagedFields {
  namespace?: string;
  /** Patch a subresource (`status`, ...) instead of the main resource. */
  subresource?: string;
}

/** Tuning of a {@link StoreRegistry}. @category Registry */
export interface RegistryOptions {
  /** How often a watch that asked for bookmarks gets one, in milliseconds. Default: 60000 (as upstream). */
  bookmarkIntervalMs?: number;
  /**
   * How many times an update without a resourceVersion precondition (or a patch, or a delete) is
   * retried when a concurrent writer wins the compare-and-swap. Default: 100.
   */
  maxConflictRetries?: number;
  /**
   * Admission plugins, run in this order after the built-in NamespaceLifecycle (see
   * {@link AdmissionPlugin}). `registryModule()` passes every plugin bound under `AdmissionPlugin`.
   */
  admissionPlugins?: readonly AdmissionPlugin[];
  /** Run the built-in NamespaceLifecycle plugin first. Default: true (as upstream). */
  namespaceLifecycle?: boolean;
  /** Hooks around storing objects of some kinds, such as Service IP and port allocation. */
  hooks?: readonly RegistryHook[];
}

/**
 * Service identifier under which {@link RegistryHook}s are contributed (multi-bound; `registryModule()`
 * passes them all to the registry).
 * @category Registry
 */
export const RegistryHook = Symbol.for('cpkit.RegistryHook');

/** What a {@link RegistryHook} learns about the write it takes part in. @category Registry */
export interface RegistryHookContext {
  /** True for a dry run: the hook must check, may fill in fields, but must not record anything. */
  dryRun: boolean;
  /** `''` for the main resource, else the subresource written (`status`, `finalize`, ...). */
  subresource: string;
}

/**
 * Ends a write a {@link RegistryHook} began: called once with `true` after the object was stored, or
 * with `false` when the write failed or lost a race (the hook then undoes what it recorded).
 * @category Registry
 */
export type FinishWrite = (stored: boolean) => Promise<void>;

/**
 * A per-kind hook around the registry's writes, for side effects that must be committed together
 * with the object or rolled back, which admission plugins cannot do (they never learn whether the
 * write they admitted was stored). Upstream's generic store calls the same points BeginCreate,
 * BeginUpdate and AfterDelete; Service ClusterIP and NodePort allocation is the built-in user.
 *
 * Order on create and update: mutating admission, the kind's defaulting, the hook's `before*`,
 * the kind's validation, validating admission, the store, then `finish`. Updates call `beforeUpdate`
 * again on every retry after a conflict, with the then-current stored object.
 * @category Registry
 */
export interface RegistryHook {
  /** A name for errors and logs. */
  readonly name: string;
  /** Whether the hook takes part in writes of this kind. */
  handles(kind: RegisteredKind): boolean;
  /** May change `object` (e.g. fill in allocated values); rejects with a StatusError to refuse it. */
  beforeCreate?(object: UnstructuredObject, context: RegistryHookContext): Promise<FinishWrite | undefined>;
  /** As {@link RegistryHook.beforeCreate}, with the stored object as `old` (never to be changed). */
  beforeUpdate?(
    object: UnstructuredObject,
    old: UnstructuredObject,
    context: RegistryHookContext,
  ): Promise<FinishWrite | undefined>;
  /** Called after an object was removed from the store, with its last state. */
  afterDelete?(object: UnstructuredObject): Promise<void>;
}

/**
 * Service identifier of the {@link RegistryOptions} a module may bind.
 * @category Registry
 */
export const RegistryOptions = Symbol.for('cpkit.RegistryOptions');

/**
 * Object semantics on top of a Store. Methods take and return plain JSON objects, never keep a
 * reference to an argument and never return an object they keep: callers may mutate both freely.
 * Every failure is a {@link StatusError} with the message Kubernetes would send, and a failed call
 * changes nothing.
 * @category Registry
 */
export interface Registry {
  /** The scheme the registry serves. */
  readonly scheme: Scheme;
  /** Reads one object; `NotFound` (`pods "web" not found`) when absent. */
  get<T extends KubeObject = KubeObject>(kind: KindReference, name: string, options?: GetOptions): Promise<T>;
  /**
   * As {@link Registry.get}, but the object's JSON text as stored (resourceVersion included),
   * without parsing it: what a server answering a GET writes.
   */
  getJson(kind: KindReference, name: string, options?: GetOptions): Promise<string>;
  /** Lists objects with label/field selectors, paging and resourceVersion semantics as upstream. */
  list<T extends KubeObject = KubeObject>(kind: KindReference, options?: ListOptions): Promise<KubeList<T>>;
  /** Creates an object (kind from `options.kind` or the object's apiVersion/kind). */
  create<T extends KubeObject = KubeObject>(object: T, options?: RegistryCreateOptions): Promise<T>;
  /** Replaces an object or one of its subresources; `Conflict` when `metadata.resourceVersion` is stale. */
  update<T extends KubeObject = KubeObject>(object: T, options?: RegistryUpdateOptions): Promise<T>;
  /** Applies a JSON merge patch or JSON patch, then updates as {@link Registry.update} does. */
  patch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    type: PatchType,
    patch: unknown,
    options?: RegistryPatchOptions,
  ): Promise<T>;
  /**
   * Creates the `pods/binding` subresource: assigns the pod named by `binding.metadata` (namespace from
   * `options.namespace`, else the Binding's, else `default`) to the node `binding.target.name`, as
   * upstream does. See {@link ApiClient.bind} for the rules and errors.
   */
  bind(binding: Binding, options?: CreateOptions & RegistryCaller): Promise<void>;
  /** Deletes, or marks for deletion when finalizers or a grace period hold the object back. */
  delete<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: DeleteOptions & RegistryCaller,
  ): Promise<T>;
  /**
   * A cold stream of ADDED/MODIFIED/DELETED (and BOOKMARK) events. Invalid options (selectors,
   * resourceVersion, timeoutSeconds) error the stream synchronously, during subscribe; errors after
   * that (a compacted resourceVersion: `Expired`, the store failing) arrive asynchronously.
   */
  watch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    options?: WatchOptions,
  ): Observable<WatchEvent<T>>;
}

const generateNameAttempts = 8;
const generatedSuffixLength = 5;
const maxGeneratedBaseLength = 63 - generatedSuffixLength;
// The alphabet upstream uses for generated names: no vowels (no accidental words), no confusables.
const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';
const watchListPageSize = 500;

/** Metadata the server owns: whatever a client sends there on create is ignored. */
const systemMetadataFields = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
  'selfLink',
] as const;

/**
 * The storage key prefix of a kind, optionally narrowed to one namespace (always ends with `/`).
 * @category Registry
 */
export function storageKeyPrefix(kind: RegisteredKind, namespace?: string): string {
  const base = `/registry/${kind.group || 'core'}/${kind.resource}/`;
  return kind.namespaced && namespace ? `${base}${namespace}/` : base;
}

/**
 * The storage key of one object.
 * @category Registry
 */
export function storageKey(kind: RegisteredKind, namespace: string | undefined, name: string): string {
  return `${storageKeyPrefix(kind, kind.namespaced ? namespace : undefined)}${name}`;
}

function isPlainObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `ObjectMeta` as the server writes it (kubernetes-types declares its fields read-only). */
type MutableObjectMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** The object's metadata, created when absent, typed for writing. */
function metaOf(object: UnstructuredObject): MutableObjectMeta {
  object.metadata ??= {};
  return object.metadata as MutableObjectMeta;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => jsonEqual(item, other[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const aKeys = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bKeys = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return aKeys.length === bKeys.length && aKeys.every((k) => jsonEqual(ao[k], bo[k]));
}

/** Everything but metadata and status: what a generation tracks. */
function specPart(object: UnstructuredObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}

/** Copies JSON data, failing with BadRequest (not a TypeError) on what JSON cannot hold. */
function cloneJson<T>(value: T, what: string): T {
  try {
    return structuredClone(value);
  } catch (error) {
    throw errors.badRequest(
      `${what} is not plain JSON data: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function parseResourceVersion(value: string, field = 'resourceVersion'): number {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(value)) {
    throw errors.badRequest(
      `Invalid value for ${field}: ${JSON.stringify(value)}: must be a non-negative decimal integer`,
      [fieldCauses.invalid(field, value, 'must be a non-negative decimal integer')],
    );
  }
  return Number(value);
}

function checkName(name: unknown, what = 'name'): string {
  if (typeof name !== 'string' || name === '' || name.includes('/') || name.length > 253) {
    throw errors.badRequest(
      `${what} must be a non-empty string of at most 253 characters without '/', got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

function checkNamespace(namespace: unknown): string | undefined {
  if (namespace === undefined || namespace === '') return undefined;
  if (
    typeof namespace !== 'string' ||
    !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) ||
    namespace.length > 63
  ) {
    throw errors.badRequest(`namespace must be a DNS-1123 label, got ${JSON.stringify(namespace)}`);
  }
  return namespace;
}

function isDryRun(options: WriteOptions | undefined): boolean {
  const dryRun = options?.dryRun;
  if (dryRun === undefined) return false;
  if (!Array.isArray(dryRun) || dryRun.some((value) => value !== 'All')) {
    throw errors.badRequest(`dryRun: Unsupported value: ${JSON.stringify(dryRun)}: supported values: "All"`);
  }
  return dryRun.length > 0;
}

interface ContinueToken {
  /** The store key prefix the token was issued for. */
  p: string;
  /** The store's own token. */
  t: string;
}

function encodeContinue(prefix: string, storeToken: string): string {
  return Buffer.from(JSON.stringify({ p: prefix, t: storeToken } satisfies ContinueToken)).toString(
    'base64url',
  );
}

function decodeContinue(token: string, prefix: string): string {
  let decoded: ContinueToken | undefined;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
  } catch {
    decoded = undefined;
  }
  if (!decoded || typeof decoded.p !== 'string' || typeof decoded.t !== 'string') {
    throw errors.badRequest('continue key is not valid: malformed token', [
      fieldCauses.invalid('continue', token, 'malformed token'),
    ]);
  }
  if (decoded.p !== prefix) {
    throw errors.badRequest('continue key is not valid: the token was issued for a different list', [
      fieldCauses.invalid('continue', token, 'issued for a different list'),
    ]);
  }
  return decoded.t;
}

interface Selectors {
  label?: LabelSelectorMatcher;
  field?: FieldSelectorMatcher;
}

/** One attempt's view of the stored object. */
interface Current {
  entry: StoreEntry;
  object: UnstructuredObject;
}

/**
 * The default {@link Registry}, backed by any {@link Store}. Bind it through `registryModule()`; its
 * constructor takes the store, the scheme, and optionally a clock and tuning options.
 * @category Registry
 */
export class StoreRegistry implements Registry {
  private readonly clock: Clock;
  private readonly bookmarkIntervalMs: number;
  private readonly maxConflictRetries: number;
  /** The admission chain every write runs through (NamespaceLifecycle first unless turned off). */
  readonly admission: AdmissionChain;
  private readonly hooks: readonly RegistryHook[];
  private readonly hooksByKind = new Map<RegisteredKind, readonly RegistryHook[]>();

  constructor(
    private readonly store: Store,
    readonly scheme: Scheme,
    clock?: Clock,
    options: RegistryOptions = {},
  ) {
    this.clock = clock ?? new SystemClock();
    const plugins: AdmissionPlugin[] = [];
    if (options.namespaceLifecycle !== false)
      plugins.push(new NamespaceLifecycle((name) => this.lookupNamespace(name)));
    plugins.push(...(options.admissionPlugins ?? []));
    this.admission = new AdmissionChain(plugins);
    this.hooks = [...(options.hooks ?? [])];
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.maxConflictRetries = options.maxConflictRetries ?? 100;
    if (!Number.isFinite(this.bookmarkIntervalMs) || this.bookmarkIntervalMs <= 0) {
      throw errors.badRequest('bookmarkIntervalMs must be a positive number');
    }
    if (!Number.isSafeInteger(this.maxConflictRetries) || this.maxConflictRetries < 0) {
      throw errors.badRequest('maxConflictRetries must be a non-negative integer');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  async get<T extends KubeObject = KubeObject>(
    kindRef: KindReference,
    name: string,
    options: GetOptions = {},
  ): Promise<T> {
    const entry = await this.readForGet(kindRef, name, options);
    return this.decode(entry.value, entry.modRevision) as unknown as T;
  }

  async getJson(kindRef: KindReference, name: string, options: GetOptions = {}): Promise<string> {
    const entry = await this.readForGet(kindRef, name, options);
    return withResourceVersion(entry.value, entry.modRevision);
  }

  /** The stored entry a GET answers with (the resourceVersion option is checked, not used: as upstream). */
  private async readForGet(kindRef: KindReference, name: string, options: GetOptions): Promise<StoreEntry> {
    const kind = this.scheme.resolve(kindRef);
    checkName(name);
    const namespace = this.namespaceFor(kind, options.namespace);
    if (
      options.resourceVersion !== undefined &&
      options.resourceVersion !== '' &&
      options.resourceVersion !== '0'
    ) {
      await this.checkNotTooLarge(parseResourceVersion(options.resourceVersion));
    }
    try {
      return await this.store.get(storageKey(kind, namespace, name));
    } catch (error) {
      if (isStatusError(error, 'NotFound')) throw errors.notFound(this.subject(kind, name));
      throw StatusError.from(error);
    }
  }

  async list<T extends KubeObject = KubeObject>(
    kindRef: KindReference,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    const kind = this.scheme.resolve(kindRef);
    const namespace = kind.namespaced ? checkNamespace(options.namespace) : undefined;
    const selectors = this.parseSelectors(kind, options.labelSelector, options.fieldSelector);
    const { limit } = options;
    if (limit !== undefined && limit !== 0 && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw errors.badRequest(`limit must be a positive integer, got ${JSON.stringify(limit)}`);
    }
    const pageLimit = limit && limit > 0 ? limit : undefined;
    const revision = await this.listRevision(options, pageLimit);

    let prefix = storageKeyPrefix(kind, namespace);
    // `metadata.name=x` narrows the scan to keys starting with the name (the filter drops `x2`).
    const exactName = selectors.field?.requiresExactMatch('metadata.name');
    if (exactName && !exactName.includes('/') && (namespace || !kind.namespaced))
      prefix = `${prefix}${exactName}`;

    let storeToken = options.continue ? decodeContinue(options.continue, prefix) : undefined;
    const items: T[] = [];
    let listRevision = 0;
    let remainingItemCount: number | undefined;
    for (let first = true; ; first = false) {
      const wanted = pageLimit === undefined ? undefined : pageLimit - items.length;
      const page = await this.store
        .list(prefix, {
          limit: wanted,
          continue: storeToken,
          revision: first && !storeToken ? revision : undefined,
        })
        .catch((error: unknown) => {
          throw this.listError(error, options);
        });
      listRevision = page.revision;
      for (const entry of page.items) {
        const object = this.decode(entry.value, entry.modRevision);
        if (this.matches(kind, selectors, object)) items.push(object as unknown as T);
      }
      storeToken = page.continue;
      remainingItemCount = page.remainingItemCount;
      if (pageLimit === undefined || !storeToken || items.length >= pageLimit) break;
    }
    const metadata: KubeList['metadata'] = { resourceVersion: String(listRevision) };
    if (storeToken) {
      metadata.continue = encodeContinue(prefix, storeToken);
      // Upstream only reports the remaining count when no selector filters the list.
      if (remainingItemCount !== undefined && !selectors.label && !selectors.field) {
        metadata.remainingItemCount = remainingItemCount;
      }
    }
    return { apiVersion: kind.apiVersion, kind: kind.listKind, metadata, items };
  }

  // ---------------------------------------------------------------------------------------------
  // Create

  async create<T extends KubeObject = KubeObject>(input: T, options: RegistryCreateOptions = {}): Promise<T> {
    const object = this.copyInput(input, options.handOver);
    const kind = this.kindOf(object, options.kind);
    const dryRun = isDryRun(options);
    if (object.metadata !== undefined && !isPlainObject(object.metadata))
      throw errors.badRequest('metadata must be an object');
    const metadata = metaOf(object);
    if (metadata.resourceVersion) {
      throw errors.badRequest('resourceVersion should not be set on objects to be created');
    }
    for (const field of systemMetadataFields) delete metadata[field];
    object.apiVersion = kind.apiVersion;
    object.kind = kind.kind;

    // Namespace: from the request, else from the object, else `default` (as kubectl does).
    if (kind.namespaced) {
      const requested = checkNamespace(options.namespace);
      if (requested && metadata.namespace && metadata.namespace !== requested) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      metadata.namespace = requested ?? metadata.namespace ?? 'default';
    } else {
      delete metadata.namespace;
    }

    if (kind.hasStatusSubresource) delete object.status;
    kind.defaults?.(object);

    // The mutating admission phase sees the object as decoded (defaulted, namespace set, name maybe
    // still to be generated); whatever a plugin adds is defaulted again below.
    const user = options.user ?? controlPlaneUser;
    const attributes = (candidate: UnstructuredObject): AdmissionAttributes => ({
      operation: 'CREATE',
      kind: { group: kind.group, version: kind.version, kind: kind.kind },
      resource: { group: kind.group, version: kind.version, resource: kind.resource },
      subresource: '',
      namespace: kind.namespaced ? String(candidate.metadata?.namespace ?? '') : '',
      name: String(candidate.metadata?.name ?? ''),
      object: candidate,
      userInfo: user,
      dryRun,
      options,
    });
    const mutators = this.admission.mutatingFor('CREATE');
    if (mutators.length > 0) {
      await this.admission.admit(attributes(object));
      if (mutators.some((plugin) => !(plugin instanceof NamespaceLifecycle))) {
        if (!isPlainObject(object.metadata)) throw errors.badRequest('metadata must be an object');
        kind.defaults?.(object);
      }
    }
    const hooks = this.hooksFor(kind);
    const validating = this.admission.validatingFor('CREATE').length > 0;

    const generated =
      !metadata.name && typeof metadata.generateName === 'string' && metadata.generateName !== '';
    for (let attempt = 0; ; attempt++) {
      const candidate = attempt === 0 ? object : cloneJson(object, 'object');
      const meta = metaOf(candidate);
      if (generated) meta.name = this.generateName(String(meta.generateName));
      meta.uid = crypto.randomUUID();
      meta.creationTimestamp = formatTimestamp(this.clock.now());
      if (kind.hasGeneration) meta.generation = 1;
      kind.prepareForCreate?.(candidate);
      dropEmptyMetadataCollections(candidate);
      const finish =
        hooks.length > 0
          ? await this.beginWrite(hooks, (hook) =>
              hook.beforeCreate?.(candidate, { dryRun, subresource: '' }),
            )
          : undefined;
      let stored = false;
      try {
        this.validateOrThrow(kind, candidate);
        if (validating) await this.admission.validate(attributes(candidate));
        if (dryRun) return candidate as unknown as T;
        const key = storageKey(kind, meta.namespace, String(meta.name));
        try {
          const entry = await this.store.create(key, this.encode(candidate));
          stored = true;
          // The candidate is this call's own copy and equals what was stored: no need to re-parse it.
          meta.resourceVersion = String(entry.modRevision);
          return candidate as unknown as T;
        } catch (error) {
          if (isStatusError(error, 'AlreadyExists')) {
            // A generated name that collided is retried with another suffix, as upstream does.
            if (generated && attempt + 1 < generateNameAttempts) continue;
            throw errors.alreadyExists(this.subject(kind, String(meta.name)));
          }
          throw StatusError.from(error);
        }
      } finally {
        if (finish) await finish(stored);
      }
    }
  }

  /**
   * Calls `begin` on each hook in order and returns one function that finishes them all; when a
   * hook refuses, the ones already begun are rolled back before the refusal is thrown.
   */
  private async beginWrite(
    hooks: readonly RegistryHook[],
    begin: (hook: RegistryHook) => Promise<FinishWrite | undefined> | undefined,
  ): Promise<FinishWrite | undefined> {
    const finishers: FinishWrite[] = [];
    const finishAll: FinishWrite = async (stored) => {
      // Every hook is finished even if one fails, and the write's outcome stands either way: what a
      // failed finish leaves behind (a leaked allocation) is the hook's own repair to clean up.
      await Promise.allSettled(finishers.map((finish) => finish(stored)));
    };
    for (const hook of hooks) {
      try {
        const finish = await begin(hook);
        if (finish) finishers.push(finish);
      } catch (error) {
        await finishAll(false);
        throw StatusError.from(error);
      }
    }
    return finishers.length > 0 ? finishAll : undefined;
  }

  private hooksFor(kind: RegisteredKind): readonly RegistryHook[] {
    if (this.hooks.length === 0) return this.hooks;
    let hooks = this.hooksByKind.get(kind);
    if (!hooks) {
      hooks = this.hooks.filter((hook) => hook.handles(kind));
      this.hooksByKind.set(kind, hooks);
    }
    return hooks;
  }

  /** Reads a namespace for NamespaceLifecycle, straight from the store. */
  private async lookupNamespace(name: string): Promise<Namespace | undefined> {
    const namespaceKind = this.scheme.kindFor({ group: '', version: 'v1', kind: 'Namespace' });
    // A scheme without namespaces (a trimmed-down control plane) has no lifecycle to enforce.
    if (!namespaceKind) return { metadata: { name }, status: { phase: 'Active' } };
    try {
      const entry = await this.store.get(storageKey(namespaceKind, undefined, name));
      return JSON.parse(entry.value) as Namespace;
    } catch (error) {
      if (isStatusError(error, 'NotFound')) return undefined;
      throw StatusError.from(error);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Update and patch

  async update<T extends KubeObject = KubeObject>(input: T, options: RegistryUpdateOptions = {}): Promise<T> {
    const object = this.copyInput(input, options.handOver);
    const kind = this.kindOf(object, options.kind);
    const subresource = this.checkSubresource(kind, options.subresource);
    if (!isPlainObject(object.metadata))
      throw errors.badRequest('metadata must be an object with the name of the object to update');
    const metadata = metaOf(object);
    const name = checkName(metadata.name, 'metadata.name');
    let namespace: string | undefined;
    if (kind.namespaced) {
      const requested = checkNamespace(options.namespace);
      const own = checkNamespace(metadata.namespace);
      if (requested && own && requested !== own) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      namespace = requested ?? own ?? 'default';
    }
    const result = await this.guaranteedUpdate(
      kind,
      namespace,
      name,
      subresource,
      isDryRun(options),
      () => cloneJson(object, 'object'),
      { user: options.user, options, managedFieldsFromRequest: options.managedFieldsFromRequest },
    );
    return result as unknown as T;
  }

  async patch<T extends KubeObject = KubeObject>(
    kindRef: KindReference,
    name: string,
    type: PatchType,
    patch: unknown,
    options: RegistryPatchOptions = {},
  ): Promise<T> {
    const kind = this.scheme.resolve(kindRef);
    checkName(name);
    const namespace = this.namespaceFor(kind, options.namespace);
    const subresource = this.checkSubresource(kind, options.subresource);
    const dryRun = isDryRun(options);
    const document = cloneJson(patch, 'patch');
    let apply: (current: UnstructuredObject) => UnstructuredObject;
    if (type === 'merge') {
      if (!isPlainObject(document)) throw errors.badRequest('a JSON merge patch must be a JSON object');
      apply = (current) => jsonMergePatch.apply(current, cloneJson(document, 'patch')) as UnstructuredObject;
    } else if (type === 'json') {
      if (!Array.isArray(document)) throw errors.badRequest('a JSON patch must be an array of operations');
      const problem = jsonPatch.validate(document as jsonPatch.Operation[]);
      if (problem) throw errors.badRequest(`invalid JSON patch: ${problem.message.split('\n')[0]}`);
      apply = (current) => {
        try {
          return jsonPatch.applyPatch(
            current,
            cloneJson(document as jsonPatch.Operation[], 'patch'),
            true,
            true,
            true,
          ).newDocument as UnstructuredObject;
        } catch (error) {
          // Upstream answers 422 when a well-formed patch cannot be applied (failed test, missing path).
          const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
          throw new StatusError('Invalid', `the JSON patch could not be applied: ${message}`, {
            name,
            kind: kind.resource,
            group: kind.group || undefined,
          });
        }
      };
    } else {
      throw new StatusError(
        'UnsupportedMediaType',
        `the patch type ${JSON.stringify(type)} is not supported; use "merge" or "json"`,
      );
    }
    const result = await this.guaranteedUpdate(
      kind,
      namespace,
      name,
      subresource,
      dryRun,
      (current) => {
        const patched = apply(current);
        if (!isPlainObject(patched)) throw errors.badRequest('the patched document is not a JSON object');
        const { metadata } = patched as { metadata?: unknown };
        if (metadata !== undefined && !isPlainObject(metadata)) {
          throw errors.badRequest("the patched object's metadata must be a JSON object");
        }
        return patched as UnstructuredObject;
      },
      { user: options.user, options, managedFieldsFromRequest: options.managedFieldsFromRequest },
    );
    return result as unknown as T;
  }

  // ---------------------------------------------------------------------------------------------
  // pods/binding

  async bind(input: Binding, options: CreateOptions & RegistryCaller = {}): Promise<void> {
    if (!isPlainObject(input)) throw errors.badRequest('the binding must be a JSON object');
    const binding = cloneJson(input, 'binding') as Binding;
    if (binding.kind !== undefined && binding.kind !== 'Binding') {
      throw errors.badRequest(`kind ${JSON.stringify(binding.kind)} does not match Binding`);
    }
    if (binding.apiVersion !== undefined && binding.apiVersion !== 'v1') {
      throw errors.badRequest(`apiVersion ${JSON.stringify(binding.apiVersion)} does not match v1`);
    }
    const kind = this.scheme.resolve({ group: '', version: 'v1', kind: 'Pod' });
    const meta = isPlainObject(binding.metadata) ? binding.metadata : undefined;
    const name = checkName(meta?.name, 'metadata.name');
    const requested = checkNamespace(options.namespace);
    const own = checkNamespace(meta?.namespace);
    if (requested && own && requested !== own) {
      throw errors.badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const namespace = requested ?? own ?? 'default';
    const dryRun = isDryRun(options);
    // Upstream admits a binding as the CREATE of pods/binding, with the Binding as the object.
    if (this.admission.handles('CREATE')) {
      const attributes: AdmissionAttributes = {
        operation: 'CREATE',
        kind: { group: '', version: 'v1', kind: 'Binding' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        subresource: 'binding',
        namespace,
        name,
        object: binding as unknown as KubeObject,
        userInfo: options.user ?? controlPlaneUser,
        dryRun,
        options,
      };
      await this.admission.admit(attributes);
      await this.admission.validate(attributes);
    }
    const causes = validatePodBinding(binding);
    if (causes.length > 0) throw errors.invalid('Binding', name, causes);
    await this.guaranteedUpdate(kind, namespace, name, 'binding', dryRun, (current) => {
      assignPodToNode(current, binding, formatTimestamp(this.clock.now()));
      // The uid precondition travels like an update's: prepareUpdate compares it with the stored uid.
      if (meta?.uid) metaOf(current).uid = meta.uid;
      return current;
    });
  }

  /**
   * Reads the stored object, lets `tryUpdate` build the requested state from it, merges that with
   * what the server owns, validates, and compare-and-swaps. A stale resourceVersion in the requested
   * state is a Conflict; without one, losing the race to another writer is retried.
   */
  private async guaranteedUpdate(
    kind: RegisteredKind,
    namespace: string | undefined,
    name: string,
    subresource: string | undefined,
    dryRun: boolean,
    tryUpdate: (current: UnstructuredObject) => UnstructuredObject,
    caller: { user?: UserInfo; options?: unknown; managedFieldsFromRequest?: boolean } = {},
  ): Promise<UnstructuredObject> {
    // pods/binding was admitted by bind() as a CREATE of the Binding.
    const admit = subresource !== 'binding' && this.admission.handles('UPDATE');
    const hooks = this.hooksFor(kind);
    for (let attempt = 0; ; attempt++) {
      const current = await this.read(kind, namespace, name);
      const requested = tryUpdate(cloneJson(current.object, 'object'));
      // Admission runs on every attempt, so it always judges against the object really replaced.
      const attributes = (object: UnstructuredObject): AdmissionAttributes => ({
        operation: 'UPDATE',
        kind: { group: kind.group, version: kind.version, kind: kind.kind },
        resource: { group: kind.group, version: kind.version, resource: kind.resource },
        subresource: subresource ?? '',
        namespace: namespace ?? '',
        name,
        object,
        oldObject: cloneJson(current.object, 'object'),
        userInfo: caller.user ?? controlPlaneUser,
        dryRun,
        options: caller.options,
      });
      if (admit && this.admission.mutatingFor('UPDATE').length > 0) {
        await this.admission.admit(attributes(requested));
      }
      const next = this.prepareUpdate(
        kind,
        current.object,
        requested,
        subresource,
        caller.managedFieldsFromRequest ?? false,
      );
      const finish =
        hooks.length > 0
          ? await this.beginWrite(hooks, (hook) =>
              hook.beforeUpdate?.(next, current.object, { dryRun, subresource: subresource ?? '' }),
            )
          : undefined;
      dropEmptyMetadataCollections(next);
      let stored = false;
      let deleted = false;
      try {
        // A binding is the one write that may set spec.nodeName: validate the pod, not the spec change.
        this.validateOrThrow(kind, next, subresource === 'binding' ? undefined : current.object);
        if (admit && this.admission.validatingFor('UPDATE').length > 0)
          await this.admission.validate(attributes(next));
        if (jsonEqual(next, current.object)) return current.object;
        if (dryRun) return next;
        const key = storageKey(kind, namespace, name);
        try {
          if (this.shouldDeleteAfterUpdate(kind, next)) {
            const entry = await this.store.delete(key, { expectedRevision: current.entry.modRevision });
            stored = true;
            deleted = true;
            return this.decode(this.encode(next), entry.modRevision);
          }
          const entry = await this.store.update(key, this.encode(next), current.entry.modRevision);
          stored = true;
          return this.decode(entry.value, entry.modRevision);
        } catch (error) {
          const lostRace = isStatusError(error, 'Conflict') || isStatusError(error, 'NotFound');
          if (!lostRace) throw StatusError.from(error);
          if (attempt >= this.maxConflictRetries) throw this.modifiedConflict(kind, name);
          // Loop: the next read either succeeds, reports NotFound, or finds the precondition stale.
        }
      } finally {
        if (finish) await finish(stored);
        if (deleted) await this.afterDelete(hooks, next);
      }
    }
  }

  /** Tells the hooks an object is gone; their failures are theirs to repair, never the caller's. */
  private async afterDelete(hooks: readonly RegistryHook[], object: UnstructuredObject): Promise<void> {
    for (const hook of hooks) {
      try {
        await hook.afterDelete?.(object);
      } catch {
        // A hook that cannot release now (store unreachable) leaves a leak for its repair to find.
      }
    }
  }

  /** Builds the object to store for an update from the stored object and the requested state. */
  private prepareUpdate(
    kind: RegisteredKind,
    old: UnstructuredObject,
    requested: UnstructuredObject,
    subresource: string | undefined,
    managedFieldsFromRequest: boolean,
  ): UnstructuredObject {
    const oldMeta = old.metadata ?? {};
    const name = String(oldMeta.name);
    const requestedMeta: MutableObjectMeta = isPlainObject(requested.metadata) ? metaOf(requested) : {};
    if (requested.apiVersion !== undefined && requested.apiVersion !== kind.apiVersion) {
      throw errors.badRequest(
        `apiVersion ${JSON.stringify(requested.apiVersion)} does not match ${kind.apiVersion}`,
      );
    }
    if (requested.kind !== undefined && requested.kind !== kind.kind) {
      throw errors.badRequest(`kind ${JSON.stringify(requested.kind)} does not match ${kind.kind}`);
    }
    // Preconditions carried by the object: resourceVersion (optimistic concurrency) and uid.
    const requestedVersion = requestedMeta.resourceVersion;
    if (
      requestedVersion !== undefined &&
      requestedVersion !== '' &&
      requestedVersion !== oldMeta.resourceVersion
    ) {
      throw this.modifiedConflict(kind, name);
    }
    if (requestedMeta.uid && requestedMeta.uid !== oldMeta.uid) {
      throw errors.conflict(
        this.subject(kind, name),
        `Precondition failed: UID in precondition: ${requestedMeta.uid}, UID in object meta: ${oldMeta.uid}`,
      );
    }
    const causes: StatusCause[] = [];
    if (requestedMeta.name !== undefined && requestedMeta.name !== name) {
      causes.push(fieldCauses.invalid('metadata.name', requestedMeta.name, 'field is immutable'));
    }
    if (kind.namespaced && requestedMeta.namespace && requestedMeta.namespace !== oldMeta.namespace) {
      causes.push(fieldCauses.invalid('metadata.namespace', requestedMeta.namespace, 'field is immutable'));
    }
    if (causes.length > 0) throw errors.invalid(kind.kind, name, causes, kind.group || undefined);

    let next: UnstructuredObject;
    if (subresource === undefined) {
      next = requested;
      next.metadata = { ...requestedMeta };
      // As upstream: an update that leaves managedFields out keeps the stored ones (an empty list
      // clears them), so writers that do not know about field ownership do not erase it.
      if (next.metadata.managedFields === undefined && oldMeta.managedFields !== undefined) {
        next.metadata.managedFields = cloneJson(oldMeta.managedFields, 'managedFields');
      }
      if (kind.hasStatusSubresource) {
        // The main resource never writes status: that is the status subresource's job.
        if (old.status === undefined) delete next.status;
        else next.status = cloneJson(old.status, 'status');
      }
    } else if (subresource === 'status') {
      next = cloneJson(old, 'object');
      if (requested.status === undefined) delete next.status;
      else next.status = requested.status;
      if (kind.statusUpdateMayChangeLabels) {
        const meta = metaOf(next);
        meta.labels = requestedMeta.labels;
        meta.annotations = requestedMeta.annotations;
      }
      // The caller's field manager recorded this write (SubresourceManagedFields).
      if (managedFieldsFromRequest && requestedMeta.managedFields !== undefined) {
        metaOf(next).managedFields = cloneJson(requestedMeta.managedFields, 'managedFields');
      }
    } else if (subresource === 'binding') {
      // Built from the stored pod by assignPodToNode: only nodeName, annotations and one condition changed.
      next = requested;
    } else {
      const build = kind.prepareForSubresourceUpdate;
      if (!build) throw this.unsupportedSubresource(kind, subresource);
      next = build(subresource, requested, cloneJson(old, 'object'));
    }

    // What the server owns comes from the stored object, whatever the request says.
    const meta = metaOf(next);
    meta.name = oldMeta.name;
    if (kind.namespaced) meta.namespace = oldMeta.namespace;
    else delete meta.namespace;
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    for (const field of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (oldMeta[field] === undefined) delete meta[field];
      else (meta as Record<string, unknown>)[field] = oldMeta[field];
    }
    delete meta.resourceVersion;
    delete meta.selfLink;
    if (meta.generateName === undefined) delete meta.generateName;
    next.apiVersion = kind.apiVersion;
    next.kind = kind.kind;

    kind.defaults?.(next);
    if (subresource === undefined) kind.prepareForUpdate?.(next, old);

    if (oldMeta.deletionTimestamp) {
      const added = (meta.finalizers ?? []).filter((f) => !(oldMeta.finalizers ?? []).includes(f));
      if (added.length > 0) {
        causes.push(
          fieldCauses.forbidden(
            'metadata.finalizers',
            `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          ),
        );
      }
    }
    if (kind.hasGeneration && !jsonEqual(specPart(next), specPart(old))) {
      meta.generation = (oldMeta.generation ?? 0) + 1;
    }
    // Keep the stored object's resourceVersion so a no-op update compares equal.
    meta.resourceVersion = oldMeta.resourceVersion;
    if (causes.length > 0) throw errors.invalid(kind.kind, name, causes, kind.group || undefined);
    // Validation of the result is the caller's, after the registry hooks had their say.
    return next;
  }

  private shouldDeleteAfterUpdate(kind: RegisteredKind, object: UnstructuredObject): boolean {
    const meta = object.metadata ?? {};
    return (
      meta.deletionTimestamp !== undefined &&
      (meta.finalizers ?? []).length === 0 &&
      (kind.pendingFinalizers?.(object) ?? []).length === 0 &&
      (meta.deletionGracePeriodSeconds ?? 0) === 0
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Delete

  async delete<T extends KubeObject = KubeObject>(
    kindRef: KindReference,
    name: string,
    options: DeleteOptions & RegistryCaller = {},
  ): Promise<T> {
    const kind = this.scheme.resolve(kindRef);
    checkName(name);
    const namespace = this.namespaceFor(kind, options.namespace);
    const dryRun = isDryRun(options);
    const policy = options.propagationPolicy;
    if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw errors.badRequest(
        `propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Orphan", "Background", "Foreground"`,
      );
    }
    const grace = options.gracePeriodSeconds;
    if (grace !== undefined && (!Number.isSafeInteger(grace) || grace < 0)) {
      throw errors.badRequest(
        `gracePeriodSeconds must be a non-negative integer, got ${JSON.stringify(grace)}`,
      );
    }
    const preconditions = options.preconditions;
    if (preconditions !== undefined && !isPlainObject(preconditions)) {
      throw errors.badRequest('preconditions must be an object with uid and/or resourceVersion');
    }
    const admit = this.admission.handles('DELETE');
    const hooks = this.hooksFor(kind);

    for (let attempt = 0; ; attempt++) {
      const current = await this.read(kind, namespace, name);
      const meta = current.object.metadata ?? {};
      if (preconditions?.uid !== undefined && preconditions.uid !== meta.uid) {
        throw errors.conflict(
          this.subject(kind, name),
          `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${meta.uid ?? ''}`,
        );
      }
      if (
        preconditions?.resourceVersion !== undefined &&
        preconditions.resourceVersion !== meta.resourceVersion
      ) {
        throw errors.conflict(
          this.subject(kind, name),
          `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ''}`,
        );
      }
      if (admit) {
        // Every attempt: admission judges the object as it is now (upstream's oldObject).
        const attributes: AdmissionAttributes = {
          operation: 'DELETE',
          kind: { group: kind.group, version: kind.version, kind: kind.kind },
          resource: { group: kind.group, version: kind.version, resource: kind.resource },
          subresource: '',
          namespace: namespace ?? '',
          name,
          oldObject: cloneJson(current.object, 'object'),
          userInfo: options.user ?? controlPlaneUser,
          dryRun,
          options,
        };
        await this.admission.admit(attributes);
        await this.admission.validate(attributes);
      }
      const key = storageKey(kind, namespace, name);
      const next = cloneJson(current.object, 'object');
      const nextMeta = metaOf(next);
      let finalizers = [...(meta.finalizers ?? [])];
      // Orphan and Foreground hand the dependents to the garbage collector through a finalizer.
      if (policy === 'Orphan') {
        finalizers = finalizers.filter((f) => f !== 'foregroundDeletion');
        if (!finalizers.includes('orphan')) finalizers.push('orphan');
      } else if (policy === 'Foreground') {
        finalizers = finalizers.filter((f) => f !== 'orphan');
        if (!finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      } else if (policy === 'Background') {
        finalizers = finalizers.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
      }
      let graceSeconds = kind.deletionGracePeriodSeconds?.(current.object, grace) ?? 0;
      // An object already counting down keeps the shorter of the two periods.
      if (meta.deletionGracePeriodSeconds !== undefined)
        graceSeconds = Math.min(graceSeconds, meta.deletionGracePeriodSeconds);
      const pending = finalizers.length > 0 || (kind.pendingFinalizers?.(current.object) ?? []).length > 0;

      try {
        if (!pending && graceSeconds === 0) {
          if (dryRun) return current.object as unknown as T;
          const entry = await this.store.delete(key, { expectedRevision: current.entry.modRevision });
          const deleted = this.decode(entry.value, entry.modRevision);
          if (hooks.length > 0) await this.afterDelete(hooks, cloneJson(deleted, 'object'));
          return deleted as unknown as T;
        }
        const firstMark = meta.deletionTimestamp === undefined;
        if (firstMark || graceSeconds < (meta.deletionGracePeriodSeconds ?? 0)) {
          nextMeta.deletionTimestamp = formatTimestamp(this.clock.now() + graceSeconds * 1000);
          nextMeta.deletionGracePeriodSeconds = graceSeconds;
        }
        if (finalizers.length > 0) nextMeta.finalizers = finalizers;
        else delete nextMeta.finalizers;
        if (firstMark) {
          // Upstream bumps the generation when deletion starts, so controllers see a new "spec".
          if (nextMeta.generation !== undefined && nextMeta.generation > 0) nextMeta.generation += 1;
          kind.prepareForDelete?.(next);
        }
        if (jsonEqual(next, current.object)) return current.object as unknown as T;
        if (dryRun) return next as unknown as T;
        const entry = await this.store.update(key, this.encode(next), current.entry.modRevision);
        return this.decode(entry.value, entry.modRevision) as unknown as T;
      } catch (error) {
        const lostRace = isStatusError(error, 'Conflict') || isStatusError(error, 'NotFound');
        if (!lostRace) throw StatusError.from(error);
        if (attempt >= this.maxConflictRetries) throw this.modifiedConflict(kind, name);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Watch

  watch<T extends KubeObject = KubeObject>(
    kindRef: KindReference,
    options: WatchOptions = {},
  ): Observable<WatchEvent<T>> {
    return new RxObservable<WatchEvent<T>>((subscriber) => {
      let storeSubscription: Subscription | undefined;
      let closed = false;
      const timers: CancelTimer[] = [];
      const fail = (error: unknown): void => {
        if (!closed) subscriber.error(StatusError.from(error));
      };
      // The parameters are checked before anything else, synchronously: a bad selector,
      // resourceVersion or timeout errors the stream during subscribe, so a server can still answer
      // with an error status instead of starting a stream.
      let kind: RegisteredKind;
      let namespace: string | undefined;
      let selectors: Selectors;
      let startRevision: number | undefined;
      const timeout = options.timeoutSeconds;
      const requested = options.resourceVersion;
      try {
        kind = this.scheme.resolve(kindRef);
        namespace = kind.namespaced ? checkNamespace(options.namespace) : undefined;
        selectors = this.parseSelectors(kind, options.labelSelector, options.fieldSelector);
        if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0)) {
          throw errors.badRequest(
            `timeoutSeconds must be a non-negative number, got ${JSON.stringify(timeout)}`,
          );
        }
        if (requested !== undefined && requested !== '' && requested !== '0') {
          startRevision = parseResourceVersion(requested);
        }
      } catch (error) {
        subscriber.error(StatusError.from(error));
        return;
      }
      const start = async (): Promise<void> => {
        const prefix = storageKeyPrefix(kind, namespace);
        // Absent or "0": start at the current state, a synthetic ADDED for every object, then the changes.
        let lastRevision =
          startRevision ??
          (await this.emitInitialState(kind, prefix, selectors, (event) => {
            if (!closed) subscriber.next(event as WatchEvent<T>);
          }));
        if (closed) return;
        storeSubscription = this.store.watch(prefix, { afterRevision: lastRevision }).subscribe({
          next: (event) => {
            lastRevision = event.revision;
            const translated = this.translate(kind, selectors, event);
            if (translated) subscriber.next(translated as WatchEvent<T>);
          },
          error: (error: unknown) => {
            if (isStatusError(error, 'Expired') || isStatusError(error, 'Gone')) {
              this.store.compactedRevision().then(
                (compacted) => fail(errors.expired(`too old resource version: ${requested} (${compacted})`)),
                () => fail(errors.expired(`too old resource version: ${requested}`)),
              );
            } else fail(error);
          },
          complete: () => subscriber.complete(),
        });
        if (options.allowWatchBookmarks) {
          // The bookmark carries the revision of the last event this watch delivered: everything up
          // to it has been seen, so resuming from it loses nothing.
          const bookmark = (): void => {
            if (closed) return;
            subscriber.next({
              type: 'BOOKMARK',
              object: {
                apiVersion: kind.apiVersion,
                kind: kind.kind,
                metadata: { resourceVersion: String(lastRevision) },
              } as unknown as T,
            });
            timers.push(this.clock.setTimeout(bookmark, this.bookmarkIntervalMs));
          };
          timers.push(this.clock.setTimeout(bookmark, this.bookmarkIntervalMs));
        }
        if (timeout !== undefined && timeout > 0) {
          timers.push(this.clock.setTimeout(() => subscriber.complete(), timeout * 1000));
        }
      };
      start().catch(fail);
      return () => {
        closed = true;
        storeSubscription?.unsubscribe();
        for (const cancel of timers) cancel();
      };
    });
  }

  private async emitInitialState(
    kind: RegisteredKind,
    prefix: string,
    selectors: Selectors,
    emit: (event: WatchEvent) => void,
  ): Promise<number> {
    let token: string | undefined;
    let revision = 0;
    do {
      const page = await this.store.list(prefix, { limit: watchListPageSize, continue: token });
      revision = page.revision;
      for (const entry of page.items) {
        const object = this.decode(entry.value, entry.modRevision);
        if (this.matches(kind, selectors, object)) emit({ type: 'ADDED', object });
      }
      token = page.continue;
    } while (token);
    return revision;
  }

  /** Turns a store event into the watch event a client with these selectors sees, if any. */
  private translate(kind: RegisteredKind, selectors: Selectors, event: StoreEvent): WatchEvent | undefined {
    const filtered = selectors.label !== undefined || selectors.field !== undefined;
    if (event.type === 'delete') {
      // A DELETED event carries the last state, stamped with the revision of the deletion.
      const last = this.decode(event.value, event.revision);
      return this.matches(kind, selectors, last) ? { type: 'DELETED', object: last } : undefined;
    }
    const added = event.type === 'create' || event.prevValue === undefined;
    if (!filtered) {
      // Every unfiltered watcher of this store event gets the same text (a server writes it as is)
      // and parses its own copy only if it reads `object`.
      return lazyWatchEvent(added ? 'ADDED' : 'MODIFIED', eventJson(event));
    }
    const current = this.decode(event.value, event.revision);
    if (added || event.prevValue === undefined) {
      return this.matches(kind, selectors, current) ? { type: 'ADDED', object: current } : undefined;
    }
    const previous = this.decode(event.prevValue, event.revision);
    const nowMatches = this.matches(kind, selectors, current);
    const matchedBefore = this.matches(kind, selectors, previous);
    if (nowMatches && matchedBefore) return { type: 'MODIFIED', object: current };
    if (nowMatches) return { type: 'ADDED', object: current };
    // Leaving the selector looks like a deletion to this watcher: it gets the state it last matched.
    if (matchedBefore) return { type: 'DELETED', object: previous };
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /**
   * Stored form: the object without its resourceVersion (that is the store's revision), with
   * apiVersion, kind and metadata first so {@link withResourceVersion} can splice the revision back
   * into the text without parsing it.
   */
  private encode(object: UnstructuredObject): string {
    const { apiVersion, kind, metadata, ...rest } = object;
    if (!metadata?.resourceVersion) return JSON.stringify({ apiVersion, kind, metadata, ...rest });
    const { resourceVersion: _resourceVersion, ...meta } = metadata;
    return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
  }

  private decode(value: string, revision: number): UnstructuredObject {
    const object = JSON.parse(value) as UnstructuredObject;
    metaOf(object).resourceVersion = String(revision);
    return object;
  }

  private async read(kind: RegisteredKind, namespace: string | undefined, name: string): Promise<Current> {
    try {
      const entry = await this.store.get(storageKey(kind, namespace, name));
      return { entry, object: this.decode(entry.value, entry.modRevision) };
    } catch (error) {
      if (isStatusError(error, 'NotFound')) throw errors.notFound(this.subject(kind, name));
      throw StatusError.from(error);
    }
  }

  private copyInput(input: KubeObject, handOver = false): UnstructuredObject {
    if (!isPlainObject(input)) throw errors.badRequest('the object must be a JSON object');
    return handOver ? (input as UnstructuredObject) : cloneJson(input as UnstructuredObject, 'object');
  }

  private kindOf(object: UnstructuredObject, expected: KindReference | undefined): RegisteredKind {
    if (expected === undefined) return this.scheme.kindOfObject(object);
    const kind = this.scheme.resolve(expected);
    if (object.apiVersion !== undefined && object.apiVersion !== kind.apiVersion) {
      throw errors.badRequest(
        `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${kind.apiVersion})`,
      );
    }
    if (object.kind !== undefined && object.kind !== kind.kind) {
      throw errors.badRequest(
        `the kind in the data (${String(object.kind)}) does not match the expected kind (${kind.kind})`,
      );
    }
    object.apiVersion = kind.apiVersion;
    object.kind = kind.kind;
    return kind;
  }

  private namespaceFor(kind: RegisteredKind, namespace: string | undefined): string | undefined {
    if (!kind.namespaced) return undefined;
    return checkNamespace(namespace) ?? 'default';
  }

  private checkSubresource(kind: RegisteredKind, subresource: string | undefined): string | undefined {
    if (subresource === undefined || subresource === '') return undefined;
    if (!kind.subresources.includes(subresource)) {
      throw new StatusError(
        'NotFound',
        `the server could not find the requested resource (${kind.qualifiedResource}/${subresource})`,
        {
          kind: kind.resource,
          group: kind.group || undefined,
        },
      );
    }
    // pods/binding is created (bind), never updated or patched.
    if (subresource === 'binding' || (subresource !== 'status' && !kind.prepareForSubresourceUpdate))
      throw this.unsupportedSubresource(kind, subresource);
    return subresource;
  }

  private unsupportedSubresource(kind: RegisteredKind, subresource: string): StatusError {
    return errors.methodNotAllowed(`the registry cannot write ${kind.qualifiedResource}/${subresource}`);
  }

  private subject(kind: RegisteredKind, name: string): { resource: string; group?: string; name: string } {
    return { resource: kind.resource, group: kind.group || undefined, name };
  }

  private modifiedConflict(kind: RegisteredKind, name: string): StatusError {
    return errors.conflict(
      this.subject(kind, name),
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  }

  private generateName(base: string): string {
    const prefix = base.length > maxGeneratedBaseLength ? base.slice(0, maxGeneratedBaseLength) : base;
    let suffix = '';
    for (let i = 0; i < generatedSuffixLength; i++) {
      suffix += generateNameAlphabet[Math.floor(Math.random() * generateNameAlphabet.length)];
    }
    return prefix + suffix;
  }

  private validateOrThrow(kind: RegisteredKind, object: UnstructuredObject, old?: UnstructuredObject): void {
    const metadata = object.metadata;
    const causes = validateObjectMeta(metadata, {
      namespaced: kind.namespaced,
      nameRule: kind.nameValidation,
    });
    if (metadata?.finalizers !== undefined && !Array.isArray(metadata.finalizers)) {
      causes.push(
        fieldCauses.invalid('metadata.finalizers', metadata.finalizers, 'must be a list of strings'),
      );
    }
    if (metadata?.ownerReferences !== undefined && !Array.isArray(metadata.ownerReferences)) {
      causes.push(
        fieldCauses.invalid('metadata.ownerReferences', metadata.ownerReferences, 'must be a list'),
      );
    }
    // The kind's own checks run even when metadata is invalid: like upstream, one answer lists every
    // problem, so a client fixes a bad name and a missing field in one round.
    causes.push(...(kind.validate?.(object, old) ?? []));
    if (causes.length > 0) {
      const name = metadata?.name || metadata?.generateName || '';
      throw errors.invalid(kind.kind, String(name), causes, kind.group || undefined);
    }
  }

  private parseSelectors(kind: RegisteredKind, labelSelector?: string, fieldSelector?: string): Selectors {
    const selectors: Selectors = {};
    if (labelSelector !== undefined && labelSelector !== '') {
      const label = parseLabelSelector(labelSelector);
      if (!label.empty) selectors.label = label;
    }
    if (fieldSelector !== undefined && fieldSelector !== '') {
      const field = parseFieldSelector(fieldSelector);
      checkFieldSelectorFields(field, [...kind.selectableFieldNames], kind.resource);
      if (!field.empty) selectors.field = field;
    }
    return selectors;
  }

  private matches(kind: RegisteredKind, selectors: Selectors, object: UnstructuredObject): boolean {
    if (selectors.label && !selectors.label.matches(object.metadata?.labels)) return false;
    if (selectors.field && !selectors.field.matches(kind.fieldsOf(object))) return false;
    return true;
  }

  /** The store revision a list reads at, from resourceVersion and resourceVersionMatch as upstream defines them. */
  private async listRevision(options: ListOptions, limit: number | undefined): Promise<number | undefined> {
    const { resourceVersion, resourceVersionMatch: match } = options;
    const hasVersion = resourceVersion !== undefined && resourceVersion !== '';
    if (match !== undefined && match !== 'Exact' && match !== 'NotOlderThan') {
      throw errors.badRequest(
        `resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`,
      );
    }
    if (match !== undefined && !hasVersion) {
      throw errors.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    }
    if (options.continue) {
      if (match !== undefined)
        throw errors.badRequest('resourceVersionMatch is forbidden when continue is provided');
      if (hasVersion && resourceVersion !== '0') {
        throw errors.badRequest('specifying resource version is not allowed when using continue');
      }
      return undefined;
    }
    if (!hasVersion) return undefined;
    const version = parseResourceVersion(resourceVersion);
    if (match === 'Exact') {
      if (version === 0)
        throw errors.badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');
      return version;
    }
    if (version === 0) return undefined;
    // Legacy rule: a non-zero resourceVersion with a limit and no match means Exact.
    if (match === undefined && limit !== undefined) return version;
    await this.checkNotTooLarge(version);
    return undefined;
  }

  private async checkNotTooLarge(version: number): Promise<void> {
    const current = await this.store.currentRevision();
    if (version > current) {
      throw new StatusError('Timeout', `Too large resource version: ${version}, current: ${current}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      });
    }
  }

  private listError(error: unknown, options: ListOptions): StatusError {
    if (isStatusError(error, 'Expired') || isStatusError(error, 'Gone')) {
      return options.continue
        ? errors.expired(
            'The provided continue parameter is too old to display a consistent list result. Start a new list without the continue parameter.',
          )
        : errors.expired('The resourceVersion for the provided list is too old.');
    }
    return StatusError.from(error);
  }
}
