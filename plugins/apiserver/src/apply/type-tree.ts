// SPDX-License-Identifier: Apache-2.0
/**
 * The shape of a kind as server-side apply needs it: which maps are structs (named fields) and which
 * are maps of entries, which lists merge by key (associative), as a set, or are replaced whole
 * (atomic), and which structs are atomic. Built lazily from the served OpenAPI definitions, whose
 * `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` extensions carry the same list
 * semantics upstream's structured-merge-diff reads from `x-kubernetes-list-type` and
 * `x-kubernetes-list-map-keys`. Kinds without a definition (custom resources) get the deduced shape
 * upstream uses for schemaless objects: every map granular, every list atomic.
 *
 * @module
 */
import type { GroupVersionKind } from '@cpkit/core';
import { definitionNameFor, definitions, refTarget } from '../schema/definitions.js';
import type { OpenApiSchema } from '../schema/types.js';

/** A scalar, or anything replaced whole. @category API server */
export interface ScalarType {
  readonly kind: 'scalar';
}

/** A struct: a map whose keys are named fields. @category API server */
export interface StructType {
  readonly kind: 'struct';
  /** Replaced whole on apply and owned as one field (`+structType=atomic` upstream). */
  readonly atomic: boolean;
  /** The type of a named field; undefined for a field the schema does not know. */
  field(name: string): TypeNode | undefined;
  /** Fields that are never absent in upstream's typed zero value (they serialize without omitempty). */
  readonly required: ReadonlySet<string>;
}

/** A map of entries (`additionalProperties`), or an object of unknown shape. @category API server */
export interface MapType {
  readonly kind: 'map';
  readonly atomic: boolean;
  readonly element: TypeNode;
}

/** A list. @category API server */
export interface ListType {
  readonly kind: 'list';
  /** `map`: items identified by `keys`; `set`: scalar items identified by value; `atomic`: replaced whole. */
  readonly listType: 'atomic' | 'set' | 'map';
  readonly keys: readonly string[];
  /** Values a key field takes when an item omits it (container ports' `protocol` is `TCP`). */
  readonly keyDefaults: Readonly<Record<string, unknown>>;
  readonly element: TypeNode;
}

/** One node of a kind's shape. @category API server */
export type TypeNode = ScalarType | StructType | MapType | ListType;

const scalar: ScalarType = { kind: 'scalar' };

/** The shape of objects without a schema: maps merge per key, lists are atomic. @category API server */
export const deducedType: MapType = {
  kind: 'map',
  atomic: false,
  get element(): TypeNode {
    return deducedValue;
  },
};
// Lists inside a deduced object are atomic; maps stay granular.
const deducedValue: TypeNode = deducedType;

/** Structs upstream marks `+structType=atomic` (or `+mapType=atomic`): owned and replaced whole. */
const atomicStructs = new Set(
  [
    'apimachinery.pkg.apis.meta.v1.LabelSelector',
    'api.core.v1.LocalObjectReference',
    'api.core.v1.ObjectReference',
    'api.core.v1.TypedLocalObjectReference',
    'api.core.v1.ConfigMapKeySelector',
    'api.core.v1.SecretKeySelector',
    'api.core.v1.ObjectFieldSelector',
    'api.core.v1.ResourceFieldSelector',
    'api.core.v1.NodeSelector',
    'api.core.v1.NodeSelectorTerm',
    'api.core.v1.TopologySelectorTerm',
  ].map((name) => `io.k8s.${name}`),
);

/**
 * Lists whose upstream `x-kubernetes-list-map-keys` name more than the patch merge key, with the
 * defaults that fill a missing key field (upstream takes them from the schema's `default`).
 */
const listKeyOverrides: Record<string, { keys: string[]; defaults: Record<string, unknown> }> = {
  'io.k8s.api.core.v1.Container.ports': {
    keys: ['containerPort', 'protocol'],
    defaults: { protocol: 'TCP' },
  },
  'io.k8s.api.core.v1.EphemeralContainer.ports': {
    keys: ['containerPort', 'protocol'],
    defaults: { protocol: 'TCP' },
  },
  'io.k8s.api.core.v1.ServiceSpec.ports': { keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } },
  'io.k8s.api.core.v1.PodSpec.topologySpreadConstraints': {
    keys: ['topologyKey', 'whenUnsatisfiable'],
    defaults: {},
  },
};

const byDefinition = new Map<string, TypeNode>();
const byKind = new Map<string, TypeNode>();

function definitionType(name: string): TypeNode {
  let node = byDefinition.get(name);
  if (node) return node;
  const schema = definitions[name];
  if (!schema) return deducedType;
  node = schemaType(schema, name, undefined);
  byDefinition.set(name, node);
  return node;
}

function structType(schema: OpenApiSchema, definition: string | undefined): StructType {
  const properties = schema.properties ?? {};
  const resolved = new Map<string, TypeNode | undefined>();
  return {
    kind: 'struct',
    atomic: definition !== undefined && atomicStructs.has(definition),
    required: new Set(schema.required ?? []),
    field(name) {
      if (resolved.has(name)) return resolved.get(name);
      const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
      const type = property
        ? schemaType(property, undefined, definition ? `${definition}.${name}` : undefined)
        : undefined;
      resolved.set(name, type);
      return type;
    },
  };
}

function listType(schema: OpenApiSchema, owner: string | undefined): ListType {
  const element = schema.items ? schemaType(schema.items, undefined, undefined) : scalar;
  const override = owner ? listKeyOverrides[owner] : undefined;
  if (override) {
    return { kind: 'list', listType: 'map', keys: override.keys, keyDefaults: override.defaults, element };
  }
  const extensions = schema as OpenApiSchema & {
    'x-kubernetes-list-type'?: string;
    'x-kubernetes-list-map-keys'?: string[];
  };
  const declared = extensions['x-kubernetes-list-type'];
  const mapKeys = extensions['x-kubernetes-list-map-keys'];
  if (declared === 'map' && mapKeys && mapKeys.length > 0) {
    return { kind: 'list', listType: 'map', keys: mapKeys, keyDefaults: {}, element };
  }
  if (declared === 'set') return { kind: 'list', listType: 'set', keys: [], keyDefaults: {}, element };
  if (declared === 'atomic') return { kind: 'list', listType: 'atomic', keys: [], keyDefaults: {}, element };
  const strategy = schema['x-kubernetes-patch-strategy'] ?? '';
  if (strategy.split(',').includes('merge')) {
    const key = schema['x-kubernetes-patch-merge-key'];
    if (key) return { kind: 'list', listType: 'map', keys: [key], keyDefaults: {}, element };
    if (element.kind === 'scalar')
      return { kind: 'list', listType: 'set', keys: [], keyDefaults: {}, element };
  }
  return { kind: 'list', listType: 'atomic', keys: [], keyDefaults: {}, element };
}

/** The node of one schema; `definition` names it when it is a whole definition, `owner` is `<definition>.<field>`. */
function schemaType(
  schema: OpenApiSchema,
  definition: string | undefined,
  owner: string | undefined,
): TypeNode {
  const target = refTarget(schema);
  if (target) return lazyDefinition(target);
  if (schema['x-kubernetes-preserve-unknown-fields']) return deducedType;
  if (schema['x-kubernetes-int-or-string']) return scalar;
  switch (schema.type) {
    case 'array':
      return listType(schema, owner);
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      return scalar;
    case 'object':
      if (schema.properties) return structType(schema, definition);
      if (typeof schema.additionalProperties === 'object') {
        return {
          kind: 'map',
          atomic: false,
          element: schemaType(schema.additionalProperties, undefined, undefined),
        };
      }
      return deducedType;
    default:
      if (schema.properties) return structType(schema, definition);
      // Quantity, Time, RawExtension... : strings, or opaque objects.
      return schema.allOf || schema.anyOf ? deducedType : scalar;
  }
}

/** A node that resolves its definition on first use, so recursive definitions terminate. */
function lazyDefinition(name: string): TypeNode {
  const cached = byDefinition.get(name);
  if (cached) return cached;
  const schema = definitions[name];
  if (!schema) return deducedType;
  // Definitions without properties (Quantity, Time, IntOrString) resolve at once: no recursion there.
  if (!schema.properties) return definitionType(name);
  let resolved: StructType | undefined;
  const target = (): StructType => {
    resolved ??= definitionType(name) as StructType;
    return resolved;
  };
  const proxy: StructType = {
    kind: 'struct',
    get atomic() {
      return target().atomic;
    },
    get required() {
      return target().required;
    },
    field: (field) => target().field(field),
  };
  return proxy;
}

/** The shape of a kind: from its OpenAPI definition, else the deduced shape. @category API server */
export function typeOfKind(gvk: GroupVersionKind): TypeNode {
  const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
  let node = byKind.get(key);
  if (!node) {
    const name = definitionNameFor(gvk);
    node = name ? definitionType(name) : deducedType;
    byKind.set(key, node);
  }
  return node;
}
