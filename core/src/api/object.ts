// SPDX-License-Identifier: Apache-2.0
import type { ListMeta, ObjectMeta } from 'kubernetes-types/meta/v1.js';

/**
 * Any Kubernetes-style object: apiVersion, kind, metadata, and whatever else its kind defines.
 * The built-in kinds' full types come from the `kubernetes-types` package (re-exported by `types`).
 *
 * There is deliberately no index signature: with one, typed kinds such as `Pod` would not be
 * assignable to `KubeObject`. Code that needs the other fields of an unknown kind reads them through
 * {@link UnstructuredObject}.
 * @category API machinery
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** An object of a kind known only at run time: every field readable. @category API machinery */
export interface UnstructuredObject extends KubeObject {
  [field: string]: unknown;
}

/** A list of objects as the API returns it (`PodList`, ...). @category API machinery */
export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

/** Identifies one kind: `{ group: 'apps', version: 'v1', kind: 'Deployment' }`. @category API machinery */
export interface GroupVersionKind {
  /** API group; `''` for the core group. */
  group: string;
  version: string;
  kind: string;
}

/** Identifies one resource: `{ group: 'apps', version: 'v1', resource: 'deployments' }`. @category API machinery */
export interface GroupVersionResource {
  group: string;
  version: string;
  /** The plural, lower-case resource name. */
  resource: string;
}

/**
 * What the ApiClient and the registry accept to name a kind: a registered kind name (`'Pod'`,
 * `'Deployment'`; unique names only), a plural resource (`'pods'`, `'deployments.apps'`), or a full
 * {@link GroupVersionKind}.
 * @category API machinery
 */
export type KindReference = string | GroupVersionKind;

/** Formats `apps/v1` from a group and version (`v1` for the core group). @category API machinery */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Splits an apiVersion into group and version. @category API machinery */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}
