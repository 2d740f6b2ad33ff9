// SPDX-License-Identifier: Apache-2.0
/**
 * The scheme: the catalog of resource kinds a control plane serves. It maps group/version/kind to the
 * plural resource and back, knows each kind's scope, short names, categories and subresources, and
 * carries the per-kind strategy hooks (defaulting, validation, field selectors) the registry applies.
 * Kinds are registered at run time: the built-in ones by `registerBuiltinKinds`, users' own kinds
 * (and CRDs, later) by calling {@link Scheme.register}.
 *
 * @module
 */
import { errors, type StatusCause, StatusError } from '../errors/status-error.js';
import { objectMetaFieldSet } from './field-selector.js';
import {
  apiVersionOf,
  type GroupVersionKind,
  type KindReference,
  type KubeObject,
  type UnstructuredObject,
} from './object.js';

/**
 * Service identifier of the {@link Scheme}.
 * @category API machinery
 */
export const Scheme = Symbol.for('cpkit.Scheme');

/** How `metadata.name` of a kind is validated, as upstream's per-kind name validators. @category API machinery */
export type NameValidation = 'subdomain' | 'label' | 'path-segment';

/**
 * Everything the kit needs to know to serve one kind. Only `group`, `version`, `kind`, `resource` and
 * `namespaced` are required; the hooks are the kind's "strategy" as upstream calls it.
 * @category API machinery
 */
export interface KindDefinition<T extends KubeObject = UnstructuredObject> {
  /** API group; `''` for the core group. */
  group: string;
  version: string;
  /** PascalCase kind, e.g. `Deployment`. */
  kind: string;
  /** Plural lower-case resource name, e.g. `deployments`. */
  resource: string;
  /** Singular lower-case name. Default: the kind in lower case. */
  singular?: string;
  /** True for namespaced kinds, false for cluster-scoped ones. */
  namespaced: boolean;
  /** Short names kubectl accepts, e.g. `['deploy']`. */
  shortNames?: string[];
  /** Categories such as `all`. */
  categories?: string[];
  /** Subresources served besides the main resource, e.g. `['status', 'scale']`. */
  subresources?: string[];
  /** Kind of the list. Default: `<kind>List`. */
  listKind?: string;
  /** Rule for `metadata.name`. Default: `subdomain` (DNS-1123 subdomain). */
  nameValidation?: NameValidation;
  /**
   * Whether `metadata.generation` is tracked: set to 1 on create and bumped when anything outside
   * `metadata` and `status` changes (and once when deletion starts). Default: true, as for custom
   * resources; built-in kinds that upstream does not track (ConfigMap, Pod, ...) set it to false.
   */
  hasGeneration?: boolean;
  /**
   * Field-selector values of an object beyond `metadata.name`/`metadata.namespace`, which are always
   * present. Must return the same keys for every object, including an empty one: the keys returned
   * for `{}` are the fields a field selector may use for this kind.
   */
  selectableFields?(object: T): Record<string, string>;
  /** Sets defaults on an object about to be created or updated (mutates it). */
  defaults?(object: T): void;
  /** Clears or initialises fields on create, after defaulting (e.g. an initial `status.phase`). */
  prepareForCreate?(object: T): void;
  /** Adjusts a main-resource update given the stored object (e.g. keeps an immutable field). */
  prepareForUpdate?(object: T, old: T): void;
  /**
   * Kind-specific validation of an object about to be stored; `old` is the stored object on updates.
   * Returns one cause per problem, each naming its field path; empty when valid.
   */
  validate?(object: T, old?: T): StatusCause[];
  /**
   * Whether an update of the `status` subresource may also change `metadata.labels` and
   * `metadata.annotations` (upstream allows it for pods and nodes). Default: false.
   */
  statusUpdateMayChangeLabels?: boolean;
  /**
   * Builds the object to store for an update of a subresource other than `status` (the registry
   * handles `status` itself), e.g. the Namespace `finalize` subresource. Returns the new object.
   */
  prepareForSubresourceUpdate?(subresource: string, requested: T, old: T): T;
  /**
   * Grace period of a deletion in seconds (only pods are deleted gracefully upstream). Zero or absent
   * means immediate deletion once no finalizer is left.
   */
  deletionGracePeriodSeconds?(object: T, requested: number | undefined): number;
  /** Finalizers kept outside `metadata.finalizers` that also hold back deletion (Namespace `spec.finalizers`). */
  pendingFinalizers?(object: T): string[];
  /** Called when deletion of an object starts but it is kept for its finalizers (Namespace → Terminating). */
  prepareForDelete?(object: T): void;
}

/**
 * A kind as the scheme holds it: the definition with every default filled in.
 * @category API machinery
 */
export interface RegisteredKind<T extends KubeObject = UnstructuredObject>
  extends Readonly<Omit<KindDefinition<T>, 'singular' | 'shortNames' | 'categories' | 'subresources'>> {
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly subresources: readonly string[];
  readonly listKind: string;
  readonly nameValidation: NameValidation;
  readonly hasGeneration: boolean;
  /** `apps/v1`, or `v1` for the core group. */
  readonly apiVersion: string;
  /** True when the kind has a `status` subresource: status is then written only through it. */
  readonly hasStatusSubresource: boolean;
  /** Every field a field selector may use for this kind. */
  readonly selectableFieldNames: ReadonlySet<string>;
  /** `deployments.apps`, or `pods` for the core group: the name used in error messages. */
  readonly qualifiedResource: string;
  /** The field-selector values of `object` (always including `metadata.name`). */
  fieldsOf(object: T): Record<string, string>;
}

/**
 * The catalog of kinds. Lookups never throw; {@link Scheme.resolve} throws a StatusError when a
 * reference names no kind.
 * @category API machinery
 */
export interface Scheme {
  /**
   * Adds a kind. Fails with `AlreadyExists` when its group/version/kind or its group/resource is
   * already registered, and with `BadRequest` naming the field when the definition is malformed.
   */
  register<T extends KubeObject = UnstructuredObject>(definition: KindDefinition<T>): RegisteredKind<T>;
  /** Removes a kind (e.g. when its CRD is deleted). Returns whether it was registered. */
  unregister(gvk: GroupVersionKind): boolean;
  /** The kind with this group/version/kind. */
  kindFor(gvk: GroupVersionKind): RegisteredKind | undefined;
  /**
   * The kind served under `resource` (plural, singular or short name, case-insensitive) in `group`;
   * any group when `group` is absent (the core group first, then in registration order).
   */
  kindForResource(resource: string, group?: string): RegisteredKind | undefined;
  /**
   * Resolves a reference: a full GVK, a kind name (`'Pod'`), or a resource in kubectl's forms
   * (`'pods'`, `'po'`, `'pod'`, `'deployments.apps'`, `'deployments.v1.apps'`). Throws `NotFound`
   * (`the server doesn't have a resource type "foo"`) when nothing matches, `BadRequest` when the
   * reference is malformed or a kind name is ambiguous.
   */
  resolve(reference: KindReference): RegisteredKind;
  /** The kind an object's `apiVersion` and `kind` name; throws like {@link Scheme.resolve}. */
  kindOfObject(object: KubeObject): RegisteredKind;
  /** Every registered kind in registration order. */
  kinds(): RegisteredKind[];
  /** Kinds in a category such as `all`. */
  kindsInCategory(category: string): RegisteredKind[];
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const kindPattern = /^[A-Z][A-Za-z0-9]*$/;

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** Group name of the core group in storage keys and qualified names is empty; `core` is reserved. */
const reservedGroups = new Set(['core']);

function checkDefinition(definition: KindDefinition): void {
  const causes: StatusCause[] = [];
  const bad = (field: string, message: string): void => {
    causes.push({ reason: 'FieldValueInvalid', field, message });
  };
  if (definition === null || typeof definition !== 'object') {
    throw errors.badRequest('a kind definition must be an object');
  }
  const { group, version, kind, resource } = definition;
  if (typeof group !== 'string' || (group !== '' && (!dns1123Subdomain.test(group) || group.length > 253))) {
    bad('group', `must be '' (the core group) or a DNS-1123 subdomain, got ${JSON.stringify(group)}`);
  } else if (reservedGroups.has(group)) {
    bad('group', `"${group}" is reserved (storage keys use it for the core group '')`);
  }
  if (typeof version !== 'string' || !dns1123Label.test(version)) {
    bad('version', `must be a DNS-1123 label such as v1 or v1beta1, got ${JSON.stringify(version)}`);
  }
  if (typeof kind !== 'string' || !kindPattern.test(kind)) {
    bad('kind', `must be PascalCase letters and digits, got ${JSON.stringify(kind)}`);
  }
  if (typeof resource !== 'string' || !dns1123Label.test(resource)) {
    bad('resource', `must be a lower-case DNS-1123 label (the plural), got ${JSON.stringify(resource)}`);
  }
  if (typeof definition.namespaced !== 'boolean') bad('namespaced', 'must be true or false');
  for (const [field, values] of [
    ['shortNames', definition.shortNames],
    ['categories', definition.categories],
    ['subresources', definition.subresources],
  ] as const) {
    if (values === undefined) continue;
    if (!Array.isArray(values)) bad(field, 'must be an array of strings');
    else
      values.forEach((value, index) => {
        if (typeof value !== 'string' || !dns1123Label.test(value)) {
          bad(`${field}[${index}]`, `must be a lower-case DNS-1123 label, got ${JSON.stringify(value)}`);
        }
      });
  }
  if (definition.singular !== undefined && !dns1123Label.test(String(definition.singular))) {
    bad('singular', `must be a lower-case DNS-1123 label, got ${JSON.stringify(definition.singular)}`);
  }
  if (
    definition.nameValidation !== undefined &&
    !['subdomain', 'label', 'path-segment'].includes(definition.nameValidation)
  ) {
    bad('nameValidation', 'must be one of subdomain, label, path-segment');
  }
  if (causes.length > 0) {
    const what = typeof kind === 'string' && kind ? kind : 'kind';
    throw errors.badRequest(
      `invalid definition of ${what}: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      causes,
    );
  }
}

function buildRegisteredKind<T extends KubeObject>(definition: KindDefinition<T>): RegisteredKind<T> {
  const subresources = Object.freeze([...(definition.subresources ?? [])]);
  const namespaced = definition.namespaced;
  const extra = definition.selectableFields;
  const fieldsOf = (object: T): Record<string, string> => {
    const fields = objectMetaFieldSet(object as KubeObject, namespaced);
    return extra ? { ...fields, ...extra(object) } : fields;
  };
  const registered: RegisteredKind<T> = {
    ...definition,
    singular: definition.singular ?? definition.kind.toLowerCase(),
    shortNames: Object.freeze([...(definition.shortNames ?? [])]),
    categories: Object.freeze([...(definition.categories ?? [])]),
    subresources,
    listKind: definition.listKind ?? `${definition.kind}List`,
    nameValidation: definition.nameValidation ?? 'subdomain',
    hasGeneration: definition.hasGeneration ?? true,
    apiVersion: apiVersionOf(definition.group, definition.version),
    hasStatusSubresource: subresources.includes('status'),
    selectableFieldNames: new Set(Object.keys(fieldsOf({} as T))),
    qualifiedResource: definition.group ? `${definition.resource}.${definition.group}` : definition.resource,
    fieldsOf,
  };
  return Object.freeze(registered);
}

function unknownResource(name: string): StatusError {
  return new StatusError('NotFound', `the server doesn't have a resource type "${name}"`, { kind: name });
}

/**
 * The default {@link Scheme}: an in-memory catalog. Not injectable by itself: a module binds one
 * instance (filled by `registerBuiltinKinds`) to the `Scheme` identifier.
 * @category API machinery
 */
export class DefaultScheme implements Scheme {
  private readonly byGvk = new Map<string, RegisteredKind>();

  register<T extends KubeObject = UnstructuredObject>(definition: KindDefinition<T>): RegisteredKind<T> {
    checkDefinition(definition as unknown as KindDefinition);
    const { group, version, kind, resource } = definition;
    const key = gvkKey(group, version, kind);
    if (this.byGvk.has(key)) {
      throw new StatusError(
        'AlreadyExists',
        `kind ${apiVersionOf(group, version)} ${kind} is already registered`,
        { group, kind: resource },
      );
    }
    for (const existing of this.byGvk.values()) {
      if (existing.group !== group) continue;
      if (existing.resource === resource) {
        throw new StatusError(
          'AlreadyExists',
          existing.version === version
            ? `resource ${existing.qualifiedResource} is already registered (kind ${existing.kind})`
            : `resource ${existing.qualifiedResource} is already registered at version ${existing.version}; ` +
                'serving several versions of one resource is not supported yet',
          { group, kind: resource },
        );
      }
      if (existing.kind === kind) {
        throw new StatusError(
          'AlreadyExists',
          `kind ${kind} of group "${group}" is already registered at version ${existing.version}`,
          { group, kind: resource },
        );
      }
    }
    const registered = buildRegisteredKind(definition);
    this.byGvk.set(key, registered as unknown as RegisteredKind);
    return registered;
  }

  unregister(gvk: GroupVersionKind): boolean {
    return this.byGvk.delete(gvkKey(gvk.group, gvk.version, gvk.kind));
  }

  kindFor(gvk: GroupVersionKind): RegisteredKind | undefined {
    return this.byGvk.get(gvkKey(gvk.group, gvk.version, gvk.kind));
  }

  kindForResource(resource: string, group?: string): RegisteredKind | undefined {
    const name = resource.toLowerCase();
    const candidates = this.orderedKinds().filter((k) => group === undefined || k.group === group);
    // Exact plural first, then singular, then short names: the order kubectl's RESTMapper uses.
    return (
      candidates.find((k) => k.resource === name) ??
      candidates.find((k) => k.singular === name) ??
      candidates.find((k) => k.shortNames.includes(name))
    );
  }

  resolve(reference: KindReference): RegisteredKind {
    if (typeof reference === 'object' && reference !== null) {
      const { group, version, kind } = reference as Partial<GroupVersionKind>;
      if (typeof group !== 'string' || typeof version !== 'string' || typeof kind !== 'string') {
        throw errors.badRequest('a kind reference needs string group, version and kind');
      }
      const found = this.kindFor({ group, version, kind });
      if (!found) {
        throw new StatusError(
          'NotFound',
          `no matches for kind "${kind}" in version "${apiVersionOf(group, version)}"`,
          { group, kind },
        );
      }
      return found;
    }
    if (typeof reference !== 'string' || reference.trim() === '') {
      throw errors.badRequest(
        `a kind reference must be a kind name, a resource name or {group, version, kind}, got ${JSON.stringify(reference)}`,
      );
    }
    // A kind name (PascalCase) is matched exactly.
    if (kindPattern.test(reference)) {
      const matches = this.orderedKinds().filter((k) => k.kind === reference);
      if (matches.length === 1) return matches[0];
      if (matches.length > 1) {
        throw errors.badRequest(
          `kind "${reference}" is ambiguous: ${matches.map((k) => `${k.kind}.${k.apiVersion}`).join(', ')}; pass {group, version, kind}`,
        );
      }
    }
    const found = this.resolveResourceName(reference);
    if (!found) throw unknownResource(reference);
    return found;
  }

  kindOfObject(object: KubeObject): RegisteredKind {
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      throw errors.badRequest('the object must be a JSON object');
    }
    const { apiVersion, kind } = object;
    if (typeof kind !== 'string' || kind === '') {
      throw errors.badRequest("Object 'Kind' is missing in the object", [
        { reason: 'FieldValueRequired', field: 'kind', message: 'Required value' },
      ]);
    }
    if (typeof apiVersion !== 'string' || apiVersion === '') {
      throw errors.badRequest("Object 'apiVersion' is missing in the object", [
        { reason: 'FieldValueRequired', field: 'apiVersion', message: 'Required value' },
      ]);
    }
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    return this.resolve({ group, version, kind });
  }

  kinds(): RegisteredKind[] {
    return [...this.byGvk.values()];
  }

  kindsInCategory(category: string): RegisteredKind[] {
    return this.kinds().filter((k) => k.categories.includes(category));
  }

  /** The core group first, then the others in registration order. */
  private orderedKinds(): RegisteredKind[] {
    const all = this.kinds();
    return [...all.filter((k) => k.group === ''), ...all.filter((k) => k.group !== '')];
  }

  private resolveResourceName(reference: string): RegisteredKind | undefined {
    const name = reference.toLowerCase();
    const direct = this.kindForResource(name);
    if (direct) return direct;
    // `resource.group` or `resource.version.group`, as kubectl accepts them.
    const firstDot = name.indexOf('.');
    if (firstDot < 0) return undefined;
    const resource = name.slice(0, firstDot);
    const rest = name.slice(firstDot + 1);
    const inGroup = this.kindForResource(resource, rest);
    if (inGroup) return inGroup;
    const secondDot = rest.indexOf('.');
    if (secondDot < 0) {
      // `pods.v1` names the core group.
      const core = this.kindForResource(resource, '');
      return core && core.version === rest ? core : undefined;
    }
    const version = rest.slice(0, secondDot);
    const group = rest.slice(secondDot + 1);
    const versioned = this.kindForResource(resource, group);
    return versioned && versioned.version === version ? versioned : undefined;
  }
}
