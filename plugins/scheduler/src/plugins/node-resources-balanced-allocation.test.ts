// SPDX-License-Identifier: Apache-2.0
import { isStatusError } from '@cpkit/core';
import { runScorePlugin } from '@cpkit/core/testing';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { nodeWith, podRequesting } from './default-plugins.test-helper.js';
import {
  type NodeResourcesBalancedAllocationArgs,
  newNodeResourcesBalancedAllocation,
  nodeResourcesBalancedAllocationRegistration,
} from './node-resources-balanced-allocation.js';

const twoNodes = (): Node[] => [
  nodeWith('n1', { cpu: '4', memory: '10000' }),
  nodeWith('n2', { cpu: '6', memory: '10000' }),
];

interface Case {
  name: string;
  pod: Pod;
  existing?: Pod[];
  nodes?: Node[];
  args?: NodeResourcesBalancedAllocationArgs;
  want: Record<string, number>;
}

const cases: Case[] = [
  {
    name: 'best-effort pods skip the plugin (every node 0)',
    pod: podRequesting([{}]),
    want: { n1: 0, n2: 0 },
  },
  {
    name: 'differently sized nodes',
    pod: podRequesting([{ cpu: '3', memory: '5000' }]),
    // n1: fractions 0.75 and 0.5 → std 0.125 → 87; n2: 0.5 and 0.5 → 100.
    want: { n1: 87, n2: 100 },
  },
  {
    name: 'requests of pods on the node count (as requested, without defaults)',
    pod: podRequesting([{ cpu: '1', memory: '1000' }]),
    existing: [podRequesting([{ cpu: '1' }], { nodeName: 'n1' }), podRequesting([{}], { nodeName: 'n2' })],
    // n1: cpu 2000/4000 = 0.5, memory 0.1 → std 0.2 → 80; n2: 1/6 and 0.1 → std 0.0333 → 96.
    want: { n1: 80, n2: 96 },
  },
  {
    name: 'a fraction above 1 counts as 1',
    pod: podRequesting([{ cpu: '5', memory: '5000' }]),
    // n1: 1 and 0.5 → 75; n2: 0.8333 and 0.5 → std 0.1667 → 83.
    want: { n1: 75, n2: 83 },
  },
  {
    name: 'three resources use the standard deviation',
    args: {
      resources: [
        { name: 'cpu', weight: 1 },
        { name: 'memory', weight: 1 },
        { name: 'example.com/gpu', weight: 1 },
      ],
    },
    pod: podRequesting([{ cpu: '1', memory: '5000', 'example.com/gpu': '1' }]),
    nodes: [
      nodeWith('n1', { cpu: '4', memory: '10000', 'example.com/gpu': '4' }),
      nodeWith('n2', { cpu: '4', memory: '10000' }),
    ],
    // n1: 0.25, 0.5, 0.25 → std 0.1179 → 88; n2 has no GPU: 0.25, 0.5 → 87.
    want: { n1: 88, n2: 87 },
  },
  {
    name: 'an extended resource the pod does not request is left out',
    args: { resources: [{ name: 'cpu' }, { name: 'memory' }, { name: 'example.com/gpu' }] },
    pod: podRequesting([{ cpu: '1', memory: '5000' }]),
    nodes: [nodeWith('n1', { cpu: '4', memory: '10000', 'example.com/gpu': '4' })],
    want: { n1: 87 },
  },
];

describe('NodeResourcesBalancedAllocation Score', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const scores = await runScorePlugin(nodeResourcesBalancedAllocationRegistration, {
        nodes: c.nodes ?? twoNodes(),
        pods: c.existing,
        pod: c.pod,
        args: c.args,
      });
      expect(scores).toEqual(c.want);
    });
  }
});

describe('NodeResourcesBalancedAllocation args', () => {
  it.each([
    [
      'a weight other than 1',
      { resources: [{ name: 'cpu', weight: 2 }] },
      'resources[0].weight: Invalid value: 2: must be 1',
    ],
    [
      'a duplicate resource',
      { resources: [{ name: 'cpu' }, { name: 'cpu' }] },
      'resources[1].name: Duplicate value: "cpu"',
    ],
    ['resources that are not a list', { resources: { cpu: 1 } }, 'resources: Invalid value'],
  ])('rejects %s', (_name, args, message) => {
    let thrown: unknown;
    try {
      newNodeResourcesBalancedAllocation(args);
    } catch (error) {
      thrown = error;
    }
    expect(isStatusError(thrown, 'Invalid')).toBe(true);
    expect((thrown as Error).message).toContain(message);
  });
});
