// SPDX-License-Identifier: Apache-2.0
import { PluginRegistry, type SchedulerPlugin, type SchedulingProfile } from '@cpkit/core';
import { nodeFixture, runProfile } from '@cpkit/core/testing';
import { describe, expect, it } from 'vitest';
import { nodeWith, podRequesting } from './default-plugins.test-helper.js';
import { defaultPluginRegistrations, defaultProfile, defaultProfileFor } from './index.js';

const registry = (): PluginRegistry => new PluginRegistry(defaultPluginRegistrations);

describe('defaultProfile', () => {
  it("enables S2's plugins through multiPoint in upstream's order with upstream's weights", () => {
    const enabled = defaultProfile.plugins?.multiPoint?.enabled ?? [];
    const mine = enabled.filter((p) =>
      [
        'SchedulingGates',
        'PrioritySort',
        'NodeUnschedulable',
        'NodeName',
        'TaintToleration',
        'NodeAffinity',
        'NodePorts',
        'NodeResourcesFit',
        'NodeResourcesBalancedAllocation',
        'ImageLocality',
        'DefaultBinder',
      ].includes(p.name),
    );
    expect(mine).toEqual([
      { name: 'SchedulingGates' },
      { name: 'PrioritySort' },
      { name: 'NodeUnschedulable' },
      { name: 'NodeName' },
      { name: 'TaintToleration', weight: 3 },
      { name: 'NodeAffinity', weight: 2 },
      { name: 'NodePorts' },
      { name: 'NodeResourcesFit', weight: 1 },
      { name: 'NodeResourcesBalancedAllocation', weight: 1 },
      { name: 'ImageLocality', weight: 1 },
      { name: 'DefaultBinder' },
    ]);
    expect(defaultProfile.schedulerName).toBe('default-scheduler');
  });

  it('enables only registered plugins, so every default profile resolves against its registry', () => {
    const names = (defaultProfile.plugins?.multiPoint?.enabled ?? []).map((p) => p.name);
    const registered = new Set(defaultPluginRegistrations.map((r) => r.name));
    expect(names.filter((n) => !registered.has(n))).toEqual([]);
    expect(new Set(names)).toEqual(registered);
  });

  it('places topology spreading and inter-pod affinity where upstream does once they are registered', () => {
    const extra: SchedulerPlugin[] = ['PodTopologySpread', 'InterPodAffinity'].map((name) => ({
      name,
      factory: () => ({ name }),
    }));
    const names = (
      defaultProfileFor([...defaultPluginRegistrations, ...extra]).plugins?.multiPoint?.enabled ?? []
    ).map((p) => `${p.name}${p.weight ? `:${p.weight}` : ''}`);
    expect(
      names.slice(
        names.indexOf('NodeResourcesFit:1'),
        names.indexOf('NodeResourcesBalancedAllocation:1') + 1,
      ),
    ).toEqual([
      'NodeResourcesFit:1',
      'PodTopologySpread:2',
      'InterPodAffinity:2',
      'DefaultPreemption',
      'NodeResourcesBalancedAllocation:1',
    ]);
  });
});

describe('the default plugins as one profile', () => {
  const cluster = () => [
    nodeWith('small', { cpu: '1', memory: '4Gi' }),
    {
      ...nodeWith('tainted', { cpu: '8', memory: '16Gi' }),
      spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' as const }] },
    },
    nodeWith('big', { cpu: '8', memory: '16Gi' }),
    nodeWith('busy', { cpu: '8', memory: '16Gi' }),
  ];
  const existing = () => [podRequesting([{ cpu: '6', memory: '12Gi' }], { nodeName: 'busy' })];

  it('filters and scores: the pod goes to the emptiest node that fits and tolerates', async () => {
    const result = await runProfile({
      registry: registry(),
      profile: {},
      defaultProfile,
      nodes: cluster(),
      pods: existing(),
      pod: podRequesting([{ cpu: '2', memory: '1Gi' }]),
      random: () => 0,
    });
    expect(result.status.code).toBe('Success');
    expect(result.feasible.sort()).toEqual(['big', 'busy']);
    expect(result.statuses.small.message()).toBe('Insufficient cpu');
    expect(result.statuses.tainted.message()).toBe('node(s) had untolerated taint {dedicated: db}');
    expect(result.scores.big).toBeGreaterThan(result.scores.busy);
    expect(result.selected).toBe('big');
  });

  it('with MostAllocated configured, the same pod packs onto the busy node', async () => {
    const profile: SchedulingProfile = {
      pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }],
      // Balanced allocation would pull the other way; a packing profile turns it off.
      plugins: { score: { disabled: [{ name: 'NodeResourcesBalancedAllocation' }] } },
    };
    const result = await runProfile({
      registry: registry(),
      profile,
      defaultProfile,
      nodes: cluster(),
      pods: existing(),
      pod: podRequesting([{ cpu: '1', memory: '1Gi' }]),
      random: () => 0,
    });
    expect(result.selected).toBe('busy');
  });

  it('a pod that fits nowhere gets the upstream-style message', async () => {
    const result = await runProfile({
      registry: registry(),
      profile: {},
      defaultProfile,
      nodes: cluster(),
      pods: existing(),
      pod: podRequesting([{ cpu: '9', memory: '1Gi' }]),
    });
    expect(result.status.code).toBe('Unschedulable');
    expect(result.message).toBe(
      '0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 3 Insufficient cpu.',
    );
  });

  it('node affinity and a cordoned node in the same cycle', async () => {
    const nodes = [
      nodeFixture({ name: 'a', labels: { zone: 'z1' }, unschedulable: true }),
      nodeFixture({ name: 'b', labels: { zone: 'z2' } }),
      nodeFixture({ name: 'c', labels: { zone: 'z1' } }),
    ];
    const pod = podRequesting([{ cpu: '100m' }]);
    pod.spec!.nodeSelector = { zone: 'z1' };
    const result = await runProfile({ registry: registry(), profile: {}, defaultProfile, nodes, pod });
    expect(result.selected).toBe('c');
    expect(result.statuses.a.message()).toBe('node(s) were unschedulable');
    expect(result.statuses.b.message()).toBe("node(s) didn't match Pod's node affinity/selector");
  });
});
