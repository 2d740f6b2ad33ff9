// SPDX-License-Identifier: Apache-2.0
/**
 * `metadata.managedFields` bookkeeping and the two operations that change it, as upstream's field
 * manager does: an *Update* (create, update, any non-apply patch) gives its manager the fields it
 * added or changed and takes them from everyone else; an *Apply* makes the applied configuration's
 * fields the applier's, merges it into the live object, removes what the applier set before and
 * dropped now (unless someone else owns it), and refuses to change a field another manager owns
 * unless forced.
 *
 * @module
 */
import { type KubeObject, StatusError } from '@cpkit/core';
import { FieldSet, pathString } from './field-set.js';
import type { TypeNode } from './type-tree.js';
import {
  type Comparison,
  compareObjects,
  createdFieldsV1,
  fieldSetOf,
  jsonEqual,
  mergeObjects,
  pruneObject,
} from './walk.js';

/** One `metadata.managedFields` entry, as the API serves it. @category API server */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** A decoded entry: who, how, and the fields it owns. */
interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string;
  time: string | undefined;
  set: FieldSet;
}

/** Upstream keys managers by name, operation, subresource and (for updaters only) apiVersion. */
function managerId(manager: string, operation: string, apiVersion: string, subresource: string): string {
  return JSON.stringify([manager, operation, operation === 'Apply' ? '' : apiVersion, subresource]);
}

const idOf = (m: Manager): string => managerId(m.manager, m.operation, m.apiVersion, m.subresource);

/** The last-applied annotation of client-side apply. @category API server */
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** What the server owns: never part of a manager's fields. */
const serverMetadata = [
  'managedFields',
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];
const strippedLeaves = (() => {
  const set = new FieldSet();
  for (const path of [
    ['f:apiVersion'],
    ['f:kind'],
    ['f:metadata'],
    ['f:metadata', 'f:name'],
    ['f:metadata', 'f:namespace'],
  ]) {
    set.insert(path);
  }
  return set;
})();

let lastSecond = -1;
let lastStamp = '';

/** Timestamps as metav1.Time serializes them: RFC 3339, whole seconds, UTC (cached per second). */
function timestamp(now: Date): string {
  const ms = now.getTime();
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastStamp = `${now.toISOString().slice(0, 19)}Z`;
  }
  return lastStamp;
}

/** True for upstream's reset form: a list holding one empty entry. */
function isReset(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length === 1 &&
    typeof value[0] === 'object' &&
    value[0] !== null &&
    Object.keys(value[0]).length === 0
  );
}

/**
 * Decodes managedFields; undefined when absent, empty, or not well formed (an entry without a manager
 * operation, apiVersion, `FieldsV1` type or a valid field set, or two entries for one manager).
 */
function decode(value: unknown): Map<string, Manager> | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const managers = new Map<string, Manager>();
  try {
    for (const raw of value) {
      if (typeof raw !== 'object' || raw === null) return undefined;
      const entry = raw as ManagedFieldsEntry;
      if (entry.operation !== 'Apply' && entry.operation !== 'Update') return undefined;
      if (typeof entry.apiVersion !== 'string' || entry.apiVersion === '') return undefined;
      if (entry.fieldsType !== 'FieldsV1') return undefined;
      if (entry.manager !== undefined && typeof entry.manager !== 'string') return undefined;
      if (entry.subresource !== undefined && typeof entry.subresource !== 'string') return undefined;
      if (entry.time !== undefined && typeof entry.time !== 'string') return undefined;
      const manager: Manager = {
        manager: entry.manager ?? '',
        operation: entry.operation,
        apiVersion: entry.apiVersion,
        subresource: entry.subresource ?? '',
        time: entry.time,
        set: FieldSet.fromFieldsV1(entry.fieldsV1 ?? {}),
      };
      const id = idOf(manager);
      if (managers.has(id)) return undefined;
      managers.set(id, manager);
    }
  } catch {
    return undefined;
  }
  return managers;
}

/** Encodes in upstream's order: appliers first, then by time, manager, apiVersion, subresource. */
function encode(managers: Map<string, Manager>): ManagedFieldsEntry[] {
  const list = [...managers.values()].filter((m) => !m.set.isEmpty());
  const seconds = (m: Manager): number => (m.time ? Math.floor(Date.parse(m.time) / 1000) : 0);
  list.sort(
    (p, q) =>
      (p.operation < q.operation ? -1 : p.operation > q.operation ? 1 : 0) ||
      seconds(p) - seconds(q) ||
      (p.manager < q.manager ? -1 : p.manager > q.manager ? 1 : 0) ||
      (p.apiVersion < q.apiVersion ? -1 : p.apiVersion > q.apiVersion ? 1 : 0) ||
      (p.subresource < q.subresource ? -1 : p.subresource > q.subresource ? 1 : 0),
  );
  return list.map((m) => ({
    manager: m.manager,
    operation: m.operation,
    apiVersion: m.apiVersion,
    ...(m.time ? { time: m.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: m.set.toFieldsV1(),
    ...(m.subresource ? { subresource: m.subresource } : {}),
  }));
}

/** The object as field management sees it: without the server's metadata (and status, when asked). */
function comparable(
  object: KubeObject | undefined,
  dropStatus: boolean,
): Record<string, unknown> | undefined {
  if (!object) return undefined;
  const out: Record<string, unknown> = { ...object };
  if (dropStatus) delete out.status;
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (metadata) {
    const copy: Record<string, unknown> = { ...metadata };
    for (const field of serverMetadata) delete copy[field];
    out.metadata = copy;
  }
  return out;
}

function strip(comparison: Comparison): Comparison {
  return {
    added: comparison.added.difference(strippedLeaves),
    modified: comparison.modified.difference(strippedLeaves),
    removed: comparison.removed.difference(strippedLeaves),
  };
}

/** What a write is, for field management. @category API server */
export interface FieldManagerContext {
  /** The kind's shape ({@link typeOfKind}). */
  type: TypeNode;
  /** `group/version` of the request (`v1`, `apps/v1`). */
  apiVersion: string;
  /** The field manager's name. */
  manager: string;
  /** `''` for the main resource, else `status`, `scale`... */
  subresource?: string;
  /**
   * True when the kind has a status subresource and the write is to the main resource: status is
   * not the writer's (the registry keeps the stored one).
   */
  ignoreStatus?: boolean;
  /** The clock; default: now. */
  now?: Date;
}

/**
 * Records an *Update* by `ctx.manager`: returns the managedFields `next` should be stored with,
 * given the stored object `live` (undefined on create). The writer takes every field it added or
 * changed (from anyone who owned it) and the fields it removed leave every set. A request's own
 * managedFields are taken as the starting point when they are well formed (how clients rewrite or
 * migrate them, as upstream allows), `[{}]` clears them, and anything else keeps the live ones.
 * Never throws: field management must not fail a write upstream would accept.
 * @category API server
 */
export function managedFieldsAfterUpdate(
  live: KubeObject | undefined,
  next: KubeObject,
  ctx: FieldManagerContext,
): ManagedFieldsEntry[] {
  const subresource = ctx.subresource ?? '';
  const requested = next.metadata?.managedFields as unknown;
  if (!live && requested === undefined) return createdEntry(next, ctx);
  let managers: Map<string, Manager>;
  if (subresource === '' && isReset(requested)) managers = new Map();
  else {
    managers =
      (subresource === '' ? decode(requested) : undefined) ??
      decode(live?.metadata?.managedFields) ??
      new Map<string, Manager>();
  }
  let comparison: Comparison;
  try {
    const ignoreStatus = ctx.ignoreStatus ?? false;
    comparison = strip(
      compareObjects(comparable(live, ignoreStatus), comparable(next, ignoreStatus), ctx.type),
    );
  } catch {
    return encode(managers);
  }
  const taken = comparison.added.union(comparison.modified);
  const self = managerId(ctx.manager, 'Update', ctx.apiVersion, subresource);
  for (const [id, manager] of managers) {
    manager.set = manager.set.difference(comparison.removed);
    if (id !== self) manager.set = manager.set.difference(taken);
  }
  if (!taken.isEmpty()) {
    const previous = managers.get(self);
    managers.set(self, {
      manager: ctx.manager,
      operation: 'Update',
      apiVersion: ctx.apiVersion,
      subresource,
      time: timestamp(ctx.now ?? new Date()),
      set: previous ? previous.set.union(taken) : taken,
    });
  }
  return encode(managers);
}

const skipTop = new Set(['apiVersion', 'kind']);
const skipTopAndStatus = new Set(['apiVersion', 'kind', 'status']);
const skipMetadata = new Set(['name', 'namespace', ...serverMetadata]);

/** The one entry of a plain create, built straight into FieldsV1 (the hot path). */
function createdEntry(next: KubeObject, ctx: FieldManagerContext): ManagedFieldsEntry[] {
  let fieldsV1: Record<string, unknown>;
  try {
    fieldsV1 = createdFieldsV1(
      next as Record<string, unknown>,
      ctx.type,
      ctx.ignoreStatus ? skipTopAndStatus : skipTop,
      skipMetadata,
    );
  } catch {
    return [];
  }
  if (Object.keys(fieldsV1).length === 0) return [];
  const subresource = ctx.subresource ?? '';
  return [
    {
      manager: ctx.manager,
      operation: 'Update',
      apiVersion: ctx.apiVersion,
      time: timestamp(ctx.now ?? new Date()),
      fieldsType: 'FieldsV1',
      fieldsV1,
      ...(subresource ? { subresource } : {}),
    },
  ];
}

/** One field another manager owns that an apply would change. @category API server */
export interface ApplyConflict {
  manager: string;
  /** As upstream prints it: `.spec.replicas`, `.spec.containers[name="web"].image`. */
  field: string;
}

function describeManager(m: Manager): string {
  let text = JSON.stringify(m.manager);
  if (m.subresource) text += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') text += ` using ${m.apiVersion}`;
  return text;
}

/** The 409 upstream answers an apply with conflicts, with one FieldManagerConflict cause per field. */
function conflictError(conflicts: { manager: Manager; path: string[] }[]): StatusError {
  const sorted = [...conflicts].sort(
    (a, b) =>
      describeManager(a.manager).localeCompare(describeManager(b.manager)) ||
      pathString(a.path).localeCompare(pathString(b.path)),
  );
  const causes = sorted.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${describeManager(c.manager)}`,
    field: pathString(c.path),
  }));
  let message: string;
  const first = sorted[0];
  if (sorted.length === 1 && first) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(first.manager)}: ${pathString(first.path)}`;
  } else {
    const lines: string[] = [];
    let current = '';
    for (const c of sorted) {
      const who = describeManager(c.manager);
      if (who !== current) {
        lines.push(`conflicts with ${who}:`);
        current = who;
      }
      lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${sorted.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError('Conflict', message, { causes }, 409);
}

/** What {@link applyConfiguration} decided. @category API server */
export interface ApplyResult {
  /** The object to store (managedFields included). */
  object: KubeObject;
  /** False when storing it would change nothing but timestamps: the caller may skip the write. */
  changed: boolean;
}

/** Options of {@link applyConfiguration}. @category API server */
export interface ApplyOptions extends FieldManagerContext {
  /** Take the conflicting fields instead of failing (`force=true`). */
  force?: boolean;
}

/**
 * Server-side apply of `config` by `ctx.manager` onto `live` (undefined: the object is created).
 * Throws a 409 Conflict StatusError listing every field another manager owns with a different
 * value (unless `force`), and a 400 BadRequest for list items without their keys, duplicate keys, or
 * a configuration that carries managedFields.
 * @category API server
 */
export function applyConfiguration(
  live: KubeObject | undefined,
  config: KubeObject,
  ctx: ApplyOptions,
): ApplyResult {
  const subresource = ctx.subresource ?? '';
  const ignoreStatus = ctx.ignoreStatus ?? false;
  const applied = comparable(config, ignoreStatus) as KubeObject;
  const typedConfigSet = fieldSetOf(applied, ctx.type).difference(strippedLeaves);
  const managers = decode(live?.metadata?.managedFields) ?? new Map<string, Manager>();
  const self = managerId(ctx.manager, 'Apply', ctx.apiVersion, subresource);
  const previous = managers.get(self);

  const liveView = comparable(live, false);
  const merged = mergeObjects(liveView, applied, ctx.type) as Record<string, unknown>;
  if (previous) {
    const owned = typedConfigSet.clone();
    for (const [id, manager] of managers) if (id !== self) owned.addAll(manager.set);
    pruneObject(merged, previous.set, owned, ctx.type);
  }
  const comparison = strip(
    compareObjects(comparable(live, ignoreStatus), comparable(merged as KubeObject, ignoreStatus), ctx.type),
  );
  const changedFields = comparison.added.union(comparison.modified);
  const conflicts: { manager: Manager; path: string[] }[] = [];
  for (const [id, manager] of managers) {
    if (id === self) continue;
    for (const path of manager.set.intersection(changedFields).paths()) conflicts.push({ manager, path });
  }
  // Client-side apply's annotation describes the main resource: it never excuses a subresource apply.
  if (
    conflicts.length > 0 &&
    !ctx.force &&
    !(subresource === '' && allowedByLastApplied(live, conflicts, ctx))
  ) {
    throw conflictError(conflicts);
  }
  for (const [id, manager] of managers) {
    if (id === self) continue;
    manager.set = manager.set.difference(changedFields).difference(comparison.removed);
  }
  if (subresource === '') syncLastApplied(merged, config, ctx.manager);
  const objectChanged = !jsonEqual(comparable(live, false), merged);
  const setChanged = !previous?.set.equals(typedConfigSet);
  managers.set(self, {
    manager: ctx.manager,
    operation: 'Apply',
    apiVersion: ctx.apiVersion,
    subresource,
    time: objectChanged || setChanged || !previous?.time ? timestamp(ctx.now ?? new Date()) : previous.time,
    set: typedConfigSet,
  });
  merged.metadata ??= {};
  const metadata = merged.metadata as Record<string, unknown>;
  const before = decode(live?.metadata?.managedFields);
  const managedChanged = !before || !sameManagers(before, managers);
  metadata.managedFields = encode(managers);
  if (live?.metadata) {
    for (const field of serverMetadata) {
      if (field !== 'managedFields' && (live.metadata as Record<string, unknown>)[field] !== undefined) {
        metadata[field] = (live.metadata as Record<string, unknown>)[field];
      }
    }
  }
  return { object: merged as KubeObject, changed: objectChanged || managedChanged };
}

/**
 * kubectl's own server-side apply keeps client-side apply's annotation current, so a later
 * `kubectl apply` (client-side) diffs against what was really applied.
 */
function syncLastApplied(merged: Record<string, unknown>, config: KubeObject, manager: string): void {
  merged.metadata ??= {};
  const metadata = merged.metadata as Record<string, unknown>;
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (manager !== 'kubectl' || !annotations?.[lastAppliedAnnotation]) return;
  const record = structuredClone(config) as KubeObject;
  const recordAnnotations = record.metadata?.annotations as Record<string, string> | undefined;
  if (recordAnnotations) {
    delete recordAnnotations[lastAppliedAnnotation];
    if (Object.keys(recordAnnotations).length === 0) delete record.metadata?.annotations;
  }
  metadata.annotations = { ...annotations, [lastAppliedAnnotation]: `${JSON.stringify(record)}\n` };
}

function sameManagers(a: Map<string, Manager>, b: Map<string, Manager>): boolean {
  const live = [...b].filter(([, m]) => !m.set.isEmpty());
  if (a.size !== live.length) return false;
  for (const [id, manager] of live) {
    const other = a.get(id);
    if (!other?.set.equals(manager.set)) return false;
  }
  return true;
}

/**
 * Upstream's upgrade path from client-side apply: when kubectl (manager `kubectl`) applies an object
 * carrying the last-applied annotation, conflicts on fields that annotation set, with the values the
 * live object still has, are not conflicts: kubectl applied them before, client side.
 */
function allowedByLastApplied(
  live: KubeObject | undefined,
  conflicts: { path: string[] }[],
  ctx: ApplyOptions,
): boolean {
  if (ctx.manager !== 'kubectl' || !live) return false;
  const text = (live.metadata?.annotations as Record<string, string> | undefined)?.[lastAppliedAnnotation];
  if (!text) return false;
  let lastApplied: KubeObject;
  try {
    lastApplied = JSON.parse(text) as KubeObject;
  } catch {
    return false;
  }
  if (typeof lastApplied !== 'object' || lastApplied === null || lastApplied.apiVersion !== ctx.apiVersion) {
    return false;
  }
  try {
    const ignoreStatus = ctx.ignoreStatus ?? false;
    const set = fieldSetOf(comparable(lastApplied, ignoreStatus), ctx.type);
    const drift = compareObjects(
      comparable(lastApplied, ignoreStatus),
      comparable(live, ignoreStatus),
      ctx.type,
    );
    const allowed = set.difference(drift.modified).difference(drift.added).difference(drift.removed);
    return conflicts.every((c) => allowed.has(c.path));
  } catch {
    return false;
  }
}

/**
 * Checks an applied configuration's metadata: managedFields may not be applied.
 * @category API server
 */
export function checkAppliedMetadata(config: KubeObject): void {
  const managedFields = (config.metadata as Record<string, unknown> | undefined)?.managedFields;
  if (managedFields !== undefined && managedFields !== null) {
    throw new StatusError('BadRequest', 'metadata.managedFields must be nil', undefined, 400);
  }
}
