// SPDX-License-Identifier: Apache-2.0
// Lookups over the generated definitions: the definition of a GroupVersionKind, and the set of
// definitions a document must carry so that every `$ref` in it resolves.
import type { GroupVersionKind } from '@cpkit/core';
import { definitions } from './definitions.generated.js';
import type { OpenApiSchema } from './types.js';

export { definitions, definitionsSource } from './definitions.generated.js';

const refPrefix = '#/components/schemas/';

let byGvk: Map<string, string> | undefined;

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** The upstream name of the definition of a kind (`io.k8s.api.core.v1.Pod`), if it has one. */
export function definitionNameFor(gvk: GroupVersionKind): string | undefined {
  if (!byGvk) {
    byGvk = new Map();
    for (const [name, schema] of Object.entries(definitions)) {
      for (const g of schema['x-kubernetes-group-version-kind'] ?? []) {
        byGvk.set(gvkKey(g.group, g.version, g.kind), name);
      }
    }
  }
  return byGvk.get(gvkKey(gvk.group, gvk.version, gvk.kind));
}

/** The definition a `$ref` (or a one-element `allOf` of a `$ref`) points to. */
export function refTarget(schema: OpenApiSchema): string | undefined {
  const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0]?.$ref : undefined);
  return ref?.startsWith(refPrefix) ? ref.slice(refPrefix.length) : undefined;
}

function collectRefs(schema: OpenApiSchema, into: Set<string>, pending: string[]): void {
  const target = refTarget(schema);
  if (target && !into.has(target)) {
    into.add(target);
    pending.push(target);
  }
  for (const sub of schema.allOf ?? []) collectRefs(sub, into, pending);
  for (const sub of schema.anyOf ?? []) collectRefs(sub, into, pending);
  for (const sub of Object.values(schema.properties ?? {})) collectRefs(sub, into, pending);
  if (schema.items) collectRefs(schema.items, into, pending);
  if (typeof schema.additionalProperties === 'object') {
    collectRefs(schema.additionalProperties, into, pending);
  }
}

/** The named definitions and everything they reference, transitively, sorted by name. */
export function definitionClosure(names: Iterable<string>): Record<string, OpenApiSchema> {
  const seen = new Set<string>();
  const pending: string[] = [];
  for (const name of names) {
    if (definitions[name] && !seen.has(name)) {
      seen.add(name);
      pending.push(name);
    }
  }
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const schema = definitions[name];
    if (schema) collectRefs(schema, seen, pending);
  }
  const sorted = [...seen].filter((name) => definitions[name]).sort();
  return Object.fromEntries(sorted.map((name) => [name, definitions[name]!]));
}
