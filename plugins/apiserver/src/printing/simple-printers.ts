// SPDX-License-Identifier: Apache-2.0
import type { ConfigMap, KubeObject, Lease, Namespace, Secret } from '@cpkit/core';
import { timestampSince } from './duration.js';
import { ageColumn, column, type KindPrinter, nameColumn } from './table.js';

/** Namespaces: `NAME STATUS AGE`. @category API server */
export const namespacePrinter: KindPrinter<Namespace> = {
  columns: [nameColumn, column('Status', 'string', 'The lifecycle phase of the namespace.'), ageColumn],
  cells(namespace, now) {
    return [
      namespace.metadata?.name ?? '',
      namespace.status?.phase ?? '',
      timestampSince(namespace.metadata?.creationTimestamp, now),
    ];
  },
};

/** Leases: `NAME HOLDER AGE`. @category API server */
export const leasePrinter: KindPrinter<Lease> = {
  columns: [nameColumn, column('Holder', 'string', 'The identity of the current holder.'), ageColumn],
  cells(lease, now) {
    return [
      lease.metadata?.name ?? '',
      lease.spec?.holderIdentity ?? '',
      timestampSince(lease.metadata?.creationTimestamp, now),
    ];
  },
};

/** ConfigMaps: `NAME DATA AGE`; DATA counts `data` and `binaryData` keys. @category API server */
export const configMapPrinter: KindPrinter<ConfigMap> = {
  columns: [nameColumn, column('Data', 'integer', 'Number of keys in data and binaryData.'), ageColumn],
  cells(configMap, now) {
    return [
      configMap.metadata?.name ?? '',
      Object.keys(configMap.data ?? {}).length + Object.keys(configMap.binaryData ?? {}).length,
      timestampSince(configMap.metadata?.creationTimestamp, now),
    ];
  },
};

/** Secrets: `NAME TYPE DATA AGE`. @category API server */
export const secretPrinter: KindPrinter<Secret> = {
  columns: [
    nameColumn,
    column('Type', 'string', 'The type of the secret.'),
    column('Data', 'integer', 'Number of keys in data.'),
    ageColumn,
  ],
  cells(secret, now) {
    return [
      secret.metadata?.name ?? '',
      secret.type ?? '',
      Object.keys(secret.data ?? {}).length,
      timestampSince(secret.metadata?.creationTimestamp, now),
    ];
  },
};

/**
 * Any kind without a printer of its own: `NAME AGE`, like a custom resource without additional
 * printer columns. The Age column has type `date`, as a CRD's default Age column does.
 * @category API server
 */
export const defaultPrinter: KindPrinter<KubeObject> = {
  columns: [
    nameColumn,
    column('Age', 'date', 'Time since the object was created (metadata.creationTimestamp).'),
  ],
  cells(object, now) {
    return [object.metadata?.name ?? '', timestampSince(object.metadata?.creationTimestamp, now)];
  },
};
