// SPDX-License-Identifier: Apache-2.0
import type { KubeObject, ObjectMeta } from '@cpkit/core';

/**
 * One column of a {@link Table} (`metav1.TableColumnDefinition`). Columns with `priority > 0` are
 * the ones kubectl shows only with `-o wide`.
 * @category API server
 */
export interface TableColumnDefinition {
  name: string;
  /** An OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`. */
  type: string;
  /** An OpenAPI format hint: `name` marks the column that holds the object name. */
  format: string;
  description: string;
  priority: number;
}

/** A condition on a row: upstream marks finished pods `Completed`. @category API server */
export interface TableRowCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

/** The metadata-only view of an object that rows carry by default. @category API server */
export interface PartialObjectMetadata {
  apiVersion: 'meta.k8s.io/v1';
  kind: 'PartialObjectMetadata';
  metadata: ObjectMeta;
}

/** One row of a {@link Table}: one cell per column, in column order. @category API server */
export interface TableRow {
  cells: Array<string | number | boolean>;
  conditions?: TableRowCondition[];
  /** Absent with `includeObject: 'None'`. */
  object?: PartialObjectMetadata | KubeObject;
}

/**
 * A `meta.k8s.io/v1` Table: what the API server sends when kubectl asks for
 * `application/json;as=Table;v=v1;g=meta.k8s.io`.
 * @category API server
 */
export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/**
 * What each row's `object` holds (the `includeObject` query parameter): only metadata (the
 * default; enough for kubectl's `-A`, `--show-labels`, `-L`), the full object (`--sort-by`), or
 * nothing.
 * @category API server
 */
export type IncludeObjectPolicy = 'None' | 'Metadata' | 'Object';

/** The values of {@link IncludeObjectPolicy}, for validating a query parameter. @category API server */
export const includeObjectPolicies: readonly IncludeObjectPolicy[] = ['None', 'Metadata', 'Object'];

/**
 * How one kind prints: its columns and a function that computes one row's cells (one per column,
 * always including the `-o wide` ones, as the upstream server does).
 * @category API server
 */
export interface KindPrinter<T extends KubeObject = KubeObject> {
  columns: TableColumnDefinition[];
  cells(object: T, now: number): Array<string | number | boolean>;
  /** Row conditions, when the kind has any (pods). */
  conditions?(object: T): TableRowCondition[] | undefined;
}

/** Shorthand for a column definition; `format` and `priority` default to `''` and `0`. */
export function column(
  name: string,
  type: string,
  description: string,
  extra: { format?: string; priority?: number } = {},
): TableColumnDefinition {
  return { name, type, format: extra.format ?? '', description, priority: extra.priority ?? 0 };
}

/** The Name column every printer starts with (except events, whose name is a wide column). */
export const nameColumn: TableColumnDefinition = column(
  'Name',
  'string',
  'Name of the object, unique within its namespace (or the cluster, for cluster-scoped kinds).',
  { format: 'name' },
);

/** The Age column of the built-in printers. */
export const ageColumn: TableColumnDefinition = column(
  'Age',
  'string',
  'Time since the object was created (metadata.creationTimestamp).',
);
