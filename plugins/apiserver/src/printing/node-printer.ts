// SPDX-License-Identifier: Apache-2.0
import type { Node } from '@cpkit/core';
import { timestampSince } from './duration.js';
import { ageColumn, column, type KindPrinter, nameColumn } from './table.js';

const rolePrefix = 'node-role.kubernetes.io/';
const legacyRoleLabel = 'kubernetes.io/role';

/** A node's roles from its `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels, sorted. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata?.labels ?? {})) {
    if (key.startsWith(rolePrefix)) {
      const role = key.slice(rolePrefix.length);
      if (role) roles.add(role);
    } else if (key === legacyRoleLabel && value) {
      roles.add(value);
    }
  }
  return [...roles].sort();
}

function nodeStatus(node: Node): string {
  // Only the Ready condition is shown, as upstream.
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function address(node: Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

/**
 * Nodes: `NAME STATUS ROLES AGE VERSION`, wide `INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION
 * CONTAINER-RUNTIME`. STATUS is `Ready`, `NotReady` or `Unknown`, plus `,SchedulingDisabled` for a
 * cordoned node.
 * @category API server
 */
export const nodePrinter: KindPrinter<Node> = {
  columns: [
    nameColumn,
    column('Status', 'string', 'The status of the node.'),
    column('Roles', 'string', 'The roles of the node.'),
    ageColumn,
    column('Version', 'string', 'Kubelet version reported by the node.'),
    column('Internal-IP', 'string', 'The first internal IP address of the node.', { priority: 1 }),
    column('External-IP', 'string', 'The first external IP address of the node.', { priority: 1 }),
    column('OS-Image', 'string', 'The OS image reported by the node.', { priority: 1 }),
    column('Kernel-Version', 'string', 'The kernel version reported by the node.', { priority: 1 }),
    column('Container-Runtime', 'string', 'The container runtime version reported by the node.', {
      priority: 1,
    }),
  ],
  cells(node, now) {
    const info = node.status?.nodeInfo;
    return [
      node.metadata?.name ?? '',
      nodeStatus(node),
      nodeRoles(node).join(',') || '<none>',
      timestampSince(node.metadata?.creationTimestamp, now),
      info?.kubeletVersion ?? '',
      address(node, 'InternalIP'),
      address(node, 'ExternalIP'),
      info?.osImage || '<unknown>',
      info?.kernelVersion || '<unknown>',
      info?.containerRuntimeVersion || '<unknown>',
    ];
  },
};
