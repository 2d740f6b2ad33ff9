// SPDX-License-Identifier: Apache-2.0
import type { Service, ServicePort } from '@cpkit/core';
import { timestampSince } from './duration.js';
import { formatLabels } from './format.js';
import { ageColumn, column, type KindPrinter, nameColumn } from './table.js';

function ports(list: ServicePort[] | undefined): string {
  const pieces = (list ?? []).map((port) => {
    const protocol = port.protocol ?? 'TCP';
    return port.nodePort ? `${port.port}:${port.nodePort}/${protocol}` : `${port.port}/${protocol}`;
  });
  return pieces.join(',') || '<none>';
}

function externalIP(service: Service, type: string): string {
  const external = service.spec?.externalIPs ?? [];
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length > 0 ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      // The server prints wide, so the load-balancer list is never shortened.
      const ingress = (service.status?.loadBalancer?.ingress ?? [])
        .map((i) => i.ip || i.hostname || '')
        .filter((value) => value !== '');
      const all = [...ingress, ...external];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return service.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/**
 * Services: `NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE`, wide `SELECTOR`. An unset
 * `spec.type` prints as `ClusterIP`, its default.
 * @category API server
 */
export const servicePrinter: KindPrinter<Service> = {
  columns: [
    nameColumn,
    column('Type', 'string', 'How the service is exposed.'),
    column('Cluster-IP', 'string', 'The first cluster IP of the service.'),
    column('External-IP', 'string', 'External IPs and load-balancer ingress points.'),
    column('Port(s)', 'string', 'The ports the service exposes.'),
    ageColumn,
    column('Selector', 'string', 'The labels of the pods the service routes to.', { priority: 1 }),
  ],
  cells(service, now) {
    const type = service.spec?.type ?? 'ClusterIP';
    return [
      service.metadata?.name ?? '',
      type,
      service.spec?.clusterIPs?.[0] || service.spec?.clusterIP || '<none>',
      externalIP(service, type),
      ports(service.spec?.ports),
      timestampSince(service.metadata?.creationTimestamp, now),
      formatLabels(service.spec?.selector),
    ];
  },
};
