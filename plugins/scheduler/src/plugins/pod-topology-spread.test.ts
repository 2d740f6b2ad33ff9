// SPDX-License-Identifier: Apache-2.0
import { PluginRegistry, SchedulerNodeInfo, SchedulingSnapshot, StatusError } from '@cpkit/core';
import { describeSchedulingPluginTable, nodeFixture, podFixture, runProfile } from '@cpkit/core/testing';
import type { Node, Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { defaultPluginRegistrations, defaultProfile } from './index.js';
import {
  PodTopologySpread,
  type PodTopologySpreadArgs,
  podTopologySpreadRegistration,
} from './pod-topology-spread.js';
import {
  bareNode,
  FakeSnapshot,
  handleFor,
  node,
  pod,
  runFilter,
  runScore,
  summarize,
} from './pod-topology-spread.test-helper.js';

const zone = 'topology.kubernetes.io/zone';
const hostname = 'kubernetes.io/hostname';
const ok = 'Success';
const skewFail = "Unschedulable: node(s) didn't match pod topology spread constraints";
const labelFail =
  "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)";

function constraint(
  maxSkew: number,
  topologyKey: string,
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway' = 'DoNotSchedule',
  extra: Partial<TopologySpreadConstraint> = {},
): TopologySpreadConstraint {
  return {
    maxSkew,
    topologyKey,
    whenUnsatisfiable,
    labelSelector: { matchLabels: { foo: 'bar' } },
    ...extra,
  };
}

const fooPod = (nodeName: string, extra: Parameters<typeof pod>[0] = {}): Pod =>
  pod({ nodeName, labels: { foo: 'bar' }, ...extra });
const repeat = (n: number, make: () => Pod): Pod[] => Array.from({ length: n }, make);

const fourNodes: Node[] = [
  node('node-a', { [zone]: 'zone1' }),
  node('node-b', { [zone]: 'zone1' }),
  node('node-x', { [zone]: 'zone2' }),
  node('node-y', { [zone]: 'zone2' }),
];

function plugin(snapshot: FakeSnapshot, args?: PodTopologySpreadArgs, objects = {}): PodTopologySpread {
  return podTopologySpreadRegistration.factory(args, handleFor(snapshot, objects)) as PodTopologySpread;
}

describe('PodTopologySpread Filter', () => {
  const cases: {
    name: string;
    incoming: Pod;
    nodes?: Node[];
    existing: Pod[];
    want: Record<string, string>;
  }[] = [
    {
      name: 'no existing pods: every node fits',
      incoming: pod({ labels: { foo: 'bar' }, spec: { topologySpreadConstraints: [constraint(1, zone)] } }),
      existing: [],
      want: { 'node-a': ok, 'node-b': ok, 'node-x': ok, 'node-y': ok },
    },
    {
      name: 'zones 2/1 with maxSkew 1: only the emptier zone fits',
      incoming: pod({ labels: { foo: 'bar' }, spec: { topologySpreadConstraints: [constraint(1, zone)] } }),
      existing: [fooPod('node-a'), fooPod('node-b'), fooPod('node-x')],
      want: { 'node-a': skewFail, 'node-b': skewFail, 'node-x': ok, 'node-y': ok },
    },
    {
      name: 'an incoming pod that does not match its own selector does not count itself',
      incoming: pod({ labels: { foo: 'other' }, spec: { topologySpreadConstraints: [constraint(1, zone)] } }),
      existing: [fooPod('node-a'), fooPod('node-b'), fooPod('node-x')],
      want: { 'node-a': ok, 'node-b': ok, 'node-x': ok, 'node-y': ok },
    },
    {
      name: 'pods of another namespace and terminating pods do not count',
      incoming: pod({ labels: { foo: 'bar' }, spec: { topologySpreadConstraints: [constraint(1, zone)] } }),
      existing: [
        fooPod('node-a', { namespace: 'other' }),
        fooPod('node-a', { namespace: 'other' }),
        fooPod('node-b', { terminating: true }),
        fooPod('node-b', { terminating: true }),
      ],
      want: { 'node-a': ok, 'node-b': ok, 'node-x': ok, 'node-y': ok },
    },
    {
      name: 'a node without the topology key is unresolvable and its pods do not count',
      incoming: pod({ labels: { foo: 'bar' }, spec: { topologySpreadConstraints: [constraint(1, zone)] } }),
      nodes: [node('node-a', { [zone]: 'zone1' }), node('node-b'), node('node-x', { [zone]: 'zone2' })],
      // zone1 holds 1, zone2 none: node-b's three pods belong to no zone.
      existing: [fooPod('node-a'), fooPod('node-b'), fooPod('node-b'), fooPod('node-b')],
      want: { 'node-a': skewFail, 'node-b': labelFail, 'node-x': ok },
    },
    {
      name: 'hostname spread 2/1/0/3 with maxSkew 1: only the empty node fits',
      incoming: pod({
        labels: { foo: 'bar' },
        spec: { topologySpreadConstraints: [constraint(1, hostname)] },
      }),
      existing: [
        ...repeat(2, () => fooPod('node-a')),
        fooPod('node-b'),
        ...repeat(3, () => fooPod('node-y')),
      ],
      want: { 'node-a': skewFail, 'node-b': skewFail, 'node-x': ok, 'node-y': skewFail },
    },
    {
      name: 'hostname spread 2/1/0/3 with maxSkew 2: node-b and node-x fit',
      incoming: pod({
        labels: { foo: 'bar' },
        spec: { topologySpreadConstraints: [constraint(2, hostname)] },
      }),
      existing: [
        ...repeat(2, () => fooPod('node-a')),
        fooPod('node-b'),
        ...repeat(3, () => fooPod('node-y')),
      ],
      want: { 'node-a': skewFail, 'node-b': ok, 'node-x': ok, 'node-y': skewFail },
    },
    {
      name: 'zone and hostname constraints together: a node must satisfy both',
      incoming: pod({
        labels: { foo: 'bar' },
        spec: { topologySpreadConstraints: [constraint(1, zone), constraint(1, hostname)] },
      }),
      existing: [fooPod('node-a'), ...repeat(2, () => fooPod('node-x'))],
      want: { 'node-a': skewFail, 'node-b': ok, 'node-x': skewFail, 'node-y': skewFail },
    },
    {
      name: 'minDomains above the number of zones makes the global minimum 0',
      incoming: pod({
        labels: { foo: 'bar' },
        spec: { topologySpreadConstraints: [constraint(1, zone, 'DoNotSchedule', { minDomains: 3 })] },
      }),
      existing: [fooPod('node-a'), fooPod('node-x')],
      want: { 'node-a': skewFail, 'node-b': skewFail, 'node-x': skewFail, 'node-y': skewFail },
    },
    {
      name: 'minDomains met: the real minimum applies',
      incoming: pod({
        labels: { foo: 'bar' },
        spec: { topologySpreadConstraints: [constraint(1, zone, 'DoNotSchedule', { minDomains: 2 })] },
      }),
      existing: [fooPod('node-a'), fooPod('node-x')],
      want: { 'node-a': ok, 'node-b': ok, 'node-x': ok, 'node-y': ok },
    },
    {
      name: 'nodeAffinityPolicy Honor (default): zones outside the pod node affinity are not domains',
      incoming: pod({
        labels: { foo: 'bar' },
        spec: {
          topologySpreadConstraints: [constraint(1, zone)],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: zone, operator: 'In', values: ['zone1', 'zone2'] }] },
                ],
              },
            },
          },
        },
      }),
      nodes: [
        node('node-a', { [zone]: 'zone1' }),
        node('node-x', { [zone]: 'zone2' }),
        node('node-z', { [zone]: 'zone3' }),
      ],
      existing: [fooPod('node-a'), fooPod('node-x')],
      want: { 'node-a': ok, 'node-x': ok, 'node-z': ok },
    },
    {
      name: 'nodeAffinityPolicy Ignore: every zone counts',
      incoming: pod({
        labels: { foo: 'bar' },
        spec: {
          topologySpreadConstraints: [constraint(1, zone, 'DoNotSchedule', { nodeAffinityPolicy: 'Ignore' })],
          nodeSelector: { [zone]: 'zone1' },
        },
      }),
      nodes: [
        node('node-a', { [zone]: 'zone1' }),
        node('node-x', { [zone]: 'zone2' }),
        node('node-z', { [zone]: 'zone3' }),
      ],
      existing: [fooPod('node-a'), fooPod('node-x')],
      want: { 'node-a': skewFail, 'node-x': skewFail, 'node-z': ok },
    },
    {
      name: 'nodeTaintsPolicy Honor: a zone with only untolerated tainted nodes is not a domain',
      incoming: pod({
        labels: { foo: 'bar' },
        spec: {
          topologySpreadConstraints: [constraint(1, zone, 'DoNotSchedule', { nodeTaintsPolicy: 'Honor' })],
        },
      }),
      nodes: [
        node('node-a', { [zone]: 'zone1' }),
        node('node-x', { [zone]: 'zone2' }),
        node(
          'node-z',
          { [zone]: 'zone3' },
          { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
        ),
      ],
      existing: [fooPod('node-a'), fooPod('node-x')],
      want: { 'node-a': ok, 'node-x': ok, 'node-z': ok },
    },
    {
      name: 'nodeTaintsPolicy Ignore (default): tainted nodes count',
      incoming: pod({ labels: { foo: 'bar' }, spec: { topologySpreadConstraints: [constraint(1, zone)] } }),
      nodes: [
        node('node-a', { [zone]: 'zone1' }),
        node('node-x', { [zone]: 'zone2' }),
        node(
          'node-z',
          { [zone]: 'zone3' },
          { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
        ),
      ],
      existing: [fooPod('node-a'), fooPod('node-x')],
      want: { 'node-a': skewFail, 'node-x': skewFail, 'node-z': ok },
    },
    {
      name: 'a tolerated taint keeps the node a domain under nodeTaintsPolicy Honor',
      incoming: pod({
        labels: { foo: 'bar' },
        spec: {
          topologySpreadConstraints: [constraint(1, zone, 'DoNotSchedule', { nodeTaintsPolicy: 'Honor' })],
          tolerations: [{ key: 'dedicated', operator: 'Exists' }],
        },
      }),
      nodes: [
        node('node-a', { [zone]: 'zone1' }),
        node('node-x', { [zone]: 'zone2' }),
        node(
          'node-z',
          { [zone]: 'zone3' },
          { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
        ),
      ],
      existing: [fooPod('node-a'), fooPod('node-x')],
      want: { 'node-a': skewFail, 'node-x': skewFail, 'node-z': ok },
    },
    {
      name: "matchLabelKeys narrows the selector to the pod's own values",
      incoming: pod({
        labels: { foo: 'bar', rev: '2' },
        spec: {
          topologySpreadConstraints: [constraint(1, zone, 'DoNotSchedule', { matchLabelKeys: ['rev'] })],
        },
      }),
      existing: repeat(2, () => pod({ nodeName: 'node-a', labels: { foo: 'bar', rev: '1' } })),
      want: { 'node-a': ok, 'node-b': ok, 'node-x': ok, 'node-y': ok },
    },
    {
      name: 'without matchLabelKeys the same pods count',
      incoming: pod({
        labels: { foo: 'bar', rev: '2' },
        spec: { topologySpreadConstraints: [constraint(1, zone)] },
      }),
      existing: repeat(2, () => pod({ nodeName: 'node-a', labels: { foo: 'bar', rev: '1' } })),
      want: { 'node-a': skewFail, 'node-b': skewFail, 'node-x': ok, 'node-y': ok },
    },
  ];

  it.each(cases)('$name', async ({ incoming, nodes, existing, want }) => {
    const snapshot = new FakeSnapshot(nodes ?? fourNodes, existing);
    const { preFilter, filter } = await runFilter(plugin(snapshot), incoming, snapshot);
    expect(preFilter.code).toBe('Success');
    expect(summarize(filter)).toEqual(want);
  });

  it('skips Filter when the pod has only soft constraints', async () => {
    const snapshot = new FakeSnapshot(fourNodes, []);
    const incoming = pod({
      labels: { foo: 'bar' },
      spec: { topologySpreadConstraints: [constraint(1, zone, 'ScheduleAnyway')] },
    });
    const { preFilter } = await runFilter(plugin(snapshot), incoming, snapshot);
    expect(preFilter.code).toBe('Skip');
  });

  it('reports an invalid selector as an Error status, not a throw', async () => {
    const snapshot = new FakeSnapshot(fourNodes, []);
    const incoming = pod({
      spec: {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: zone,
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] },
          },
        ],
      },
    });
    const { preFilter } = await runFilter(plugin(snapshot), incoming, snapshot);
    expect(preFilter.code).toBe('Error');
    expect(preFilter.message()).toContain("obtaining pod's hard topology spread constraints");
  });

  it('AddPod/RemovePod update the counts on a cloned state only (preemption what-ifs)', async () => {
    const victims = [fooPod('node-a'), fooPod('node-b')];
    const snapshot = new FakeSnapshot(fourNodes, [...victims, fooPod('node-x')]);
    const pl = plugin(snapshot);
    const incoming = pod({
      labels: { foo: 'bar' },
      spec: { topologySpreadConstraints: [constraint(1, zone)] },
    });
    const { state } = await runFilter(pl, incoming, snapshot);
    const nodeA = snapshot.get('node-a')!;
    const nodeX = snapshot.get('node-x')!;
    expect(pl.filter(state, incoming, nodeA).code).toBe('Unschedulable');

    const whatIf = state.clone();
    expect(pl.removePod(whatIf, incoming, { pod: victims[0] }, nodeA).isSuccess()).toBe(true);
    // zones now 1/1: node-a fits in the copy, the original is untouched.
    expect(pl.filter(whatIf, incoming, nodeA).isSuccess()).toBe(true);
    expect(pl.filter(state, incoming, nodeA).code).toBe('Unschedulable');

    // Two more matching pods in zone2 make zone1 the emptier one again.
    pl.addPod(whatIf, incoming, { pod: fooPod('node-x') }, nodeX);
    pl.addPod(whatIf, incoming, { pod: fooPod('node-x') }, nodeX);
    expect(pl.filter(whatIf, incoming, nodeA).isSuccess()).toBe(true);
    expect(pl.filter(whatIf, incoming, nodeX).code).toBe('Unschedulable');
    // A pod of another namespace changes nothing.
    pl.addPod(whatIf, incoming, { pod: fooPod('node-a', { namespace: 'other' }) }, nodeA);
    pl.addPod(whatIf, incoming, { pod: fooPod('node-a', { namespace: 'other' }) }, nodeA);
    expect(pl.filter(whatIf, incoming, nodeA).isSuccess()).toBe(true);
  });

  it('applies configured default constraints (defaultingType List) with the selector of the Services selecting the pod', async () => {
    const snapshot = new FakeSnapshot(fourNodes, [pod({ nodeName: 'node-a', labels: { app: 'web' } })]);
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' } },
    };
    const pl = plugin(
      snapshot,
      {
        defaultingType: 'List',
        defaultConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'DoNotSchedule' }],
      },
      { services: [service] },
    );
    const { preFilter, filter } = await runFilter(pl, pod({ labels: { app: 'web' } }), snapshot);
    expect(preFilter.code).toBe('Success');
    expect(summarize(filter)).toEqual({ 'node-a': skewFail, 'node-b': skewFail, 'node-x': ok, 'node-y': ok });

    // Not selected by any Service (nor owned by a workload): no default constraints.
    const alone = await runFilter(pl, pod({ labels: { app: 'other' } }), snapshot);
    expect(alone.preFilter.code).toBe('Skip');
  });
});

describe('PodTopologySpread Score', () => {
  it.each([
    {
      name: 'no existing pods: every node gets the maximum',
      nodes: [node('node-a'), node('node-b')],
      existing: [] as Pod[],
      constraints: [constraint(1, hostname, 'ScheduleAnyway')],
      want: { 'node-a': 100, 'node-b': 100 },
    },
    {
      name: 'hostname spread 2/1/0: fewer matching pods score higher',
      nodes: [node('node-a'), node('node-b'), node('node-x')],
      existing: [fooPod('node-a'), fooPod('node-a'), fooPod('node-b')],
      constraints: [constraint(1, hostname, 'ScheduleAnyway')],
      // raw: round(2·ln5)=3, round(ln5)=2, 0 → 100·(max+min−raw)/max
      want: { 'node-a': 0, 'node-b': 33, 'node-x': 100 },
    },
    {
      name: 'zone spread 2/1: the zone with fewer matching pods scores higher',
      nodes: [
        node('node-a', { [zone]: 'zone1' }),
        node('node-b', { [zone]: 'zone1' }),
        node('node-x', { [zone]: 'zone2' }),
      ],
      existing: [fooPod('node-a'), fooPod('node-b'), fooPod('node-x')],
      constraints: [constraint(1, zone, 'ScheduleAnyway')],
      // raw: round(2·ln4)=3 in zone1, round(ln4)=1 in zone2
      want: { 'node-a': 33, 'node-b': 33, 'node-x': 100 },
    },
    {
      name: "a node lacking the constraint's topology key scores 0",
      nodes: [node('node-a', { [zone]: 'zone1' }), node('node-x', { [zone]: 'zone2' }), node('node-c')],
      existing: [fooPod('node-a')],
      constraints: [constraint(1, zone, 'ScheduleAnyway')],
      want: { 'node-a': 0, 'node-x': 100, 'node-c': 0 },
    },
  ])('$name', async ({ nodes, existing, constraints, want }) => {
    const snapshot = new FakeSnapshot(nodes, existing);
    const incoming = pod({ labels: { foo: 'bar' }, spec: { topologySpreadConstraints: constraints } });
    const { preScore, scores } = await runScore(plugin(snapshot), incoming, snapshot);
    expect(preScore.code).toBe('Success');
    expect(scores).toEqual(want);
  });

  it('system defaults spread the pods of a Service over nodes (maxSkew 3) and zones (maxSkew 5)', async () => {
    const nodes = [
      node('node-a', { [zone]: 'zone1' }),
      node('node-b', { [zone]: 'zone1' }),
      node('node-x', { [zone]: 'zone2' }),
      // No zone label: still scored for hostname spreading under the system defaults.
      node('node-n'),
    ];
    const web = (nodeName: string): Pod => pod({ nodeName, labels: { app: 'web' } });
    const snapshot = new FakeSnapshot(nodes, [web('node-a'), web('node-a'), web('node-x')]);
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' } },
    };
    const pl = plugin(snapshot, undefined, { services: [service] });
    const { preScore, scores } = await runScore(pl, pod({ labels: { app: 'web' } }), snapshot);
    expect(preScore.code).toBe('Success');
    // raw: a = 2·ln6+2 + 2·ln5+4 ≈ 13, b ≈ 9, x ≈ 9, n = 2 (hostname only)
    expect(scores).toEqual({ 'node-a': 15, 'node-b': 46, 'node-x': 46, 'node-n': 100 });
  });

  it('system defaults use the selector of the controlling ReplicaSet', async () => {
    const snapshot = new FakeSnapshot(
      [node('node-a'), node('node-b')],
      [pod({ nodeName: 'node-a', labels: { app: 'rs' } })],
    );
    const replicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'rs', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'rs' } } },
    };
    const pl = plugin(snapshot, undefined, { 'replicasets.apps': [replicaSet] });
    const owned = pod({
      labels: { app: 'rs' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true },
      ],
    });
    const { preScore, scores } = await runScore(pl, owned, snapshot);
    expect(preScore.code).toBe('Success');
    expect(scores['node-b']).toBe(100);
    expect(scores['node-a']).toBeLessThan(100);
  });

  it.each([
    {
      name: 'pod with only hard constraints',
      incoming: pod({ labels: { foo: 'bar' }, spec: { topologySpreadConstraints: [constraint(1, zone)] } }),
    },
    { name: 'pod without constraints that nothing selects', incoming: pod({ labels: { foo: 'bar' } }) },
  ])('PreScore skips a $name', async ({ incoming }) => {
    const snapshot = new FakeSnapshot(fourNodes, []);
    const { preScore } = await runScore(plugin(snapshot), incoming, snapshot);
    expect(preScore.code).toBe('Skip');
  });

  it('nodes lacking a topology key are ignored even without any zone label anywhere', async () => {
    const nodes = [bareNode('node-a'), bareNode('node-b')];
    const snapshot = new FakeSnapshot(nodes, []);
    const incoming = pod({
      labels: { foo: 'bar' },
      spec: { topologySpreadConstraints: [constraint(1, zone, 'ScheduleAnyway')] },
    });
    const { scores } = await runScore(plugin(snapshot), incoming, snapshot);
    expect(scores).toEqual({ 'node-a': 0, 'node-b': 0 });
  });
});

describe('PodTopologySpreadArgs', () => {
  it.each([
    { args: { defaultingType: 'Sometimes' }, field: 'defaultingType' },
    {
      args: {
        defaultingType: 'System',
        defaultConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'ScheduleAnyway' }],
      },
      field: 'defaultConstraints',
    },
    {
      args: {
        defaultingType: 'List',
        defaultConstraints: [{ maxSkew: 0, topologyKey: zone, whenUnsatisfiable: 'ScheduleAnyway' }],
      },
      field: 'defaultConstraints[0].maxSkew',
    },
    {
      args: {
        defaultingType: 'List',
        defaultConstraints: [{ maxSkew: 1, topologyKey: '', whenUnsatisfiable: 'ScheduleAnyway' }],
      },
      field: 'defaultConstraints[0].topologyKey',
    },
    {
      args: {
        defaultingType: 'List',
        defaultConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'Maybe' }],
      },
      field: 'defaultConstraints[0].whenUnsatisfiable',
    },
    {
      args: {
        defaultingType: 'List',
        defaultConstraints: [
          { maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: {} },
        ],
      },
      field: 'defaultConstraints[0].labelSelector',
    },
    {
      args: {
        defaultingType: 'List',
        defaultConstraints: [
          { maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'ScheduleAnyway' },
          { maxSkew: 2, topologyKey: zone, whenUnsatisfiable: 'ScheduleAnyway' },
        ],
      },
      field: 'defaultConstraints[1]',
    },
  ])('rejects $field', ({ args, field }) => {
    const snapshot = new FakeSnapshot([], []);
    let error: unknown;
    try {
      podTopologySpreadRegistration.factory(args as PodTopologySpreadArgs, handleFor(snapshot));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StatusError);
    expect((error as StatusError).reason).toBe('Invalid');
    expect((error as StatusError).details?.causes?.map((c) => c.field)).toContain(field);
  });

  it('accepts no arguments, System, and a valid List', () => {
    const handle = handleFor(new FakeSnapshot([], []));
    expect(podTopologySpreadRegistration.factory(undefined, handle)).toBeInstanceOf(PodTopologySpread);
    expect(podTopologySpreadRegistration.factory({ defaultingType: 'System' }, handle)).toBeInstanceOf(
      PodTopologySpread,
    );
    expect(
      podTopologySpreadRegistration.factory(
        {
          defaultingType: 'List',
          defaultConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'DoNotSchedule' }],
        },
        handle,
      ),
    ).toBeInstanceOf(PodTopologySpread);
  });
});

describe('PodTopologySpread in the framework (plugin-author harness)', () => {
  const zones = [
    nodeFixture({ name: 'a1', labels: { [zone]: 'zone1' } }),
    nodeFixture({ name: 'a2', labels: { [zone]: 'zone1' } }),
    nodeFixture({ name: 'b1', labels: { [zone]: 'zone2' } }),
    nodeFixture({ name: 'c1', labels: { [zone]: 'zone3' } }),
  ];
  const spreadPod = (name: string, nodeName?: string): Pod => ({
    ...podFixture({ name, labels: { foo: 'bar' }, nodeName }),
    spec: {
      ...podFixture({ name, nodeName }).spec!,
      topologySpreadConstraints: [constraint(1, zone)],
    },
  });

  describeSchedulingPluginTable('table', podTopologySpreadRegistration, [
    {
      name: 'Filter: zone spread 2/1/0 with maxSkew 1',
      nodes: zones,
      pods: [spreadPod('p1', 'a1'), spreadPod('p2', 'a2'), spreadPod('p3', 'b1')],
      pod: spreadPod('incoming'),
      want: {
        a1: { code: 'Unschedulable', reason: "didn't match pod topology spread constraints" },
        b1: { code: 'Unschedulable', reason: "didn't match pod topology spread constraints" },
        c1: 'Success',
      },
    },
    {
      name: 'Score: soft hostname spread prefers the emptier node',
      nodes: [nodeFixture({ name: 'n1' }), nodeFixture({ name: 'n2' })],
      pods: [podFixture({ name: 'p1', labels: { foo: 'bar' }, nodeName: 'n1' })],
      pod: {
        ...podFixture({ name: 'incoming', labels: { foo: 'bar' } }),
        spec: {
          containers: [{ name: 'c' }],
          topologySpreadConstraints: [constraint(1, hostname, 'ScheduleAnyway')],
        },
      },
      want: { n1: 0, n2: 100 },
    },
  ]);

  it('the default profile places a spread pod in the empty zone and explains when no zone fits', async () => {
    const registry = new PluginRegistry([...defaultPluginRegistrations]);
    const placed = await runProfile({
      registry,
      profile: defaultProfile,
      nodes: zones,
      pods: [spreadPod('p1', 'a1'), spreadPod('p2', 'b1')],
      pod: spreadPod('incoming'),
    });
    expect(placed.selected).toBe('c1');

    // zone3's only node is tainted: TaintToleration filters it, but it still counts as an empty domain
    // (nodeTaintsPolicy Ignore), so zone1 and zone2 with one pod each are one above the minimum.
    const noRoom = await runProfile({
      registry,
      profile: defaultProfile,
      nodes: [
        zones[0],
        zones[2],
        nodeFixture({
          name: 'c1',
          labels: { [zone]: 'zone3' },
          taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }],
        }),
        nodeFixture({ name: 'bare' }),
      ],
      pods: [spreadPod('p1', 'a1'), spreadPod('p2', 'b1')],
      pod: spreadPod('incoming'),
    });
    expect(noRoom.status.code).toBe('Unschedulable');
    expect(noRoom.message).toMatch(/^0\/4 nodes are available: /);
    expect(noRoom.message).toContain(
      "1 node(s) didn't match pod topology spread constraints (missing required label)",
    );
    expect(noRoom.message).toContain("2 node(s) didn't match pod topology spread constraints.");
  });
});

describe('PodTopologySpread counts kept across cycles', () => {
  it('forget the domains of nodes that left the snapshot and see pods added since', async () => {
    const infos = [
      new SchedulerNodeInfo(nodeFixture({ name: 'a', labels: { [zone]: 'zone1' } })),
      new SchedulerNodeInfo(nodeFixture({ name: 'b', labels: { [zone]: 'zone2' } })),
    ];
    infos[0].addPod(fooPod('a'));
    let snapshot = new SchedulingSnapshot(infos);
    const handle = { ...handleFor(new FakeSnapshot([], [])), nodeInfos: () => snapshot };
    const pl = podTopologySpreadRegistration.factory(undefined, handle) as PodTopologySpread;
    const incoming = pod({
      labels: { foo: 'bar' },
      spec: { topologySpreadConstraints: [constraint(1, zone)] },
    });
    expect(summarize((await runFilter(pl, incoming, snapshot)).filter)).toEqual({ a: skewFail, b: ok });

    // zone2 leaves with its only node: zone1 is the only domain, so its minimum is its own count.
    snapshot = new SchedulingSnapshot([infos[0]]);
    expect(summarize((await runFilter(pl, incoming, snapshot)).filter)).toEqual({ a: ok });

    // zone2 returns with two matching pods more than zone1.
    infos[1].addPod(fooPod('b'));
    infos[1].addPod(fooPod('b'));
    snapshot = new SchedulingSnapshot(infos);
    expect(summarize((await runFilter(pl, incoming, snapshot)).filter)).toEqual({ a: ok, b: skewFail });
  });

  it('match a fresh count as pods come and go, nodes change labels, leave and return', async () => {
    // A small deterministic generator, so a failure replays.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const zoneOf = (i: number): Record<string, string> => (i % 7 === 6 ? {} : { [zone]: `zone${i % 3}` });
    const infos = Array.from(
      { length: 24 },
      (_, i) => new SchedulerNodeInfo(nodeFixture({ name: `n${i}`, labels: zoneOf(i) })),
    );
    let present = infos.slice();
    let snapshot = new SchedulingSnapshot(present);
    const handle = { ...handleFor(new FakeSnapshot([], [])), nodeInfos: () => snapshot };
    const kept = podTopologySpreadRegistration.factory(undefined, handle) as PodTopologySpread;
    const placed: { pod: Pod; info: SchedulerNodeInfo }[] = [];
    const incomings = [
      pod({
        labels: { foo: 'bar' },
        spec: { topologySpreadConstraints: [constraint(1, zone), constraint(2, hostname)] },
      }),
      pod({
        labels: { foo: 'bar' },
        spec: {
          topologySpreadConstraints: [constraint(1, zone, 'DoNotSchedule', { nodeTaintsPolicy: 'Honor' })],
        },
      }),
      pod({
        labels: { foo: 'bar' },
        spec: { nodeSelector: { [zone]: 'zone1' }, topologySpreadConstraints: [constraint(1, hostname)] },
      }),
    ];

    for (let round = 0; round < 150; round++) {
      const action = random(10);
      if (action < 5) {
        const info = present[random(present.length)];
        const p = pod({
          nodeName: info.name,
          labels: random(3) === 0 ? { foo: 'other' } : { foo: 'bar' },
          namespace: random(5) === 0 ? 'other' : 'default',
        });
        info.addPod(p);
        placed.push({ pod: p, info });
      } else if (action < 7 && placed.length > 0) {
        const [{ pod: p, info }] = placed.splice(random(placed.length), 1);
        info.removePod(p);
      } else if (action === 7 && present.length > 3) {
        present = present.filter((_, i) => i !== random(present.length));
        snapshot = new SchedulingSnapshot(present);
      } else if (action === 8) {
        present = infos.filter((info) => present.includes(info) || random(2) === 0);
        snapshot = new SchedulingSnapshot(present);
      } else {
        const info = present[random(present.length)];
        const node = structuredClone(info.node);
        node.metadata!.labels![zone] = `zone${random(4)}`;
        node.spec = random(2) === 0 ? { taints: [{ key: 'k', effect: 'NoSchedule' }] } : {};
        info.setNode(node);
      }
      const incoming = incomings[round % incomings.length];
      const fresh = podTopologySpreadRegistration.factory(undefined, handle) as PodTopologySpread;
      const got = await runFilter(kept, incoming, snapshot);
      const want = await runFilter(fresh, incoming, snapshot);
      expect(summarize(got.filter), `round ${round}`).toEqual(summarize(want.filter));
    }
  });
});
