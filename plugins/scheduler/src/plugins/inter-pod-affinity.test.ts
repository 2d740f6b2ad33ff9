// SPDX-License-Identifier: Apache-2.0
import { type KubeObject, PluginRegistry, StatusError } from '@cpkit/core';
import { describeSchedulingPluginTable, nodeFixture, podFixture, runProfile } from '@cpkit/core/testing';
import type { Affinity, Node, Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { describe, expect, it } from 'vitest';
import { defaultPluginRegistrations, defaultProfile } from './index.js';
import {
  InterPodAffinity,
  type InterPodAffinityArgs,
  interPodAffinityRegistration,
} from './inter-pod-affinity.js';
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
const affinityFail = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
const antiFail = "Unschedulable: node(s) didn't match pod anti-affinity rules";
const existingFail = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules";

const nodes: Node[] = [
  node('node-a', { [zone]: 'z1' }),
  node('node-b', { [zone]: 'z1' }),
  node('node-c', { [zone]: 'z2' }),
];

const service = (value: string): LabelSelector => ({
  matchExpressions: [{ key: 'service', operator: 'In', values: [value] }],
});

function term(
  selector: LabelSelector,
  topologyKey: string,
  extra: Partial<PodAffinityTerm> = {},
): PodAffinityTerm {
  return { labelSelector: selector, topologyKey, ...extra };
}

function affinity(
  terms: {
    required?: PodAffinityTerm[];
    requiredAnti?: PodAffinityTerm[];
    preferred?: [number, PodAffinityTerm][];
    preferredAnti?: [number, PodAffinityTerm][];
  } = {},
): Affinity {
  const weighted = (list?: [number, PodAffinityTerm][]) =>
    list?.map(([weight, podAffinityTerm]) => ({ weight, podAffinityTerm }));
  return {
    podAffinity:
      terms.required || terms.preferred
        ? {
            requiredDuringSchedulingIgnoredDuringExecution: terms.required,
            preferredDuringSchedulingIgnoredDuringExecution: weighted(terms.preferred),
          }
        : undefined,
    podAntiAffinity:
      terms.requiredAnti || terms.preferredAnti
        ? {
            requiredDuringSchedulingIgnoredDuringExecution: terms.requiredAnti,
            preferredDuringSchedulingIgnoredDuringExecution: weighted(terms.preferredAnti),
          }
        : undefined,
  };
}

const web = (nodeName: string, extra: Parameters<typeof pod>[0] = {}): Pod =>
  pod({ nodeName, labels: { service: 'web' }, ...extra });

const namespace = (name: string, labels: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

function plugin(snapshot: FakeSnapshot, args?: InterPodAffinityArgs, objects = {}): InterPodAffinity {
  return interPodAffinityRegistration.factory(args, handleFor(snapshot, objects)) as InterPodAffinity;
}

describe('InterPodAffinity Filter', () => {
  const cases: {
    name: string;
    incoming: Pod;
    nodes?: Node[];
    existing: Pod[];
    namespaces?: KubeObject[];
    /** PreFilter's code; Success unless given. */
    preFilter?: string;
    want: Record<string, string>;
  }[] = [
    {
      name: 'required affinity on hostname: only the node with a matching pod fits',
      incoming: pod({ spec: { affinity: affinity({ required: [term(service('web'), hostname)] }) } }),
      existing: [web('node-a')],
      want: { 'node-a': ok, 'node-b': affinityFail, 'node-c': affinityFail },
    },
    {
      name: 'required affinity on zone: every node of the zone with a matching pod fits',
      incoming: pod({ spec: { affinity: affinity({ required: [term(service('web'), zone)] }) } }),
      existing: [web('node-a')],
      want: { 'node-a': ok, 'node-b': ok, 'node-c': affinityFail },
    },
    {
      name: 'required affinity whose selector matches no pod (and not the pod itself) fits nowhere',
      incoming: pod({ spec: { affinity: affinity({ required: [term(service('web'), hostname)] }) } }),
      existing: [pod({ nodeName: 'node-a', labels: { service: 'db' } })],
      want: { 'node-a': affinityFail, 'node-b': affinityFail, 'node-c': affinityFail },
    },
    {
      name: 'first pod of a group that matches its own affinity fits on every node with the topology key',
      incoming: pod({
        labels: { service: 'web' },
        spec: { affinity: affinity({ required: [term(service('web'), zone)] }) },
      }),
      nodes: [...nodes, bareNode('node-bare', { other: 'x' })],
      existing: [],
      want: { 'node-a': ok, 'node-b': ok, 'node-c': ok, 'node-bare': affinityFail },
    },
    {
      name: "matching pods of another namespace do not satisfy a term limited to the pod's namespace",
      incoming: pod({ spec: { affinity: affinity({ required: [term(service('web'), hostname)] }) } }),
      existing: [web('node-a', { namespace: 'other' })],
      want: { 'node-a': affinityFail, 'node-b': affinityFail, 'node-c': affinityFail },
    },
    {
      name: 'a term naming the other namespace is satisfied by its pods',
      incoming: pod({
        spec: {
          affinity: affinity({ required: [term(service('web'), hostname, { namespaces: ['other'] })] }),
        },
      }),
      existing: [web('node-a', { namespace: 'other' })],
      want: { 'node-a': ok, 'node-b': affinityFail, 'node-c': affinityFail },
    },
    {
      name: 'a namespaceSelector selects namespaces by their labels',
      incoming: pod({
        spec: {
          affinity: affinity({
            required: [term(service('web'), hostname, { namespaceSelector: { matchLabels: { team: 'x' } } })],
          }),
        },
      }),
      existing: [web('node-a', { namespace: 'other' }), web('node-b', { namespace: 'unlabelled' })],
      namespaces: [namespace('other', { team: 'x' }), namespace('unlabelled', {})],
      want: { 'node-a': ok, 'node-b': affinityFail, 'node-c': affinityFail },
    },
    {
      name: 'an empty namespaceSelector selects every namespace',
      incoming: pod({
        spec: {
          affinity: affinity({ required: [term(service('web'), hostname, { namespaceSelector: {} })] }),
        },
      }),
      existing: [web('node-b', { namespace: 'anything' })],
      want: { 'node-a': affinityFail, 'node-b': ok, 'node-c': affinityFail },
    },
    {
      name: 'required anti-affinity on hostname keeps the pod off the node with a matching pod',
      incoming: pod({ spec: { affinity: affinity({ requiredAnti: [term(service('web'), hostname)] }) } }),
      existing: [web('node-a')],
      want: { 'node-a': antiFail, 'node-b': ok, 'node-c': ok },
    },
    {
      name: 'required anti-affinity on zone keeps the pod out of the whole zone',
      incoming: pod({ spec: { affinity: affinity({ requiredAnti: [term(service('web'), zone)] }) } }),
      existing: [web('node-a')],
      want: { 'node-a': antiFail, 'node-b': antiFail, 'node-c': ok },
    },
    {
      name: "an existing pod's required anti-affinity that selects the incoming pod blocks its zone",
      incoming: pod({ labels: { service: 'web' } }),
      existing: [
        pod({
          nodeName: 'node-a',
          spec: { affinity: affinity({ requiredAnti: [term(service('web'), zone)] }) },
        }),
      ],
      want: { 'node-a': existingFail, 'node-b': existingFail, 'node-c': ok },
    },
    {
      name: "an existing pod's anti-affinity limited to its own namespace ignores pods of other namespaces",
      incoming: pod({ labels: { service: 'web' }, namespace: 'default' }),
      existing: [
        pod({
          nodeName: 'node-a',
          namespace: 'other',
          spec: { affinity: affinity({ requiredAnti: [term(service('web'), hostname)] }) },
        }),
      ],
      // Nothing to check: PreFilter skips Filter.
      preFilter: 'Skip',
      want: { 'node-a': ok, 'node-b': ok, 'node-c': ok },
    },
    {
      name: "an existing pod's anti-affinity namespaceSelector matches the incoming pod's namespace labels",
      incoming: pod({ labels: { service: 'web' }, namespace: 'default' }),
      existing: [
        pod({
          nodeName: 'node-a',
          namespace: 'other',
          spec: {
            affinity: affinity({
              requiredAnti: [
                term(service('web'), hostname, { namespaceSelector: { matchLabels: { env: 'prod' } } }),
              ],
            }),
          },
        }),
      ],
      namespaces: [namespace('default', { env: 'prod' })],
      want: { 'node-a': existingFail, 'node-b': ok, 'node-c': ok },
    },
    {
      name: 'affinity to a zone and anti-affinity to a host together',
      incoming: pod({
        spec: {
          affinity: affinity({
            required: [term(service('web'), zone)],
            requiredAnti: [term(service('web'), hostname)],
          }),
        },
      }),
      existing: [web('node-a')],
      want: { 'node-a': antiFail, 'node-b': ok, 'node-c': affinityFail },
    },
    {
      name: 'all required affinity terms must be met by the same pods',
      incoming: pod({
        spec: {
          affinity: affinity({
            required: [term(service('web'), zone), term({ matchLabels: { tier: 'front' } }, zone)],
          }),
        },
      }),
      existing: [web('node-a'), pod({ nodeName: 'node-b', labels: { tier: 'front' } })],
      want: { 'node-a': affinityFail, 'node-b': affinityFail, 'node-c': affinityFail },
    },
  ];

  it.each(cases)(
    '$name',
    async ({ incoming, nodes: nodeList, existing, namespaces, preFilter: code, want }) => {
      const snapshot = new FakeSnapshot(nodeList ?? nodes, existing);
      const { preFilter, filter } = await runFilter(
        plugin(snapshot, undefined, { namespaces: namespaces ?? [] }),
        incoming,
        snapshot,
      );
      expect(preFilter.code).toBe(code ?? 'Success');
      expect(summarize(filter)).toEqual(want);
    },
  );

  it('skips Filter when neither the pod nor any existing pod has required terms', async () => {
    const snapshot = new FakeSnapshot(nodes, [
      web('node-a'),
      pod({
        nodeName: 'node-b',
        spec: { affinity: affinity({ preferred: [[5, term(service('web'), zone)]] }) },
      }),
    ]);
    const { preFilter } = await runFilter(plugin(snapshot), pod({ labels: { service: 'web' } }), snapshot);
    expect(preFilter.code).toBe('Skip');
  });

  it('reports an invalid selector of the incoming pod as an Error status', async () => {
    const snapshot = new FakeSnapshot(nodes, []);
    const incoming = pod({
      spec: {
        affinity: affinity({
          required: [term({ matchExpressions: [{ key: 'service', operator: 'Near' }] }, hostname)],
        }),
      },
    });
    const { preFilter } = await runFilter(plugin(snapshot), incoming, snapshot);
    expect(preFilter.code).toBe('Error');
    expect(preFilter.message()).toContain('parsing pod');
  });

  it('AddPod/RemovePod update a cloned state (preemption what-ifs)', async () => {
    const victim = web('node-a');
    const guard = pod({
      nodeName: 'node-c',
      spec: { affinity: affinity({ requiredAnti: [term(service('web'), hostname)] }) },
    });
    const snapshot = new FakeSnapshot(nodes, [victim, guard]);
    const pl = plugin(snapshot);
    const incoming = pod({
      labels: { service: 'web' },
      spec: { affinity: affinity({ requiredAnti: [term(service('web'), hostname)] }) },
    });
    const { state, filter } = await runFilter(pl, incoming, snapshot);
    expect(summarize(filter)).toEqual({ 'node-a': antiFail, 'node-b': ok, 'node-c': existingFail });

    const whatIf = state.clone();
    const [nodeA, nodeB, nodeC] = snapshot.list();
    pl.removePod(whatIf, incoming, { pod: victim }, nodeA);
    pl.removePod(whatIf, incoming, { pod: guard }, nodeC);
    expect(pl.filter(whatIf, incoming, nodeA).isSuccess()).toBe(true);
    expect(pl.filter(whatIf, incoming, nodeC).isSuccess()).toBe(true);
    // The original state is untouched.
    expect(pl.filter(state, incoming, nodeA).code).toBe('Unschedulable');

    pl.addPod(whatIf, incoming, { pod: web('node-b') }, nodeB);
    expect(pl.filter(whatIf, incoming, nodeB).message()).toBe("node(s) didn't match pod anti-affinity rules");
  });
});

describe('InterPodAffinity Score', () => {
  it.each([
    {
      name: 'preferred affinity to a zone with a matching pod',
      incoming: pod({ spec: { affinity: affinity({ preferred: [[5, term(service('web'), zone)]] }) } }),
      existing: [web('node-a')],
      want: { 'node-a': 100, 'node-b': 100, 'node-c': 0 },
    },
    {
      name: 'preferred anti-affinity to a host with a matching pod',
      incoming: pod({
        spec: { affinity: affinity({ preferredAnti: [[5, term(service('web'), hostname)]] }) },
      }),
      existing: [web('node-a')],
      want: { 'node-a': 0, 'node-b': 100, 'node-c': 100 },
    },
    {
      name: 'preferred affinity and anti-affinity weights add up per node',
      incoming: pod({
        spec: {
          affinity: affinity({
            preferred: [[8, term(service('web'), zone)]],
            preferredAnti: [[2, term(service('web'), hostname)]],
          }),
        },
      }),
      existing: [web('node-a')],
      // raw a = 8 − 2, b = 8, c = 0
      want: { 'node-a': 75, 'node-b': 100, 'node-c': 0 },
    },
    {
      name: "an existing pod's preferred anti-affinity pushes the incoming pod out of its zone",
      incoming: pod({ labels: { service: 'web' } }),
      existing: [
        pod({
          nodeName: 'node-a',
          spec: { affinity: affinity({ preferredAnti: [[10, term(service('web'), zone)]] }) },
        }),
      ],
      want: { 'node-a': 0, 'node-b': 0, 'node-c': 100 },
    },
    {
      name: "an existing pod's preferred affinity pulls the incoming pod to its host",
      incoming: pod({ labels: { service: 'web' } }),
      existing: [
        pod({
          nodeName: 'node-b',
          spec: { affinity: affinity({ preferred: [[10, term(service('web'), hostname)]] }) },
        }),
      ],
      want: { 'node-a': 0, 'node-b': 100, 'node-c': 0 },
    },
    {
      name: "an existing pod's required affinity counts with hardPodAffinityWeight (symmetry)",
      incoming: pod({ labels: { service: 'web' } }),
      existing: [
        pod({
          nodeName: 'node-c',
          spec: { affinity: affinity({ required: [term(service('web'), hostname)] }) },
        }),
      ],
      want: { 'node-a': 0, 'node-b': 0, 'node-c': 100 },
    },
  ])('$name', async ({ incoming, existing, want }) => {
    const snapshot = new FakeSnapshot(nodes, existing);
    const { preScore, scores } = await runScore(plugin(snapshot), incoming, snapshot);
    expect(preScore.code).toBe('Success');
    expect(scores).toEqual(want);
  });

  it.each([
    { name: 'no pod anywhere has affinity', args: undefined, existing: [web('node-a')] },
    {
      name: 'hardPodAffinityWeight is 0 and only a required term selects the pod',
      args: { hardPodAffinityWeight: 0 },
      existing: [
        pod({
          nodeName: 'node-c',
          spec: { affinity: affinity({ required: [term(service('web'), hostname)] }) },
        }),
      ],
    },
    {
      name: 'ignorePreferredTermsOfExistingPods and the pod has no preferred terms',
      args: { ignorePreferredTermsOfExistingPods: true },
      existing: [
        pod({
          nodeName: 'node-a',
          spec: { affinity: affinity({ preferredAnti: [[10, term(service('web'), zone)]] }) },
        }),
      ],
    },
  ])('PreScore skips when $name', async ({ args, existing }) => {
    const snapshot = new FakeSnapshot(nodes, existing);
    const { preScore } = await runScore(
      plugin(snapshot, args),
      pod({ labels: { service: 'web' } }),
      snapshot,
    );
    expect(preScore.code).toBe('Skip');
  });

  it('uses hardPodAffinityWeight as the weight of symmetric required terms', async () => {
    const snapshot = new FakeSnapshot(nodes, [
      pod({
        nodeName: 'node-c',
        spec: { affinity: affinity({ required: [term(service('web'), hostname)] }) },
      }),
      pod({
        nodeName: 'node-a',
        spec: { affinity: affinity({ preferred: [[10, term(service('web'), hostname)]] }) },
      }),
    ]);
    // With weight 1 the preferred term (10) wins; with 20 the required one does.
    const low = await runScore(
      plugin(snapshot, { hardPodAffinityWeight: 1 }),
      pod({ labels: { service: 'web' } }),
      snapshot,
    );
    expect(low.scores).toEqual({ 'node-a': 100, 'node-b': 0, 'node-c': 10 });
    const high = await runScore(
      plugin(snapshot, { hardPodAffinityWeight: 20 }),
      pod({ labels: { service: 'web' } }),
      snapshot,
    );
    expect(high.scores).toEqual({ 'node-a': 50, 'node-b': 0, 'node-c': 100 });
  });
});

describe('InterPodAffinityArgs', () => {
  it.each([
    { args: { hardPodAffinityWeight: 101 }, field: 'hardPodAffinityWeight' },
    { args: { hardPodAffinityWeight: -1 }, field: 'hardPodAffinityWeight' },
    { args: { hardPodAffinityWeight: 1.5 }, field: 'hardPodAffinityWeight' },
    { args: { ignorePreferredTermsOfExistingPods: 'yes' }, field: 'ignorePreferredTermsOfExistingPods' },
  ])('rejects $args', ({ args, field }) => {
    let error: unknown;
    try {
      interPodAffinityRegistration.factory(args as InterPodAffinityArgs, handleFor(new FakeSnapshot([], [])));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StatusError);
    expect((error as StatusError).reason).toBe('Invalid');
    expect((error as StatusError).details?.causes?.[0]?.field).toBe(field);
  });
});

describe('InterPodAffinity in the framework (plugin-author harness)', () => {
  const hosts = [nodeFixture({ name: 'h1' }), nodeFixture({ name: 'h2' }), nodeFixture({ name: 'h3' })];
  const spreadOut = (name: string, nodeName?: string): Pod => {
    const p = podFixture({ name, labels: { service: 'web' }, nodeName });
    p.spec!.affinity = affinity({ requiredAnti: [term(service('web'), hostname)] });
    return p;
  };

  describeSchedulingPluginTable('table', interPodAffinityRegistration, [
    {
      name: 'Filter: anti-affinity to the pods of the same service',
      nodes: hosts,
      pods: [spreadOut('w1', 'h1')],
      pod: spreadOut('incoming'),
      want: {
        h1: { code: 'Unschedulable', reason: "node(s) didn't match pod anti-affinity rules" },
        h2: 'Success',
        h3: 'Success',
      },
    },
    {
      name: 'Score: preferred affinity to the host of a web pod',
      nodes: hosts,
      pods: [podFixture({ name: 'w1', labels: { service: 'web' }, nodeName: 'h2' })],
      pod: (() => {
        const p = podFixture({ name: 'incoming' });
        p.spec!.affinity = affinity({ preferred: [[10, term(service('web'), hostname)]] });
        return p;
      })(),
      want: { h1: 0, h2: 100, h3: 0 },
    },
  ]);

  it('the default profile puts anti-affine replicas on distinct hosts until none is left', async () => {
    const registry = new PluginRegistry([...defaultPluginRegistrations]);
    const bound: Pod[] = [];
    for (const name of ['w1', 'w2', 'w3']) {
      const result = await runProfile({
        registry,
        profile: defaultProfile,
        nodes: hosts,
        pods: bound,
        pod: spreadOut(name),
      });
      expect(result.status.code).toBe('Success');
      bound.push(spreadOut(name, result.selected));
    }
    expect(new Set(bound.map((p) => p.spec?.nodeName)).size).toBe(3);
    const fourth = await runProfile({
      registry,
      profile: defaultProfile,
      nodes: hosts,
      pods: bound,
      pod: spreadOut('w4'),
    });
    expect(fourth.status.code).toBe('Unschedulable');
    expect(fourth.message).toBe("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
  });
});
