// SPDX-License-Identifier: Apache-2.0
/**
 * The three walks server-side apply makes over objects, following structured-merge-diff's
 * semantics: the field set of an applied configuration, the comparison of two objects (added,
 * modified, removed paths), and the merge of a configuration into the live object; plus removal of
 * the fields an applier dropped.
 *
 * @module
 */
import { errors } from '@cpkit/core';
import { FieldSet, fieldElement, indexElement, keyElement, valueElement } from './field-set.js';
import { deducedType, type ListType, type TypeNode } from './type-tree.js';

type Json = unknown;
type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of two JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key) || !jsonEqual((a as JsonObject)[key], (b as JsonObject)[key])) return false;
  }
  return true;
}

/** How a value is walked under its type: as a leaf, a granular map/struct, or a granular list. */
function shapeOf(value: Json, type: TypeNode): 'leaf' | 'object' | 'list' {
  if (Array.isArray(value)) return type.kind === 'list' && type.listType !== 'atomic' ? 'list' : 'leaf';
  if (isObject(value)) {
    if (type.kind === 'struct' || type.kind === 'map') return type.atomic ? 'leaf' : 'object';
    return 'leaf';
  }
  return 'leaf';
}

function childType(type: TypeNode, key: string): TypeNode {
  if (type.kind === 'struct') return type.field(key) ?? deducedType;
  if (type.kind === 'map') return type.element;
  return deducedType;
}

/**
 * The path element of a list item: `k:{...}` for associative lists, `v:...` for sets. `strict`
 * (applied configurations) makes an item without its key fields a BadRequest; otherwise (stored
 * objects) it falls back to its position.
 */
export function itemElement(
  type: ListType,
  item: Json,
  index: number,
  strict: boolean,
  where: () => string,
): string {
  if (type.listType === 'set') return valueElement(item);
  if (!isObject(item)) {
    if (strict) throw errors.badRequest(`${where()}: associative list items must be objects`);
    return indexElement(index);
  }
  const keys: JsonObject = {};
  for (const key of type.keys) {
    const value = Object.hasOwn(item, key) ? item[key] : type.keyDefaults[key];
    if (value === undefined || value === null) {
      if (strict) {
        throw errors.badRequest(
          `${where()}: associative list with keys has an element that omits key field ${JSON.stringify(key)} (and doesn't have default value)`,
        );
      }
      return indexElement(index);
    }
    keys[key] = value;
  }
  return keyElement(keys);
}

/** Items of a granular list by path element; later duplicates are left out (or rejected when strict). */
function indexItems(type: ListType, list: Json[], strict: boolean, where: () => string): Map<string, Json> {
  const items = new Map<string, Json>();
  for (let i = 0; i < list.length; i++) {
    const element = itemElement(type, list[i], i, strict, where);
    if (items.has(element)) {
      if (strict) throw errors.badRequest(`${where()}: duplicate entries for key ${element.slice(2)}`);
      continue;
    }
    items.set(element, list[i]);
  }
  return items;
}

/**
 * The fields an applied configuration sets, as upstream's `ToFieldSet`: leaves (scalars, nulls,
 * empty maps, atomic lists and structs), every item of a granular list, and every entry of a map
 * (not the named fields of a struct, which are only prefixes). Throws BadRequest for list items
 * without their keys and for duplicate keys.
 * @category API server
 */
export function fieldSetOf(value: Json, type: TypeNode): FieldSet {
  const set = new FieldSet();
  collect(value, type, [], set);
  return set;
}

function collect(value: Json, type: TypeNode, path: string[], set: FieldSet): void {
  const shape = shapeOf(value, type);
  if (shape === 'leaf') {
    if (path.length > 0) set.insert(path);
    return;
  }
  if (shape === 'list') {
    const listType = type as ListType;
    const items = indexItems(listType, value as Json[], true, () => pathText(path));
    for (const [element, item] of items) {
      path.push(element);
      collect(item, listType.element, path, set);
      set.insert(path);
      path.pop();
    }
    return;
  }
  for (const [key, child] of Object.entries(value as JsonObject)) {
    path.push(fieldElement(key));
    collect(child, childType(type, key), path, set);
    if (child === null || (isObject(child) && Object.keys(child).length === 0) || type.kind === 'map') {
      set.insert(path);
    }
    path.pop();
  }
}

function pathText(path: readonly string[]): string {
  return path
    .map((element) => (element.startsWith('f:') ? `.${element.slice(2)}` : `[${element.slice(2)}]`))
    .join('');
}

/** What changed between two objects, as upstream's `Compare`. @category API server */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * Compares `before` and `after` (either may be undefined: absent). A leaf that appears is added,
 * one that goes is removed, one whose value changes is modified; a granular map or list item that
 * appears or goes is added or removed itself too. Struct nodes and required fields are not counted
 * as added: upstream compares against typed zero values, where they already exist.
 * @category API server
 */
export function compareObjects(before: Json, after: Json, type: TypeNode): Comparison {
  const out: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareAt(before, after, type, [], out, false);
  return out;
}

function isEmptyContainer(value: Json): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isObject(value) && Object.keys(value).length === 0;
}

function compareAt(
  before: Json,
  after: Json,
  type: TypeNode,
  path: string[],
  out: Comparison,
  required: boolean,
): void {
  const beforeShape = before === undefined ? undefined : shapeOf(before, type);
  const afterShape = after === undefined ? undefined : shapeOf(after, type);
  const shape = beforeShape ?? afterShape;
  const leaf =
    shape === 'leaf' ||
    (beforeShape !== undefined && afterShape !== undefined && beforeShape !== afterShape) ||
    (isEmptyContainer(before) && isEmptyContainer(after));
  if (leaf) {
    if (path.length === 0) return;
    if (before === undefined) out.added.insert(path);
    else if (after === undefined) out.removed.insert(path);
    else if (!jsonEqual(before, after)) out.modified.insert(path);
    return;
  }
  if (shape === 'list') {
    const listType = type as ListType;
    const where = (): string => pathText(path);
    const beforeItems =
      before === undefined ? new Map() : indexItems(listType, before as Json[], false, where);
    const afterItems = after === undefined ? new Map() : indexItems(listType, after as Json[], false, where);
    for (const [element, item] of beforeItems) {
      path.push(element);
      compareAt(item, afterItems.get(element), listType.element, path, out, false);
      path.pop();
    }
    for (const [element, item] of afterItems) {
      if (beforeItems.has(element)) continue;
      path.push(element);
      compareAt(undefined, item, listType.element, path, out, false);
      path.pop();
    }
  } else {
    const beforeObject = (before ?? {}) as JsonObject;
    const afterObject = (after ?? {}) as JsonObject;
    const structRequired = type.kind === 'struct' ? type.required : undefined;
    for (const key of Object.keys(beforeObject)) {
      path.push(fieldElement(key));
      const next = Object.hasOwn(afterObject, key) ? afterObject[key] : undefined;
      compareAt(beforeObject[key], next, childType(type, key), path, out, structRequired?.has(key) ?? false);
      path.pop();
    }
    for (const key of Object.keys(afterObject)) {
      if (Object.hasOwn(beforeObject, key)) continue;
      path.push(fieldElement(key));
      compareAt(
        undefined,
        afterObject[key],
        childType(type, key),
        path,
        out,
        structRequired?.has(key) ?? false,
      );
      path.pop();
    }
  }
  if (path.length === 0) return;
  if (before === undefined) {
    // List items always count; struct fields and required fields exist in a typed zero value.
    const item = !(path[path.length - 1] ?? '').startsWith('f:');
    if (item || (type.kind !== 'struct' && !required)) out.added.insert(path);
  } else if (after === undefined) {
    out.removed.insert(path);
  }
}

/**
 * Merges an applied configuration into the live object (a new value; neither input is changed):
 * granular maps merge per key, associative lists per key and sets per value (live items the
 * configuration does not name keep their place, the ones it names follow its order), anything else
 * is replaced by the configuration. A `null` in the configuration removes the field.
 * @category API server
 */
export function mergeObjects(live: Json, config: Json, type: TypeNode): Json {
  if (config === undefined) return structuredClone(live);
  if (live === undefined) return withoutNulls(config);
  const liveShape = shapeOf(live, type);
  const configShape = shapeOf(config, type);
  if (liveShape !== configShape || configShape === 'leaf') return withoutNulls(config);
  if (configShape === 'object') {
    const out: JsonObject = { ...(live as JsonObject) };
    for (const [key, value] of Object.entries(config as JsonObject)) {
      if (value === null) {
        delete out[key];
        continue;
      }
      out[key] = mergeObjects(Object.hasOwn(out, key) ? out[key] : undefined, value, childType(type, key));
    }
    return out;
  }
  return mergeLists(live as Json[], config as Json[], type as ListType);
}

function withoutNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) if (child !== null) out[key] = withoutNulls(child);
  return out;
}

function mergeLists(live: Json[], config: Json[], type: ListType): Json[] {
  const where = (): string => 'list';
  const liveElements = live.map((item, i) => itemElement(type, item, i, false, where));
  const configItems = indexItems(type, config, true, where);
  const configElements = [...configItems.keys()];
  const liveSet = new Set(liveElements);
  const merge = (element: string, liveItem: Json): Json =>
    mergeObjects(liveItem, configItems.get(element), type.element);
  // The shared items in the configuration's order: each live slot holding a shared item takes the
  // next one of them, so the configuration reorders what it names and leaves the rest in place.
  const shared = configElements.filter((element) => liveSet.has(element));
  const liveByElement = new Map<string, Json>();
  live.forEach((item, i) => {
    const element = liveElements[i] as string;
    if (!liveByElement.has(element)) liveByElement.set(element, item);
  });
  const out: Json[] = [];
  const emitted = new Set<string>();
  let sharedIndex = 0;
  let configIndex = 0;
  const emitConfigUpTo = (stop: string | undefined): void => {
    // Items only the configuration has, placed before the next shared item they precede there.
    while (configIndex < configElements.length) {
      const element = configElements[configIndex] as string;
      if (element === stop) break;
      if (!liveSet.has(element) && !emitted.has(element)) {
        out.push(merge(element, undefined));
        emitted.add(element);
      }
      configIndex++;
    }
  };
  for (let i = 0; i < live.length; i++) {
    const element = liveElements[i] as string;
    if (!configItems.has(element)) {
      out.push(structuredClone(live[i]));
      continue;
    }
    const next = shared[sharedIndex++];
    if (next === undefined || emitted.has(next)) continue;
    emitConfigUpTo(next);
    out.push(merge(next, liveByElement.get(next)));
    emitted.add(next);
    configIndex++;
  }
  emitConfigUpTo(undefined);
  return out;
}

/** Paths never removed by pruning: the object's identity. */
function protectedPath(path: readonly string[]): boolean {
  return (
    path.length === 1 && (path[0] === 'f:metadata' || path[0] === 'f:apiVersion' || path[0] === 'f:kind')
  );
}

/**
 * Removes from `object` (in place) what the applier set last time (`lastSet`) that nobody owns now
 * (`owned`: every manager's set, the applier's new one included): a node goes whole when nothing at
 * or below it is owned, else only its unowned parts do.
 * @category API server
 */
export function pruneObject(object: JsonObject, lastSet: FieldSet, owned: FieldSet, type: TypeNode): void {
  pruneAt(object, lastSet, owned, type, []);
}

function pruneAt(
  value: Json,
  last: FieldSet,
  owned: FieldSet | undefined,
  type: TypeNode,
  path: string[],
): void {
  if (!last.children) return;
  const shape = shapeOf(value, type);
  if (shape === 'leaf') return;
  if (shape === 'object') {
    const object = value as JsonObject;
    for (const [element, lastChild] of last.children) {
      if (!element.startsWith('f:')) continue;
      const key = element.slice(2);
      if (!Object.hasOwn(object, key)) continue;
      const ownedChild = owned?.children?.get(element);
      path.push(element);
      if ((!ownedChild || ownedChild.isEmpty()) && !protectedPath(path)) delete object[key];
      else pruneAt(object[key], lastChild, ownedChild, childType(type, key), path);
      path.pop();
    }
    return;
  }
  const listType = type as ListType;
  const list = value as Json[];
  const keep: boolean[] = list.map(() => true);
  for (let i = 0; i < list.length; i++) {
    const element = itemElement(listType, list[i], i, false, () => '');
    const lastChild = last.children.get(element);
    if (!lastChild) continue;
    const ownedChild = owned?.children?.get(element);
    if (!ownedChild || ownedChild.isEmpty()) keep[i] = false;
    else {
      path.push(element);
      pruneAt(list[i], lastChild, ownedChild, listType.element, path);
      path.pop();
    }
  }
  // Remove in place, keeping the survivors' order.
  let write = 0;
  for (let i = 0; i < list.length; i++) if (keep[i]) list[write++] = list[i];
  list.length = write;
}

/**
 * The `FieldsV1` of everything `value` sets, as {@link compareObjects} from nothing would find it,
 * built directly (no intermediate set): the cheap path for creates, which are the hot write.
 * `skip` names top-level (and metadata) fields that are never owned.
 */
export function createdFieldsV1(
  value: JsonObject,
  type: TypeNode,
  skipTop: ReadonlySet<string>,
  skipMetadata: ReadonlySet<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (skipTop.has(key)) continue;
    const child = value[key];
    if (key === 'metadata' && isObject(child)) {
      const meta: Record<string, unknown> = {};
      const metaType = childType(type, key);
      for (const field in child) {
        if (skipMetadata.has(field)) continue;
        const node = addedNode(child[field], childType(metaType, field), false, isRequired(metaType, field));
        if (node) meta[`f:${field}`] = node;
      }
      for (const _ in meta) {
        out['f:metadata'] = meta;
        break;
      }
      continue;
    }
    const node = addedNode(child, childType(type, key), false, isRequired(type, key));
    if (node) out[`f:${key}`] = node;
  }
  return out;
}

function isRequired(type: TypeNode, key: string): boolean {
  return type.kind === 'struct' && type.required.has(key);
}

/**
 * The FieldsV1 node of an added value, or undefined when it adds nothing. Keys are left in the
 * object's order (FieldsV1 is a map; kubectl prints it sorted), which keeps this walk cheap.
 */
function addedNode(
  value: Json,
  type: TypeNode,
  item: boolean,
  required: boolean,
): Record<string, unknown> | undefined {
  const shape = shapeOf(value, type);
  if (shape === 'leaf' || isEmptyContainer(value)) return {};
  const children: Record<string, unknown> = {};
  let hasChildren = false;
  if (shape === 'list') {
    const listType = type as ListType;
    const list = value as Json[];
    for (let i = 0; i < list.length; i++) {
      const element = itemElement(listType, list[i], i, false, () => '');
      if (Object.hasOwn(children, element)) continue;
      const node = addedNode(list[i], listType.element, true, false);
      if (node) {
        children[element] = node;
        hasChildren = true;
      }
    }
  } else {
    const object = value as JsonObject;
    for (const key in object) {
      const node = addedNode(object[key], childType(type, key), false, isRequired(type, key));
      if (node) {
        children[`f:${key}`] = node;
        hasChildren = true;
      }
    }
  }
  const member = item || (type.kind !== 'struct' && !required);
  if (member) {
    if (hasChildren) children['.'] = {};
    return children;
  }
  return hasChildren ? children : undefined;
}
