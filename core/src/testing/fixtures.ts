// SPDX-License-Identifier: Apache-2.0
/**
 * Fixture builders for tests: complete, valid objects of the common kinds from a few options, so a
 * test states only what it is about.
 * @module
 */
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Container, Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** Options of {@link podFixture}. @category Testing */
export interface PodFixtureOptions {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  /** Requests of the single container, e.g. `{ cpu: '100m', memory: '128Mi' }`. */
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  /** Bind the pod to this node (sets `spec.nodeName`). */
  nodeName?: string;
  schedulerName?: string;
  priority?: number;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  image?: string;
  /** Sets `status.phase`. */
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
}

/** A Pod with one container (`app`, image `busybox`) and the given options. @category Testing */
export function podFixture(options: PodFixtureOptions): Pod {
  const container: Container = { name: 'app', image: options.image ?? 'busybox' };
  if (options.requests || options.limits) {
    container.resources = {};
    if (options.requests) container.resources.requests = { ...options.requests };
    if (options.limits) container.resources.limits = { ...options.limits };
  }
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace: options.namespace ?? 'default',
      ...(options.labels ? { labels: { ...options.labels } } : {}),
    },
    spec: { containers: [container] },
    // status is read-only in kubernetes-types (servers own it); fixtures may preset it.
    ...(options.phase ? { status: { phase: options.phase } } : {}),
  };
  const spec = pod.spec!;
  if (options.nodeName) spec.nodeName = options.nodeName;
  if (options.schedulerName) spec.schedulerName = options.schedulerName;
  if (options.priority !== undefined) spec.priority = options.priority;
  if (options.nodeSelector) spec.nodeSelector = { ...options.nodeSelector };
  if (options.tolerations) spec.tolerations = options.tolerations.map((t) => ({ ...t }));
  return pod;
}

/** Options of {@link nodeFixture}. @category Testing */
export interface NodeFixtureOptions {
  name: string;
  labels?: Record<string, string>;
  /** Capacity (and, unless `allocatable` is given, allocatable). Default: 4 CPUs, 32Gi, 110 pods. */
  capacity?: Record<string, string>;
  allocatable?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  /** Sets the `Ready` condition. Default: true. */
  ready?: boolean;
}

/** A Node with capacity, allocatable, the hostname label and a Ready condition. @category Testing */
export function nodeFixture(options: NodeFixtureOptions): Node {
  const capacity = options.capacity ?? { cpu: '4', memory: '32Gi', pods: '110' };
  const ready = options.ready ?? true;
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: options.name,
      labels: { 'kubernetes.io/hostname': options.name, ...options.labels },
    },
    spec: {},
    status: {
      capacity: { ...capacity },
      allocatable: { ...(options.allocatable ?? capacity) },
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: ready ? 'KubeletReady' : 'KubeletNotReady',
          lastHeartbeatTime: new Date(0).toISOString(),
          lastTransitionTime: new Date(0).toISOString(),
        },
      ],
    },
  };
  if (options.taints) node.spec!.taints = options.taints.map((t) => ({ ...t }));
  if (options.unschedulable) node.spec!.unschedulable = true;
  return node;
}

/** Options of {@link deploymentFixture}. @category Testing */
export interface DeploymentFixtureOptions {
  name: string;
  namespace?: string;
  replicas?: number;
  /** Labels of the pod template; the selector matches them. Default: `{ app: <name> }`. */
  labels?: Record<string, string>;
  image?: string;
  requests?: Record<string, string>;
}

/** A Deployment whose selector matches its pod template's labels. @category Testing */
export function deploymentFixture(options: DeploymentFixtureOptions): Deployment {
  const labels = options.labels ?? { app: options.name };
  const container: Container = { name: 'app', image: options.image ?? 'busybox' };
  if (options.requests) container.resources = { requests: { ...options.requests } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: options.name, namespace: options.namespace ?? 'default' },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: { ...labels } },
      template: { metadata: { labels: { ...labels } }, spec: { containers: [container] } },
    },
  };
}
