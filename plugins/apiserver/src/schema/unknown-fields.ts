// SPDX-License-Identifier: Apache-2.0
// Unknown-field detection for `fieldValidation`. Each kind's OpenAPI schema is compiled once into a
// small tree of field tables (object → known fields, list → item, map → value; `null` where anything
// goes), and a body is walked against it. A hand walk over Maps is used rather than a JSON-schema
// validator: it only has to answer "is this key known here", must also remove what it finds (upstream
// never stores unknown fields), and this way a pod create costs a few dozen Map lookups.
import { errors, type GroupVersionKind } from '@cpkit/core';
import { definitionNameFor, definitions, refTarget } from './definitions.js';
import type { OpenApiSchema } from './types.js';

/** A compiled schema node: `null` accepts any value (scalars, preserve-unknown-fields, int-or-string). */
type FieldNode = ObjectNode | ListNode | MapNode | null;

interface ObjectNode {
  readonly kind: 'object';
  readonly fields: Map<string, FieldNode>;
}
interface ListNode {
  readonly kind: 'list';
  readonly items: ObjectNode | ListNode | MapNode;
}
interface MapNode {
  readonly kind: 'map';
  readonly values: ObjectNode | ListNode | MapNode;
}

class Compiler {
  private readonly named = new Map<string, FieldNode>();

  definition(name: string): FieldNode {
    const cached = this.named.get(name);
    if (cached !== undefined || this.named.has(name)) return cached ?? null;
    const schema = definitions[name];
    if (!schema) return null;
    if (schema.properties && !schema['x-kubernetes-preserve-unknown-fields']) {
      // Registered before its fields are compiled, so recursive types (JSONSchemaProps) terminate.
      const node: ObjectNode = { kind: 'object', fields: new Map() };
      this.named.set(name, node);
      this.fillObject(node, schema);
      return node;
    }
    const node = this.schema(schema);
    this.named.set(name, node);
    return node;
  }

  schema(schema: OpenApiSchema): FieldNode {
    if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return null;
    const target = refTarget(schema);
    if (target) return this.definition(target);
    if (schema.properties) {
      const node: ObjectNode = { kind: 'object', fields: new Map() };
      this.fillObject(node, schema);
      return node;
    }
    if (schema.items) {
      const items = this.schema(schema.items);
      return items === null ? null : { kind: 'list', items };
    }
    if (typeof schema.additionalProperties === 'object') {
      const values = this.schema(schema.additionalProperties);
      return values === null ? null : { kind: 'map', values };
    }
    return null;
  }

  private fillObject(node: ObjectNode, schema: OpenApiSchema): void {
    for (const [field, sub] of Object.entries(schema.properties ?? {}))
      node.fields.set(field, this.schema(sub));
  }
}

function child(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

/** What a body is: a whole object, a JSON merge patch, or a strategic merge patch. */
enum Body {
  Object = 0,
  /** null deletes; an unknown key set to null deletes nothing, so it is not reported. */
  MergePatch = 1,
  /** As a merge patch, plus `$patch`, `$retainKeys`, `$setElementOrder/...` directive keys. */
  StrategicPatch = 2,
}

/** Walks `value` against `node`, records the paths of unknown fields and deletes them. */
function walk(value: unknown, node: FieldNode, path: string, found: string[], body: Body): void {
  if (node === null || typeof value !== 'object' || value === null) return;
  switch (node.kind) {
    case 'object': {
      if (Array.isArray(value)) return;
      const record = value as Record<string, unknown>;
      for (const key in record) {
        const sub = node.fields.get(key);
        if (sub === undefined) {
          if (body !== Body.Object && record[key] === null) continue;
          if (body === Body.StrategicPatch && key.startsWith('$')) continue;
          found.push(child(path, key));
          delete record[key];
        } else if (sub !== null) {
          walk(record[key], sub, child(path, key), found, body);
        }
      }
      return;
    }
    case 'list':
      if (!Array.isArray(value)) return;
      for (let i = 0; i < value.length; i++) walk(value[i], node.items, `${path}[${i}]`, found, body);
      return;
    case 'map': {
      if (Array.isArray(value)) return;
      const record = value as Record<string, unknown>;
      for (const key in record) walk(record[key], node.values, child(path, key), found, body);
      return;
    }
  }
}

const jsonPatchOpFields = new Set(['op', 'path', 'value', 'from']);

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Finds and removes unknown fields in request bodies, against the OpenAPI schemas of the built-in
 * kinds. Kinds without a schema (custom resources) accept every field, as upstream's schemaless
 * custom resources do.
 * @category API server
 */
export class UnknownFieldPruner {
  private readonly compiler = new Compiler();
  private readonly kinds = new Map<string, FieldNode>();

  /** The compiled root of a kind; `null` when the kind has no schema. */
  private root(gvk: GroupVersionKind): FieldNode {
    const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
    let node = this.kinds.get(key);
    if (node === undefined) {
      const name = definitionNameFor(gvk);
      node = name ? this.compiler.definition(name) : null;
      this.kinds.set(key, node);
    }
    return node;
  }

  /** True when the kind has a schema, so its unknown fields are found. */
  hasSchema(gvk: GroupVersionKind): boolean {
    return this.root(gvk) !== null;
  }

  /**
   * Removes the unknown fields of a whole object (create, update, apply configuration, the result of
   * a strategic merge) in place; returns one `unknown field "spec.template.spec.containers[0].foo"`
   * text per field, in document order.
   */
  pruneObject(gvk: GroupVersionKind, object: unknown): string[] {
    const found: string[] = [];
    walk(object, this.root(gvk), '', found, Body.Object);
    return found.map(unknownFieldText);
  }

  /**
   * Removes unknown fields from a JSON merge patch in place. Fields already stored are known, so the
   * unknown fields of the patched object are exactly those the patch adds. Paths are sorted, as
   * upstream reports them for patches.
   */
  pruneMergePatch(gvk: GroupVersionKind, patch: unknown): string[] {
    const found: string[] = [];
    walk(patch, this.root(gvk), '', found, Body.MergePatch);
    return found.sort().map(unknownFieldText);
  }

  /**
   * Removes unknown fields from a strategic merge patch in place, skipping its directives
   * (`$patch`, `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`).
   */
  pruneStrategicPatch(gvk: GroupVersionKind, patch: unknown): string[] {
    const found: string[] = [];
    walk(patch, this.root(gvk), '', found, Body.StrategicPatch);
    return found.sort().map(unknownFieldText);
  }

  /**
   * Checks a JSON patch: unknown keys of an operation (`json patch unknown field "[0].foo"`), then
   * the paths `add`/`replace`/`copy`/`move` write to and the values they write. Operations writing
   * an unknown field are removed; unknown fields inside written values are removed from the values.
   */
  pruneJsonPatch(gvk: GroupVersionKind, patch: unknown): string[] {
    if (!Array.isArray(patch)) return [];
    const opErrors: string[] = [];
    const found: string[] = [];
    const root = this.root(gvk);
    const drop = new Set<number>();
    patch.forEach((op: unknown, index) => {
      if (typeof op !== 'object' || op === null || Array.isArray(op)) return;
      const record = op as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (!jsonPatchOpFields.has(key)) {
          opErrors.push(`json patch unknown field "[${index}].${key}"`);
          delete record[key];
        }
      }
      if (root === null || typeof record.path !== 'string') return;
      if (!['add', 'replace', 'copy', 'move'].includes(String(record.op))) return;
      let node: FieldNode = root;
      let path = '';
      for (const segment of decodePointer(record.path)) {
        if (node === null) return;
        if (node.kind === 'object') {
          const sub = node.fields.get(segment);
          if (sub === undefined) {
            found.push(child(path, segment));
            drop.add(index);
            return;
          }
          node = sub;
          path = child(path, segment);
        } else if (node.kind === 'list') {
          node = node.items;
          path = `${path}[${segment}]`;
        } else {
          node = node.values;
          path = child(path, segment);
        }
      }
      if ('value' in record) walk(record.value, node, path, found, Body.Object);
    });
    for (const index of [...drop].sort((a, b) => b - a)) patch.splice(index, 1);
    return [...opErrors, ...found.sort().map(unknownFieldText)];
  }
}

/** How a request asks unknown fields to be handled. @category API server */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

const fieldValidationValues: readonly FieldValidation[] = ['Ignore', 'Warn', 'Strict'];

/**
 * The `fieldValidation` query parameter. Absent means `Warn`, upstream's default since v1.27 (kubectl
 * always sends it; client libraries usually do not).
 * @throws StatusError `BadRequest` for any other value.
 * @category API server
 */
export function parseFieldValidation(query: URLSearchParams): FieldValidation {
  const value = query.get('fieldValidation');
  if (value === null || value === '') return 'Warn';
  if (!(fieldValidationValues as readonly string[]).includes(value)) {
    throw errors.badRequest(
      `fieldValidation: unsupported value ${JSON.stringify(value)}: supported values: ${fieldValidationValues.join(', ')}`,
    );
  }
  return value as FieldValidation;
}

/** `unknown field "spec.foo"`, upstream's wording for one unknown field. @category API server */
export function unknownFieldText(path: string): string {
  return `unknown field ${JSON.stringify(path)}`;
}

/**
 * Applies the mode to what was found (already removed from the body): `Strict` throws a `BadRequest`
 * naming every problem (`strict decoding error: unknown field "spec.foo", ...`, prefixed like
 * upstream's decoder for whole objects); `Warn` returns one warning text per problem; `Ignore`
 * returns none.
 * @param problems texts such as `unknown field "spec.foo"`.
 * @param decoding for creates and updates, the kind and version, so the message reads as upstream's
 *   `Pod in version "v1" cannot be handled as a Pod: strict decoding error: ...`.
 * @category API server
 */
export function fieldValidationOutcome(
  mode: FieldValidation,
  problems: readonly string[],
  decoding?: { kind: string; version: string },
): string[] {
  if (problems.length === 0 || mode === 'Ignore') return [];
  if (mode === 'Warn') return [...problems];
  const message = `strict decoding error: ${problems.join(', ')}`;
  throw errors.badRequest(
    decoding
      ? `${decoding.kind} in version ${JSON.stringify(decoding.version)} cannot be handled as a ${decoding.kind}: ${message}`
      : message,
  );
}

/** The pruner the API server uses (compiled kinds are cached for the process). @category API server */
export const unknownFieldPruner = new UnknownFieldPruner();
