// SPDX-License-Identifier: Apache-2.0
import { PluginRegistry, type StatusError } from '@cpkit/core';
import {
  describeSchedulingPluginTable,
  nodeFixture,
  podFixture,
  runProfile,
  runScorePlugin,
} from '@cpkit/core/testing';
import { defaultPluginRegistrations, defaultProfile } from '@cpkit/scheduler';
import { describe, expect, it } from 'vitest';
import { type NodeLabelPackingArgs, nodeLabelPackingRegistration } from './node-label-packing.js';

// Four 4-CPU / 8Gi nodes: two in the reserved pool, one spot node, one without a pool label.
const capacity = { cpu: '4', memory: '8Gi', pods: '110' };
const nodes = [
  nodeFixture({ name: 'reserved-a', labels: { 'node-pool': 'reserved' }, capacity }),
  nodeFixture({ name: 'reserved-b', labels: { 'node-pool': 'reserved' }, capacity }),
  nodeFixture({ name: 'spot-a', labels: { 'node-pool': 'spot' }, capacity }),
  nodeFixture({ name: 'plain', capacity }),
];
/** A pod already running on `node` with the given requests. */
const running = (name: string, node: string, cpu: string, memory: string) =>
  podFixture({ name, nodeName: node, requests: { cpu, memory } });
const pod = podFixture({ name: 'web', requests: { cpu: '1', memory: '2Gi' } });
const reservedPool: NodeLabelPackingArgs = { labelKey: 'node-pool', preferredValues: ['reserved'] };

describeSchedulingPluginTable(
  'NodeLabelPacking scores (normalized, best node 100)',
  nodeLabelPackingRegistration,
  [
    {
      name: 'empty pool nodes tie; nodes outside the pool score 0',
      nodes,
      pod,
      args: reservedPool,
      want: { 'reserved-a': 100, 'reserved-b': 100, 'spot-a': 0, plain: 0 },
    },
    {
      // reserved-b: (2+1)/4 CPU = 75 %, (2+4)/8 memory = 75 % → 101 + 75 = 176 (the best);
      // reserved-a: 25 %, 25 % → 101 + 25 = 126 → 126 × 100 / 176 = 71.
      name: 'the fuller pool node wins (packing)',
      nodes,
      pods: [running('db', 'reserved-b', '2', '4Gi')],
      pod,
      args: reservedPool,
      want: { 'reserved-a': 71, 'reserved-b': 100, 'spot-a': 0, plain: 0 },
    },
    {
      // Any value of the label counts: the spot node (3 CPU + the pod's 1 = 100 %) is the fullest.
      name: 'without preferredValues any value of the label counts',
      nodes,
      pods: [running('batch', 'spot-a', '3', '6Gi')],
      pod,
      args: { labelKey: 'node-pool' },
      want: { 'reserved-a': 62, 'reserved-b': 62, 'spot-a': 100, plain: 0 },
    },
    {
      // reserved is tier 2 (202 + 25 = 227), spot tier 1 (101 + 100 = 201 → 88): a more preferred value
      // beats a fuller node of a less preferred one.
      name: 'an earlier preferred value always ranks above a later one',
      nodes,
      pods: [running('batch', 'spot-a', '3', '6Gi')],
      pod,
      args: { labelKey: 'node-pool', preferredValues: ['reserved', 'spot'] },
      want: { 'reserved-a': 100, 'reserved-b': 100, 'spot-a': 88, plain: 0 },
    },
    {
      // Best-effort pods count 100m CPU / 200Mi, like the default plugins' non-zero requests:
      // reserved-b 101 + 52 = 153, reserved-a 101 + 2 = 103 → 67.
      name: 'a pod without requests still packs',
      nodes,
      pods: [running('db', 'reserved-b', '2', '4Gi')],
      pod: podFixture({ name: 'best-effort' }),
      args: reservedPool,
      want: { 'reserved-a': 67, 'reserved-b': 100, 'spot-a': 0, plain: 0 },
    },
    {
      name: 'no feasible node in the pool: PreScore skips, every node 0',
      nodes,
      pod,
      args: { labelKey: 'node-pool', preferredValues: ['gpu'] },
      want: { 'reserved-a': 0, 'reserved-b': 0, 'spot-a': 0, plain: 0 },
    },
  ],
);

describe('NodeLabelPacking', () => {
  it('scores only the feasible nodes it is given', async () => {
    const scores = await runScorePlugin(nodeLabelPackingRegistration, {
      nodes,
      pod,
      pods: [running('db', 'reserved-b', '2', '4Gi')],
      args: reservedPool,
      feasibleNodes: ['reserved-a', 'plain'],
    });
    expect(scores).toEqual({ 'reserved-a': 100, plain: 0 });
  });

  it.each([
    [undefined, 'labelKey: Required value'],
    [{}, 'labelKey: Required value'],
    [{ labelKey: 'not a key!' }, 'labelKey: Invalid value: "not a key!"'],
    [
      { labelKey: 'node-pool', preferredValues: 'reserved' },
      'preferredValues: Invalid value: "reserved": must be a list',
    ],
    [{ labelKey: 'node-pool', preferredValues: ['a', 'a'] }, 'preferredValues[1]: Duplicate value: "a"'],
    [{ labelKey: 'node-pool', weight: 3 }, 'weight: unknown field "weight"'],
  ])('rejects args %j naming the field', async (args, message) => {
    const error = (await Promise.resolve()
      .then(() => nodeLabelPackingRegistration.factory(args as NodeLabelPackingArgs, undefined as never))
      .catch((e: unknown) => e)) as StatusError;
    expect(error.reason).toBe('Invalid');
    expect(error.message).toContain(message);
  });
});

describe('NodeLabelPacking in the default profile', () => {
  const registry = new PluginRegistry([...defaultPluginRegistrations, nodeLabelPackingRegistration]);
  const withPacking = {
    // multiPoint enables it at every point it implements (PreScore and Score), with the Score weight.
    plugins: { multiPoint: { enabled: [{ name: 'NodeLabelPacking', weight: 5 }] } },
    pluginConfig: [{ name: 'NodeLabelPacking', args: reservedPool }],
  };
  const cluster = {
    nodes,
    pods: [running('db', 'reserved-b', '2', '4Gi'), running('cache', 'spot-a', '500m', '1Gi')],
    pod,
  };

  it.each([
    // The default profile spreads (NodeResourcesFit LeastAllocated): an empty node outside the pool wins.
    { name: 'the default profile', profile: {}, want: ['reserved-a', 'plain'] },
    // With NodeLabelPacking at weight 5, the fuller pool node wins.
    { name: 'NodeLabelPacking at weight 5', profile: withPacking, want: ['reserved-b'] },
  ])('$name selects $want', async ({ profile, want }) => {
    const result = await runProfile({ ...cluster, registry, profile, defaultProfile, random: () => 0 });
    expect(result.status.toString()).toBe('Success');
    expect(want).toContain(result.selected);
    if (profile === withPacking) {
      // reserved-b is best; the empty pool node still beats both nodes outside the pool.
      expect(result.scores['reserved-b']).toBeGreaterThan(result.scores['reserved-a']);
      expect(result.scores['reserved-a']).toBeGreaterThan(result.scores.plain);
      expect(result.scores['reserved-a']).toBeGreaterThan(result.scores['spot-a']);
    }
  });

  it('enabled at score without preScore: Error naming the missing state', async () => {
    const scoreOnly = { ...withPacking, plugins: { score: { enabled: [{ name: 'NodeLabelPacking' }] } } };
    const result = await runProfile({ ...cluster, registry, profile: scoreOnly, defaultProfile });
    expect(result.status.code).toBe('Error');
    expect(result.status.message()).toContain('enable NodeLabelPacking at preScore too');
  });

  it('still places the pod outside the pool when the pool is full (it scores, never filters)', async () => {
    const full = [running('big-a', 'reserved-a', '4', '1Gi'), running('big-b', 'reserved-b', '4', '1Gi')];
    const result = await runProfile({
      nodes,
      pods: full,
      pod,
      registry,
      profile: withPacking,
      defaultProfile,
    });
    expect(result.status.code).toBe('Success');
    expect(['spot-a', 'plain']).toContain(result.selected);
    expect(result.statuses['reserved-a'].message()).toBe('Insufficient cpu');
  });
});
