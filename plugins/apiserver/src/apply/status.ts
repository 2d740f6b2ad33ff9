// SPDX-License-Identifier: Apache-2.0
// Field management for writes to the `status` subresource. The registry stores only status (and,
// for pods and nodes, labels and annotations) from such a write; everything else comes from the
// stored object. Upstream's field manager ignores the rest likewise (its "reset fields"), so a
// status writer never owns spec fields it merely sent back.
import type { KubeObject, RegisteredKind } from '@cpkit/core';
import { fieldManagerContext, recordUpdate } from './record.js';

/**
 * What a `status` write of `requested` over `live` stores, as the registry builds it: `live` with
 * the requested status (and the requested labels and annotations when the kind's status writes may
 * change them, {@link RegisteredKind.statusUpdateMayChangeLabels}). Returns a new object.
 * @category API server
 */
export function statusWriteView(kind: RegisteredKind, live: KubeObject, requested: KubeObject): KubeObject {
  const view = structuredClone(live) as KubeObject & { status?: unknown };
  const status = (requested as { status?: unknown }).status;
  if (status === undefined) delete view.status;
  else view.status = structuredClone(status);
  if (kind.statusUpdateMayChangeLabels) {
    view.metadata ??= {};
    const metadata = view.metadata as Record<string, unknown>;
    const from = (requested.metadata ?? {}) as Record<string, unknown>;
    for (const field of ['labels', 'annotations']) {
      if (from[field] === undefined) delete metadata[field];
      else metadata[field] = structuredClone(from[field]);
    }
  }
  return view;
}

/**
 * Sets `requested.metadata.managedFields` for a `status` write (PUT or a non-apply PATCH of
 * `.../status`) by `manager` over `live`: an `Update` entry with `subresource: status` that takes
 * the fields the write really changes. The registry must be told to store them
 * (`managedFieldsFromRequest`).
 * @category API server
 */
export function recordStatusUpdate(
  kind: RegisteredKind,
  live: KubeObject,
  requested: KubeObject,
  manager: string,
): void {
  const view = statusWriteView(kind, live, requested);
  recordUpdate(kind, live, view, fieldManagerContext(kind, manager, 'status'));
  requested.metadata ??= {};
  (requested.metadata as Record<string, unknown>).managedFields = view.metadata?.managedFields;
}

/**
 * The part of an applied configuration a status apply may set: its status (and labels and
 * annotations when the kind's status writes may change them), with apiVersion, kind, name and
 * namespace. The rest (spec, typically, as `kubectl apply --subresource=status` sends the whole
 * file) is ignored, as upstream ignores fields the status subresource resets.
 * @category API server
 */
export function statusConfiguration(kind: RegisteredKind, config: KubeObject): KubeObject {
  const from = (config.metadata ?? {}) as Record<string, unknown>;
  const metadata: Record<string, unknown> = {};
  const kept = ['name', 'namespace', ...(kind.statusUpdateMayChangeLabels ? ['labels', 'annotations'] : [])];
  for (const field of kept) if (from[field] !== undefined) metadata[field] = from[field];
  const out: Record<string, unknown> = { apiVersion: config.apiVersion, kind: config.kind, metadata };
  const status = (config as { status?: unknown }).status;
  if (status !== undefined) out.status = status;
  return out as KubeObject;
}
