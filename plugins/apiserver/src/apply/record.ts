// SPDX-License-Identifier: Apache-2.0
// How the API handler ties field management to a request: the context of a write to a kind, and
// the managedFields an Update-style write (create, update, non-apply patch) stores.
import type { KubeObject, RegisteredKind } from '@cpkit/core';
import { type FieldManagerContext, managedFieldsAfterUpdate } from './managed-fields.js';
import { typeOfKind } from './type-tree.js';

/**
 * The field-management context of a write by `manager` to `kind` (its main resource, or
 * `subresource`).
 * @category API server
 */
export function fieldManagerContext(
  kind: RegisteredKind,
  manager: string,
  subresource = '',
): FieldManagerContext {
  return {
    type: typeOfKind({ group: kind.group, version: kind.version, kind: kind.kind }),
    apiVersion: kind.apiVersion,
    manager,
    subresource,
    // The main resource never writes status when the kind has a status subresource; a subresource
    // write (scale) is the main object rebuilt from the stored one, status included.
    ignoreStatus: kind.hasStatusSubresource && subresource === '',
  };
}

/**
 * Sets `next.metadata.managedFields` for an Update-style write of `next` over `live` (undefined on
 * create). For updates the comparison sees `next` defaulted as the registry will store it, so
 * fields the server defaults are not taken from (or by) anyone merely because the request omits
 * them; creates skip that to stay cheap (defaulted fields are then owned by nobody).
 * @category API server
 */
export function recordUpdate(
  kind: RegisteredKind,
  live: KubeObject | undefined,
  next: KubeObject,
  ctx: FieldManagerContext,
): void {
  let view = next;
  if (live && kind.defaults) {
    view = structuredClone(next);
    kind.defaults(view as Parameters<NonNullable<RegisteredKind['defaults']>>[0]);
  }
  const managedFields = managedFieldsAfterUpdate(live, view, ctx);
  next.metadata ??= {};
  const metadata = next.metadata as Record<string, unknown>;
  // An empty list (not an absent field) tells the registry to drop the stored entries; it keeps
  // them when an update leaves managedFields out, as upstream does.
  metadata.managedFields = managedFields;
}
