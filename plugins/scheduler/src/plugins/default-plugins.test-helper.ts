// SPDX-License-Identifier: Apache-2.0
// Small builders for the default plugins' tests: pods and nodes with exactly the fields a case is about.
import type { SchedulingStatus } from '@cpkit/core';
import { nodeFixture, podFixture } from '@cpkit/core/testing';
import type { Container, ContainerPort, Node, Pod } from 'kubernetes-types/core/v1.js';

let podCounter = 0;

/** A pod with one container per entry of `containers` (each a requests map), optionally on a node. */
export function podRequesting(
  containers: Record<string, string>[],
  options: {
    nodeName?: string;
    initContainers?: (Record<string, string> & { sidecar?: string })[];
    name?: string;
  } = {},
): Pod {
  const name = options.name ?? `pod-${++podCounter}`;
  const pod = podFixture({ name, nodeName: options.nodeName });
  pod.metadata = { ...pod.metadata, uid: `uid-${name}` };
  pod.spec!.containers = containers.map((requests, i) => container(`c${i}`, requests));
  if (options.initContainers) {
    pod.spec!.initContainers = options.initContainers.map(({ sidecar, ...requests }, i) => ({
      ...container(`init${i}`, requests),
      ...(sidecar ? { restartPolicy: 'Always' } : {}),
    }));
  }
  return pod;
}

function container(name: string, requests: Record<string, string>): Container {
  return Object.keys(requests).length > 0
    ? { name, image: 'busybox', resources: { requests: { ...requests } } }
    : { name, image: 'busybox' };
}

/** A node whose capacity and allocatable are `allocatable` (pods default 110). */
export function nodeWith(
  name: string,
  allocatable: Record<string, string>,
  labels?: Record<string, string>,
): Node {
  return nodeFixture({ name, capacity: { pods: '110', ...allocatable }, labels });
}

/** A pod whose single container asks for these host ports. */
export function podWithPorts(ports: ContainerPort[], nodeName?: string): Pod {
  const pod = podFixture({ name: `ports-${++podCounter}`, nodeName });
  pod.spec!.containers[0].ports = ports.map((p) => ({ ...p }));
  return pod;
}

/** `{ code, reasons }` of each node's status, for exact comparisons. */
export function summarize(
  statuses: Record<string, SchedulingStatus>,
): Record<string, { code: string; reasons: string[] }> {
  return Object.fromEntries(
    Object.entries(statuses).map(([node, status]) => [
      node,
      { code: status.code, reasons: [...status.reasons] },
    ]),
  );
}

export const success = { code: 'Success', reasons: [] };
