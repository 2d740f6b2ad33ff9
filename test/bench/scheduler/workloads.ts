// SPDX-License-Identifier: Apache-2.0
// The scheduler benchmark's workloads: the node and pod shapes of upstream's scheduler_perf templates
// (node-default: 4 CPU, 32Gi, 110 pods; pod-default: one pause container requesting and limited to
// 100m / 500Mi, port 80), at the sizes issue 5 asks for. Written from the templates' description, not
// copied.
import type { Namespace, Node, Pod, PodSpec } from 'kubernetes-types/core/v1.js';

/** The workload names accepted by `--workload`. */
export const workloadNames = [
  'SchedulingBasic',
  'TopologySpreading',
  'SchedulingNodeAffinity',
  'SchedulingPodAntiAffinity',
  'PreemptionBasic',
] as const;
export type WorkloadName = (typeof workloadNames)[number];

/** One workload: nodes, then init pods (waited for, not measured), then the measured pods. */
export interface Workload {
  name: WorkloadName;
  nodes: number;
  initPods: number;
  measuredPods: number;
  /** Issue 5's target in measured pods per second; absent: report only. */
  target?: number;
  /** Upstream's CI floor for the comparable workload (pods/s), for the table. */
  upstreamFloor?: number;
  /** Namespaces to create before the pods (besides `default`). */
  namespaces: string[];
  node(index: number): Node;
  initPod(index: number): Pod;
  measuredPod(index: number): Pod;
}

const zoneKey = 'topology.kubernetes.io/zone';

/** node-default: 4 CPU, 32Gi, 110 pods, Ready; `labels` adds e.g. the zone. */
function defaultNode(index: number, labels: Record<string, string> = {}): Node {
  const name = `scheduler-perf-${String(index).padStart(5, '0')}`;
  const capacity = { cpu: '4', memory: '32Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
    status: {
      capacity,
      allocatable: { ...capacity },
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
  };
}

/** One pause container with equal requests and limits, as the upstream pod templates have. */
function pausePod(
  name: string,
  options: {
    namespace?: string;
    labels?: Record<string, string>;
    cpu?: string;
    memory?: string;
    spec?: Partial<PodSpec>;
  } = {},
): Pod {
  const resources = { cpu: options.cpu ?? '100m', memory: options.memory ?? '500Mi' };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: options.namespace ?? 'default',
      ...(options.labels ? { labels: options.labels } : {}),
    },
    spec: {
      ...options.spec,
      containers: [
        {
          name: 'pause',
          image: 'registry.k8s.io/pause:3.10',
          ports: [{ containerPort: 80 }],
          resources: { requests: { ...resources }, limits: { ...resources } },
        },
      ],
    },
  };
}

const podName = (prefix: string, index: number): string => `${prefix}-${String(index).padStart(6, '0')}`;

/** pod-with-node-affinity: requires zone1 or zone2. */
function nodeAffinityPod(name: string): Pod {
  return pausePod(name, {
    spec: {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: zoneKey, operator: 'In', values: ['zone1', 'zone2'] }] },
            ],
          },
        },
      },
    },
  });
}

/** pod-with-pod-anti-affinity: at most one `color: green` pod per node, across both namespaces. */
function antiAffinityPod(name: string, namespace: string): Pod {
  return pausePod(name, {
    namespace,
    labels: { color: 'green', name: 'test' },
    spec: {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: { matchLabels: { color: 'green' } },
              topologyKey: 'kubernetes.io/hostname',
              namespaces: ['sched-0', 'sched-1'],
            },
          ],
        },
      },
    },
  });
}

/** pod-with-topology-spreading: maxSkew 5 over zones, DoNotSchedule, selecting `color: blue`. */
function spreadingPod(name: string): Pod {
  return pausePod(name, {
    labels: { color: 'blue' },
    spec: {
      topologySpreadConstraints: [
        {
          maxSkew: 5,
          topologyKey: zoneKey,
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { color: 'blue' } },
        },
      ],
    },
  });
}

/** The workloads at full size (`scale` 1) or a fraction (`--quick`: 0.1). */
export function workloads(scale: number): Workload[] {
  const n = (count: number): number => Math.max(1, Math.round(count * scale));
  return [
    {
      name: 'SchedulingBasic',
      nodes: n(5000),
      initPods: n(1000),
      measuredPods: n(10000),
      target: 1500,
      upstreamFloor: 680,
      namespaces: [],
      node: (i) => defaultNode(i),
      initPod: (i) => pausePod(podName('init', i)),
      measuredPod: (i) => pausePod(podName('pod', i)),
    },
    {
      name: 'TopologySpreading',
      nodes: n(5000),
      initPods: n(5000),
      measuredPods: n(5000),
      target: 700,
      upstreamFloor: 460,
      namespaces: [],
      node: (i) => defaultNode(i, { [zoneKey]: `moon-${(i % 3) + 1}` }),
      initPod: (i) => pausePod(podName('init', i)),
      measuredPod: (i) => spreadingPod(podName('spreading-pod', i)),
    },
    {
      name: 'SchedulingNodeAffinity',
      nodes: n(5000),
      initPods: n(5000),
      measuredPods: n(10000),
      target: 500,
      upstreamFloor: 220,
      namespaces: [],
      node: (i) => defaultNode(i, { [zoneKey]: 'zone1' }),
      initPod: (i) => nodeAffinityPod(podName('init', i)),
      measuredPod: (i) => nodeAffinityPod(podName('node-affinity', i)),
    },
    {
      name: 'SchedulingPodAntiAffinity',
      nodes: n(5000),
      initPods: n(1000),
      measuredPods: n(2000),
      target: 150,
      upstreamFloor: 60,
      namespaces: ['sched-0', 'sched-1'],
      node: (i) => defaultNode(i),
      initPod: (i) => antiAffinityPod(podName('init', i), 'sched-0'),
      measuredPod: (i) => antiAffinityPod(podName('anti-affinity-pod', i), 'sched-1'),
    },
    {
      name: 'PreemptionBasic',
      nodes: n(1000),
      initPods: n(4000),
      measuredPods: n(1000),
      namespaces: [],
      node: (i) => defaultNode(i),
      // pod-low-priority: 900m, so four fill a 4-CPU node; pod-high-priority: priority 10, 3000m, so
      // each one needs three of a node's four low-priority pods preempted.
      initPod: (i) =>
        pausePod(podName('low', i), { cpu: '900m', spec: { terminationGracePeriodSeconds: 0 } }),
      measuredPod: (i) => pausePod(podName('high', i), { cpu: '3000m', spec: { priority: 10 } }),
    },
  ];
}

/** A Namespace object. */
export function namespace(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}
