// SPDX-License-Identifier: Apache-2.0
import { isStatusError } from '@cpkit/core';
import { runFilterPlugin, runScorePlugin } from '@cpkit/core/testing';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { nodeWith, podRequesting, success, summarize } from './default-plugins.test-helper.js';
import {
  type NodeResourcesFitArgs,
  newNodeResourcesFit,
  nodeResourcesFitRegistration,
} from './node-resources-fit.js';
import { brokenLinearFunction } from './resource-allocation.js';

// Upstream's fit tests use a node of 10 milli-CPU, 20 bytes of memory and 32 pods; so do we.
const smallNode = (extra: Record<string, string> = {}): Node =>
  nodeWith('n1', { cpu: '10m', memory: '20', pods: '32', ...extra });

const insufficient = (...reasons: string[]) => ({ code: 'Unschedulable', reasons });
const unresolvable = (...reasons: string[]) => ({ code: 'UnschedulableAndUnresolvable', reasons });

interface FilterCase {
  name: string;
  pod: Pod;
  existing?: Pod[];
  node?: Node;
  args?: NodeResourcesFitArgs;
  want: { code: string; reasons: string[] };
}

const filterCases: FilterCase[] = [
  {
    name: 'a pod requesting nothing always fits',
    pod: podRequesting([{}]),
    existing: [podRequesting([{ cpu: '10m', memory: '20' }], { nodeName: 'n1' })],
    want: success,
  },
  {
    name: 'too much cpu and memory',
    pod: podRequesting([{ cpu: '1m', memory: '1' }]),
    existing: [podRequesting([{ cpu: '10m', memory: '20' }], { nodeName: 'n1' })],
    want: insufficient('Insufficient cpu', 'Insufficient memory'),
  },
  {
    name: 'an init container larger than the free cpu',
    pod: podRequesting([{ cpu: '1m', memory: '1' }], { initContainers: [{ cpu: '3m', memory: '1' }] }),
    existing: [podRequesting([{ cpu: '8m', memory: '19' }], { nodeName: 'n1' })],
    want: insufficient('Insufficient cpu'),
  },
  {
    name: 'init containers that fit',
    pod: podRequesting([{ cpu: '1m', memory: '1' }], { initContainers: [{ cpu: '1m', memory: '1' }] }),
    existing: [podRequesting([{ cpu: '5m', memory: '19' }], { nodeName: 'n1' })],
    want: success,
  },
  {
    name: 'both resources fit',
    pod: podRequesting([{ cpu: '1m', memory: '1' }]),
    existing: [podRequesting([{ cpu: '5m', memory: '5' }], { nodeName: 'n1' })],
    want: success,
  },
  {
    name: 'memory fits, cpu does not',
    pod: podRequesting([{ cpu: '2m', memory: '1' }]),
    existing: [podRequesting([{ cpu: '9m', memory: '5' }], { nodeName: 'n1' })],
    want: insufficient('Insufficient cpu'),
  },
  {
    name: 'cpu fits, memory does not',
    pod: podRequesting([{ cpu: '1m', memory: '2' }]),
    existing: [podRequesting([{ cpu: '5m', memory: '19' }], { nodeName: 'n1' })],
    want: insufficient('Insufficient memory'),
  },
  {
    name: 'exactly the free amount fits',
    pod: podRequesting([{ cpu: '5m', memory: '1' }]),
    existing: [podRequesting([{ cpu: '5m', memory: '19' }], { nodeName: 'n1' })],
    want: success,
  },
  {
    name: 'a request above the whole allocatable cannot be helped by preemption',
    pod: podRequesting([{ cpu: '11m', memory: '1' }]),
    want: unresolvable('Insufficient cpu'),
  },
  {
    name: 'one unresolvable resource makes the whole status unresolvable',
    pod: podRequesting([{ cpu: '2m', memory: '21' }]),
    existing: [podRequesting([{ cpu: '9m', memory: '0' }], { nodeName: 'n1' })],
    want: unresolvable('Insufficient cpu', 'Insufficient memory'),
  },
  {
    name: 'containers add up',
    pod: podRequesting([
      { cpu: '3m', memory: '1' },
      { cpu: '3m', memory: '1' },
    ]),
    existing: [podRequesting([{ cpu: '5m', memory: '5' }], { nodeName: 'n1' })],
    want: insufficient('Insufficient cpu'),
  },
  {
    name: 'a sidecar init container counts for the whole life of the pod',
    pod: podRequesting([{ cpu: '1m' }], { initContainers: [{ cpu: '2m', sidecar: 'yes' }] }),
    existing: [podRequesting([{ cpu: '8m' }], { nodeName: 'n1' })],
    want: insufficient('Insufficient cpu'),
  },
  {
    name: 'pod overhead is added to the requests',
    pod: (() => {
      const pod = podRequesting([{ cpu: '1m' }]);
      pod.spec!.overhead = { cpu: '3m' };
      return pod;
    })(),
    existing: [podRequesting([{ cpu: '7m' }], { nodeName: 'n1' })],
    want: insufficient('Insufficient cpu'),
  },
  {
    name: 'too many pods',
    node: smallNode({ pods: '1' }),
    pod: podRequesting([{}]),
    existing: [podRequesting([{}], { nodeName: 'n1' })],
    want: insufficient('Too many pods'),
  },
  {
    name: 'too many pods and insufficient cpu, reasons in upstream order',
    node: smallNode({ pods: '1' }),
    pod: podRequesting([{ cpu: '8m' }]),
    existing: [podRequesting([{ cpu: '5m' }], { nodeName: 'n1' })],
    want: insufficient('Too many pods', 'Insufficient cpu'),
  },
  {
    name: 'insufficient ephemeral storage',
    node: smallNode({ 'ephemeral-storage': '20' }),
    pod: podRequesting([{ 'ephemeral-storage': '10' }]),
    existing: [podRequesting([{ 'ephemeral-storage': '15' }], { nodeName: 'n1' })],
    want: insufficient('Insufficient ephemeral-storage'),
  },
  {
    name: 'an extended resource that fits',
    node: smallNode({ 'example.com/aaa': '5' }),
    pod: podRequesting([{ 'example.com/aaa': '2' }]),
    existing: [podRequesting([{ 'example.com/aaa': '3' }], { nodeName: 'n1' })],
    want: success,
  },
  {
    name: 'an extended resource in use by other pods',
    node: smallNode({ 'example.com/aaa': '5' }),
    pod: podRequesting([{ 'example.com/aaa': '3' }]),
    existing: [podRequesting([{ 'example.com/aaa': '3' }], { nodeName: 'n1' })],
    want: insufficient('Insufficient example.com/aaa'),
  },
  {
    name: 'an extended resource the node does not have',
    pod: podRequesting([{ 'example.com/aaa': '1' }]),
    want: unresolvable('Insufficient example.com/aaa'),
  },
  {
    name: 'hugepages are checked like extended resources',
    node: smallNode({ 'hugepages-2Mi': '4Mi' }),
    pod: podRequesting([{ 'hugepages-2Mi': '6Mi' }]),
    want: unresolvable('Insufficient hugepages-2Mi'),
  },
  {
    name: 'an ignored extended resource is not checked',
    args: { ignoredResources: ['example.com/bbb'] },
    pod: podRequesting([{ 'example.com/bbb': '1' }]),
    want: success,
  },
  {
    name: 'an ignored resource group is not checked',
    args: { ignoredResourceGroups: ['example.com'] },
    pod: podRequesting([{ 'example.com/bbb': '1', 'example.com/ccc': '2' }]),
    want: success,
  },
  {
    name: 'a resource outside the ignored group is still checked',
    args: { ignoredResourceGroups: ['example.com'] },
    pod: podRequesting([{ 'example.com/bbb': '1', 'other.io/ccc': '2' }]),
    want: unresolvable('Insufficient other.io/ccc'),
  },
  {
    name: 'kubernetes.io resources cannot be ignored',
    args: { ignoredResources: ['kubernetes.io/foo'], ignoredResourceGroups: ['kubernetes.io'] },
    pod: podRequesting([{ 'kubernetes.io/foo': '1' }]),
    want: unresolvable('Insufficient kubernetes.io/foo'),
  },
];

describe('NodeResourcesFit Filter', () => {
  for (const c of filterCases) {
    it(c.name, async () => {
      const statuses = await runFilterPlugin(nodeResourcesFitRegistration, {
        nodes: [c.node ?? smallNode()],
        pods: c.existing,
        pod: c.pod,
        args: c.args,
      });
      expect(summarize(statuses).n1).toEqual(c.want);
    });
  }

  it('reuses one status object for identical rejections (no allocation per node)', async () => {
    const plugin = newNodeResourcesFit(undefined);
    const nodes = [smallNode(), { ...smallNode(), metadata: { ...smallNode().metadata, name: 'n2' } }];
    const statuses = await runFilterPlugin(plugin, { nodes, pod: podRequesting([{ cpu: '11m' }]) });
    expect(statuses.n1).toBe(statuses.n2);
  });
});

// Two nodes of different size, as in upstream's scoring tests.
const scoringNodes = (): Node[] => [
  nodeWith('n1', { cpu: '4', memory: '10000' }),
  nodeWith('n2', { cpu: '6', memory: '10000' }),
];
const midPod = (): Pod =>
  podRequesting([
    { cpu: '1000m', memory: '2000' },
    { cpu: '2000m', memory: '3000' },
  ]);

interface ScoreCase {
  name: string;
  args?: NodeResourcesFitArgs;
  pod: Pod;
  existing?: Pod[];
  nodes?: Node[];
  want: Record<string, number>;
}

const scoreCases: ScoreCase[] = [
  {
    name: 'LeastAllocated (default): differently sized nodes',
    pod: midPod(),
    // n1: cpu (4000-3000)/4000 = 25, memory 50 → 37; n2: 50, 50 → 50.
    want: { n1: 37, n2: 50 },
  },
  {
    name: 'LeastAllocated: a resource requested beyond capacity scores 0',
    pod: podRequesting([{ cpu: '5', memory: '5000' }]),
    want: { n1: 25, n2: 33 },
  },
  {
    name: 'LeastAllocated: what pods on the node request counts',
    pod: midPod(),
    existing: [podRequesting([{ cpu: '1', memory: '2000' }], { nodeName: 'n1' })],
    // n1: cpu 4000/4000 → 0, memory 7000/10000 → 30 → 15.
    want: { n1: 15, n2: 50 },
  },
  {
    name: 'LeastAllocated: pods on the node without requests count 100m CPU and 200Mi memory too',
    pod: midPod(),
    existing: [podRequesting([{}], { nodeName: 'n1' })],
    // n1: cpu (4000-3100)/4000 → 22; memory 5000 + 200Mi is beyond 10000 → 0; (22+0)/2 → 11.
    want: { n1: 11, n2: 50 },
  },
  {
    name: 'LeastAllocated: containers without requests count 100m CPU and 200Mi memory',
    pod: podRequesting([{}]),
    nodes: [nodeWith('n1', { cpu: '4', memory: '1Gi' })],
    // cpu (4000-100)/4000 → 97; memory (1Gi-200Mi)/1Gi → 80; (97+80)/2 → 88.
    want: { n1: 88 },
  },
  {
    name: 'LeastAllocated with weights',
    args: {
      scoringStrategy: {
        type: 'LeastAllocated',
        resources: [
          { name: 'cpu', weight: 2 },
          { name: 'memory', weight: 1 },
        ],
      },
    },
    pod: midPod(),
    // n1: (25×2 + 50)/3 = 33; n2: (50×2 + 50)/3 = 50.
    want: { n1: 33, n2: 50 },
  },
  {
    name: 'MostAllocated: differently sized nodes',
    args: { scoringStrategy: { type: 'MostAllocated' } },
    pod: midPod(),
    // n1: cpu 75, memory 50 → 62; n2: 50, 50 → 50.
    want: { n1: 62, n2: 50 },
  },
  {
    name: 'MostAllocated: requests beyond capacity count as full',
    args: { scoringStrategy: { type: 'MostAllocated' } },
    pod: podRequesting([{ cpu: '5', memory: '5000' }]),
    // n1: cpu 100, memory 50 → 75; n2: 83, 50 → 66.
    want: { n1: 75, n2: 66 },
  },
  {
    name: 'RequestedToCapacityRatio, bin packing shape',
    args: {
      scoringStrategy: {
        type: 'RequestedToCapacityRatio',
        requestedToCapacityRatio: {
          shape: [
            { utilization: 0, score: 0 },
            { utilization: 100, score: 10 },
          ],
        },
      },
    },
    pod: midPod(),
    // n1: cpu 75, memory 50 → 62.5 rounds to 63; n2: 50.
    want: { n1: 63, n2: 50 },
  },
  {
    name: 'RequestedToCapacityRatio, spreading shape',
    args: {
      scoringStrategy: {
        type: 'RequestedToCapacityRatio',
        requestedToCapacityRatio: {
          shape: [
            { utilization: 0, score: 10 },
            { utilization: 100, score: 0 },
          ],
        },
      },
    },
    pod: midPod(),
    // n1: cpu 25, memory 50 → 37.5 rounds to 38; n2: 50.
    want: { n1: 38, n2: 50 },
  },
  {
    name: 'extended resources in the strategy count only for pods that request them',
    args: {
      scoringStrategy: {
        type: 'MostAllocated',
        resources: [
          { name: 'cpu', weight: 1 },
          { name: 'memory', weight: 1 },
          { name: 'example.com/gpu', weight: 2 },
        ],
      },
    },
    pod: podRequesting([{ cpu: '3', memory: '5000', 'example.com/gpu': '1' }]),
    nodes: [
      nodeWith('n1', { cpu: '4', memory: '10000', 'example.com/gpu': '4' }),
      nodeWith('n2', { cpu: '4', memory: '10000' }),
    ],
    // n1: (75 + 50 + 25×2)/4 = 43; n2 has no GPU: (75 + 50)/2 = 62.
    want: { n1: 43, n2: 62 },
  },
];

describe('NodeResourcesFit Score', () => {
  for (const c of scoreCases) {
    it(c.name, async () => {
      const scores = await runScorePlugin(nodeResourcesFitRegistration, {
        nodes: c.nodes ?? scoringNodes(),
        pods: c.existing,
        pod: c.pod,
        args: c.args,
      });
      expect(scores).toEqual(c.want);
    });
  }
});

describe('RequestedToCapacityRatio shape function', () => {
  it.each([
    [0, 100],
    [10, 77], // 100 + trunc(-70 × 10 / 30): Go truncates toward zero, floor would give 76
    [30, 30],
    [65, 15],
    [100, 0],
    [120, 0],
  ])('f(%i) = %i', (utilization, want) => {
    const f = brokenLinearFunction([
      { utilization: 0, score: 100 },
      { utilization: 30, score: 30 },
      { utilization: 100, score: 0 },
    ]);
    expect(f(utilization)).toBe(want);
  });

  it('is constant before the first point', () => {
    expect(brokenLinearFunction([{ utilization: 50, score: 40 }])(10)).toBe(40);
  });
});

describe('NodeResourcesFit args', () => {
  const invalid: [string, unknown, string][] = [
    ['args that are not an object', 'yes', 'args'],
    [
      'an unknown strategy',
      { scoringStrategy: { type: 'Fastest' } },
      'scoringStrategy.type: Unsupported value: "Fastest"',
    ],
    [
      'a weight above 100',
      { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 101 }] } },
      'scoringStrategy.resources[0].weight: Invalid value: 101: resource weight of cpu not in valid range (0, 100]',
    ],
    [
      'a resource listed twice',
      { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu' }, { name: 'cpu' }] } },
      'scoringStrategy.resources[1].name: Duplicate value: "cpu"',
    ],
    [
      'RequestedToCapacityRatio without a shape',
      { scoringStrategy: { type: 'RequestedToCapacityRatio' } },
      'scoringStrategy.requestedToCapacityRatio: Required value',
    ],
    [
      'a shape out of order',
      {
        scoringStrategy: {
          type: 'RequestedToCapacityRatio',
          requestedToCapacityRatio: {
            shape: [
              { utilization: 50, score: 1 },
              { utilization: 10, score: 2 },
            ],
          },
        },
      },
      'scoringStrategy.requestedToCapacityRatio.shape[1].utilization: Invalid value: 10: utilization values must be sorted in increasing order',
    ],
    [
      'a shape score above 10',
      {
        scoringStrategy: {
          type: 'RequestedToCapacityRatio',
          requestedToCapacityRatio: { shape: [{ utilization: 50, score: 11 }] },
        },
      },
      'scoringStrategy.requestedToCapacityRatio.shape[0].score: Invalid value: 11: not in valid range [0, 10]',
    ],
    [
      'a resource group with a slash',
      { ignoredResourceGroups: ['example.com/aaa'] },
      "ignoredResourceGroups[0]: Invalid value: \"example.com/aaa\": resource group name can't contain '/'",
    ],
    [
      'ignoredResources that are not a list',
      { ignoredResources: 'example.com/aaa' },
      'ignoredResources: Invalid value',
    ],
  ];

  it.each(invalid)('rejects %s, naming the field', (_name, args, message) => {
    let thrown: unknown;
    try {
      newNodeResourcesFit(args);
    } catch (error) {
      thrown = error;
    }
    expect(isStatusError(thrown, 'Invalid')).toBe(true);
    expect((thrown as Error).message).toContain(message);
  });

  it('defaults a weight of 0 to 1 and empty resources to cpu and memory', async () => {
    const scores = await runScorePlugin(nodeResourcesFitRegistration, {
      nodes: scoringNodes(),
      pod: midPod(),
      args: { scoringStrategy: { type: 'LeastAllocated', resources: [] } },
    });
    expect(scores).toEqual({ n1: 37, n2: 50 });
    expect(() =>
      newNodeResourcesFit({
        scoringStrategy: { type: 'MostAllocated', resources: [{ name: 'cpu', weight: 0 }] },
      }),
    ).not.toThrow();
  });
});
