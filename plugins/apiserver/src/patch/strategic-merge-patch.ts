// SPDX-License-Identifier: Apache-2.0
/**
 * `application/strategic-merge-patch+json`: a JSON merge patch whose lists can merge element by element,
 * steered by the kind's {@link PatchSchema} and by `$`-directives in the patch. Behaviour follows
 * upstream k8s.io/apimachinery/pkg/util/strategicpatch (written here from its documented semantics).
 *
 * @module
 */
import { errors, StatusError } from '@cpkit/core';
import type { FieldPatchStrategy, PatchSchema } from './patch-schema.js';

type JsonObject = Record<string, unknown>;

const patchDirective = '$patch';
const retainKeysDirective = '$retainKeys';
const setElementOrderPrefix = '$setElementOrder/';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList/';

/** Returned by a nested map carrying `$patch: delete`: the parent drops the field or list element. */
const deleted: unique symbol = Symbol('deleted');
type Merged = JsonObject | typeof deleted;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Plain assignment would treat a `__proto__` key in a patch as the prototype, not as a field. */
function setField(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function getField(source: JsonObject, key: string): unknown {
  return Object.hasOwn(source, key) ? source[key] : undefined;
}

function describe(path: string): string {
  return path === '' ? 'the patch' : `field "${path}"`;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function badPatch(message: string): StatusError {
  return errors.badRequest(`invalid strategic merge patch: ${message}`);
}

/** Same JSON value (primitive list members, merge-key values, `$setElementOrder` entries). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

class Merger {
  constructor(private readonly fields: PatchSchema['fields']) {}

  private strategyOf(path: string): FieldPatchStrategy | undefined {
    return Object.hasOwn(this.fields, path) ? this.fields[path] : undefined;
  }

  /** Applies `patch` to `original` (absent for a new value); never mutates either. */
  mergeMap(original: JsonObject | undefined, patch: JsonObject, path: string): Merged {
    this.rejectUnknownDirectives(patch, path);
    const directive = patch[patchDirective];
    if (directive !== undefined) {
      if (directive === 'delete') return deleted;
      if (directive === 'replace') {
        const { [patchDirective]: _, ...rest } = patch;
        return this.mergeMap(undefined, rest, path);
      }
      if (directive !== 'merge') {
        throw badPatch(`unknown patch type ${JSON.stringify(directive)} in ${describe(path)}`);
      }
    }

    const result: JsonObject = { ...(original ?? {}) };
    this.applyRetainKeys(result, patch, path);
    for (const [key, value] of Object.entries(patch)) {
      if (!key.startsWith(deleteFromPrimitiveListPrefix)) continue;
      const field = key.slice(deleteFromPrimitiveListPrefix.length);
      if (!Array.isArray(value)) throw badPatch(`${key} in ${describe(path)} must be a list`);
      const current = getField(result, field);
      if (Array.isArray(current)) {
        setField(
          result,
          field,
          current.filter((item) => !value.some((gone) => sameValue(gone, item))),
        );
      }
    }

    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) continue;
      const fieldPath = join(path, key);
      if (value === null) {
        delete result[key];
      } else if (isObject(value)) {
        const current = getField(result, key);
        const merged = this.mergeMap(isObject(current) ? current : undefined, value, fieldPath);
        if (merged === deleted) delete result[key];
        else setField(result, key, merged);
      } else if (Array.isArray(value)) {
        setField(result, key, this.mergeList(getField(result, key), value, fieldPath));
      } else {
        setField(result, key, value);
      }
    }

    for (const [key, order] of Object.entries(patch)) {
      if (!key.startsWith(setElementOrderPrefix)) continue;
      const field = key.slice(setElementOrderPrefix.length);
      if (!Array.isArray(order)) throw badPatch(`${key} in ${describe(path)} must be a list`);
      const current = getField(result, field);
      if (Array.isArray(current)) {
        setField(
          result,
          field,
          this.reorder(
            current,
            order,
            original === undefined ? undefined : getField(original, field),
            join(path, field),
          ),
        );
      }
    }
    return result;
  }

  private rejectUnknownDirectives(patch: JsonObject, path: string): void {
    const unknown = Object.keys(patch).filter(
      (key) =>
        key.startsWith('$') &&
        key !== patchDirective &&
        key !== retainKeysDirective &&
        !(key.startsWith(setElementOrderPrefix) && key.length > setElementOrderPrefix.length) &&
        !(key.startsWith(deleteFromPrimitiveListPrefix) && key.length > deleteFromPrimitiveListPrefix.length),
    );
    if (unknown.length > 0) {
      throw badPatch(
        `unknown directive${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in ${describe(path)}`,
      );
    }
  }

  /** `$retainKeys`: the original keeps only the listed keys (what `retainKeys` fields are for). */
  private applyRetainKeys(result: JsonObject, patch: JsonObject, path: string): void {
    if (!Object.hasOwn(patch, retainKeysDirective)) return;
    const keep = patch[retainKeysDirective];
    if (!Array.isArray(keep) || !keep.every((key) => typeof key === 'string')) {
      throw badPatch(`$retainKeys in ${describe(path)} must be a list of field names`);
    }
    for (const [key, value] of Object.entries(patch)) {
      if (!key.startsWith('$') && value !== null && !keep.includes(key)) {
        throw badPatch(`field "${join(path, key)}" is set but missing from $retainKeys`);
      }
    }
    for (const key of Object.keys(result)) {
      if (!keep.includes(key)) delete result[key];
    }
  }

  private mergeList(original: unknown, patch: unknown[], path: string): unknown[] {
    const strategy = this.strategyOf(path);
    const merges = strategy?.patchStrategy.split(',').includes('merge') ?? false;
    if (!merges) return this.replacementList(patch, path);
    const current = Array.isArray(original) ? original : [];

    const objects = patch.filter(isObject);
    if (objects.length === 0) {
      // A primitive list merges as an ordered set union.
      const union = [...current];
      for (const item of patch) {
        if (Array.isArray(item)) throw badPatch(`${describe(path)} may not hold nested lists`);
        if (!union.some((present) => sameValue(present, item))) union.push(item);
      }
      return union;
    }
    if (objects.length !== patch.length) {
      throw badPatch(`${describe(path)} mixes objects with other values`);
    }

    if (objects.some((item) => item[patchDirective] === 'replace')) {
      const rest = objects
        .filter((item) => item[patchDirective] !== 'replace')
        .map((item) => this.mergeMap(undefined, item, path));
      return rest.filter((item): item is JsonObject => item !== deleted);
    }

    const mergeKey = strategy?.patchMergeKey;
    if (mergeKey === undefined) return this.replacementList(patch, path);
    const result: unknown[] = [...current];
    for (const item of objects) {
      if (!Object.hasOwn(item, mergeKey)) {
        throw badPatch(`an element of ${describe(path)} does not contain the merge key "${mergeKey}"`);
      }
      const key = item[mergeKey];
      const index = result.findIndex((existing) => isObject(existing) && sameValue(existing[mergeKey], key));
      if (item[patchDirective] === 'delete') {
        this.rejectUnknownDirectives(item, path);
        for (let i = result.length - 1; i >= 0; i--) {
          const existing = result[i];
          if (isObject(existing) && sameValue(existing[mergeKey], key)) result.splice(i, 1);
        }
        continue;
      }
      const existing = index >= 0 ? result[index] : undefined;
      const merged = this.mergeMap(isObject(existing) ? existing : undefined, item, path);
      if (merged === deleted) continue;
      if (index >= 0) result[index] = merged;
      else result.push(merged);
    }
    return result;
  }

  /** An atomic list: the patch value as sent, with `null` fields and directives of its maps applied. */
  private replacementList(patch: unknown[], path: string): unknown[] {
    const out: unknown[] = [];
    for (const item of patch) {
      if (isObject(item)) {
        const merged = this.mergeMap(undefined, item, path);
        if (merged !== deleted) out.push(merged);
      } else {
        out.push(item);
      }
    }
    return out;
  }

  /**
   * `$setElementOrder/<field>`: the elements named in `order` come in that order; elements only the
   * server knows keep their place relative to the original list.
   */
  private reorder(merged: unknown[], order: unknown[], original: unknown, path: string): unknown[] {
    const mergeKey = this.strategyOf(path)?.patchMergeKey;
    const identity = (item: unknown): unknown =>
      mergeKey !== undefined && isObject(item) ? item[mergeKey] : item;
    const orderKeys = order.map((entry) => {
      if (mergeKey === undefined) return entry;
      if (!isObject(entry) || !Object.hasOwn(entry, mergeKey)) {
        throw badPatch(
          `$setElementOrder/${path.split('.').pop()} entries must contain the merge key "${mergeKey}"`,
        );
      }
      return entry[mergeKey];
    });
    const rank = (item: unknown): number => orderKeys.findIndex((key) => sameValue(key, identity(item)));
    const originalKeys = (Array.isArray(original) ? original : []).map(identity);
    const originalIndex = (item: unknown): number =>
      originalKeys.findIndex((key) => sameValue(key, identity(item)));

    const listed = merged.filter((item) => rank(item) >= 0).sort((a, b) => rank(a) - rank(b));
    const serverOnly = merged.filter((item) => rank(item) < 0);
    const out: unknown[] = [];
    let next = 0;
    for (const item of serverOnly) {
      const at = originalIndex(item);
      // Emit the listed elements that stood before this server-only element in the original.
      while (next < listed.length) {
        const listedAt = originalIndex(listed[next]);
        if (at >= 0 && listedAt >= 0 && listedAt > at) break;
        if (at >= 0 && listedAt < 0) break;
        out.push(listed[next++]);
      }
      out.push(item);
    }
    out.push(...listed.slice(next));
    return out;
  }
}

/**
 * Applies a strategic merge patch (`application/strategic-merge-patch+json`) to an object.
 *
 * Maps merge recursively and `null` deletes a field. A list merges when the kind's schema gives it the
 * `merge` strategy: lists of objects element by element on the field's merge key (an element with
 * `$patch: delete` removes its match, one with `$patch: replace` makes the list the patch's elements),
 * primitive lists as a set union; every other list is replaced. Directives:
 * `$setElementOrder/<field>` orders a merged list, `$deleteFromPrimitiveList/<field>` removes values,
 * `$retainKeys` keeps only the listed fields, `$patch: replace | delete` on a map replaces or removes it.
 *
 * The inputs are never modified; the result shares no objects with them.
 *
 * @param original - the stored object (a JSON object).
 * @param patch - the decoded patch body (a JSON object).
 * @param schema - the kind's list strategies, from {@link patchSchemaFor}.
 * @throws StatusError `BadRequest` for a patch that is not an object, an unknown directive, a list
 * element without its merge key or another malformed directive.
 * @category API server
 */
export function strategicMergePatch(original: unknown, patch: unknown, schema: PatchSchema): unknown {
  if (!isObject(patch)) {
    throw errors.badRequest('invalid strategic merge patch: the patch must be a JSON object');
  }
  if (original !== undefined && original !== null && !isObject(original)) {
    throw errors.badRequest('invalid strategic merge patch: the patched value must be a JSON object');
  }
  const merged = new Merger(schema.fields).mergeMap(isObject(original) ? original : undefined, patch, '');
  return merged === deleted ? {} : structuredClone(merged);
}
