// SPDX-License-Identifier: Apache-2.0
import { errors, type GroupVersionKind, type KubeObject } from '@cpkit/core';
import { eventPrinter } from './event-printer.js';
import { nodePrinter } from './node-printer.js';
import { podPrinter } from './pod-printer.js';
import { servicePrinter } from './service-printer.js';
import {
  configMapPrinter,
  defaultPrinter,
  leasePrinter,
  namespacePrinter,
  secretPrinter,
} from './simple-printers.js';
import {
  type IncludeObjectPolicy,
  includeObjectPolicies,
  type KindPrinter,
  type Table,
  type TableRow,
} from './table.js';
import {
  cronJobPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  jobPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from './workload-printers.js';

/** Options of {@link printTable}. @category API server */
export interface PrintTableOptions {
  /** What each row's `object` holds; default `'Metadata'`. */
  includeObject?: IncludeObjectPolicy;
  /** The time ages are measured against (a Date or epoch milliseconds); default the current time. */
  now?: Date | number;
  /** The list's `metadata.resourceVersion` (where `kubectl get -w` starts watching). */
  resourceVersion?: string;
  /** The list's `metadata.continue` token, when the list is paged. */
  continue?: string;
  /** The list's `metadata.remainingItemCount`, when known. */
  remainingItemCount?: number;
  /** Leave out `columnDefinitions` (an empty array), as for watch events after the first. */
  noHeaders?: boolean;
}

// Keyed by `group/Kind` (`/Pod` for the core group) so that a custom resource that happens to be
// called `Event` or `Job` in another group does not get a built-in printer.
const builtinPrinters = new Map<string, KindPrinter>([
  ['/Pod', podPrinter as KindPrinter],
  ['/Node', nodePrinter as KindPrinter],
  ['/Namespace', namespacePrinter as KindPrinter],
  ['/Service', servicePrinter as KindPrinter],
  ['/Event', eventPrinter as KindPrinter],
  ['/ConfigMap', configMapPrinter as KindPrinter],
  ['/Secret', secretPrinter as KindPrinter],
  ['apps/Deployment', deploymentPrinter as KindPrinter],
  ['apps/ReplicaSet', replicaSetPrinter as KindPrinter],
  ['apps/DaemonSet', daemonSetPrinter as KindPrinter],
  ['apps/StatefulSet', statefulSetPrinter as KindPrinter],
  ['batch/Job', jobPrinter as KindPrinter],
  ['batch/CronJob', cronJobPrinter as KindPrinter],
  ['coordination.k8s.io/Lease', leasePrinter as KindPrinter],
]);

const builtinByKindName = new Map<string, KindPrinter>(
  [...builtinPrinters].map(([key, printer]) => [key.slice(key.indexOf('/') + 1), printer]),
);

/**
 * The printer for a kind: a built-in one for the kinds kubectl has dedicated columns for, else
 * the `NAME AGE` default. A string names a built-in kind (`'Pod'`, `'Deployment'`); a
 * {@link GroupVersionKind} must also match the group.
 * @category API server
 */
export function printerFor(kind: string | GroupVersionKind): KindPrinter {
  const printer =
    typeof kind === 'string'
      ? builtinByKindName.get(kind)
      : builtinPrinters.get(`${kind.group}/${kind.kind}`);
  return printer ?? defaultPrinter;
}

/**
 * Renders objects as a `meta.k8s.io/v1` Table, the reply to kubectl's table Accept header, with
 * the columns and cells the upstream API server computes. Every row carries all columns,
 * `-o wide` ones included (kubectl hides those with `priority > 0` itself).
 *
 * @param kind The objects' kind, see {@link printerFor}.
 * @param objects The objects, one row each, in order (a single object for a GET is a list of one).
 * @throws StatusError `BadRequest` for an unknown `includeObject`, an invalid `now`, or `objects`
 *   that is not an array.
 * @category API server
 */
export function printTable(
  kind: string | GroupVersionKind,
  objects: readonly KubeObject[],
  options: PrintTableOptions = {},
): Table {
  if (!Array.isArray(objects)) {
    throw errors.badRequest('printTable: objects must be an array of objects');
  }
  const includeObject = options.includeObject ?? 'Metadata';
  if (!includeObjectPolicies.includes(includeObject)) {
    throw errors.badRequest(
      `includeObject: unsupported value "${String(includeObject)}"; supported values: ${includeObjectPolicies.join(', ')}`,
    );
  }
  const now = options.now === undefined ? Date.now() : Number(options.now);
  if (!Number.isFinite(now)) {
    throw errors.badRequest('printTable: now must be a valid Date or epoch milliseconds');
  }
  const printer = printerFor(kind);
  const rows = objects.map((object, index): TableRow => {
    if (typeof object !== 'object' || object === null) {
      throw errors.badRequest(`printTable: objects[${index}] is not an object`);
    }
    const row: TableRow = { cells: printer.cells(object, now) };
    const conditions = printer.conditions?.(object);
    if (conditions) row.conditions = conditions;
    if (includeObject === 'Object') {
      row.object = object;
    } else if (includeObject === 'Metadata') {
      row.object = {
        apiVersion: 'meta.k8s.io/v1',
        kind: 'PartialObjectMetadata',
        metadata: object.metadata ?? {},
      };
    }
    return row;
  });
  const metadata: Table['metadata'] = {};
  if (options.resourceVersion !== undefined) metadata.resourceVersion = options.resourceVersion;
  if (options.continue) metadata.continue = options.continue;
  if (options.remainingItemCount !== undefined) metadata.remainingItemCount = options.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: options.noHeaders ? [] : printer.columns.map((c) => ({ ...c })),
    rows,
  };
}
