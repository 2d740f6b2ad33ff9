// SPDX-License-Identifier: Apache-2.0
import {
  type ApiClient,
  errors,
  type KindReference,
  PluginRegistry,
  type SchedulerPlugin,
} from '@cpkit/core';
import { nodeFixture, podFixture, runProfile } from '@cpkit/core/testing';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { describe, expect, it } from 'vitest';
import {
  DefaultPreemption,
  defaultPreemptionArgs,
  type PreemptionCandidate,
  pickBestCandidate,
  splitByPDBViolation,
} from './default-preemption.js';
import { defaultPluginRegistrations, defaultProfile } from './index.js';

const now = Date.parse('2026-01-01T12:00:00Z');

/** What the plugin asked the API to do, in order. */
interface ApiCall {
  verb: 'patch' | 'delete' | 'create';
  name: string;
  body?: unknown;
}

/** An ApiClient that records writes and serves `pdbs` (or fails listing them with `listError`). */
function recordingApiClient(
  pdbs: PodDisruptionBudget[] = [],
  listError?: Error,
): ApiClient & { calls: ApiCall[] } {
  const calls: ApiCall[] = [];
  const client = {
    calls,
    async list(kind: KindReference) {
      if (listError) throw listError;
      expect(kind).toMatchObject({ group: 'policy', kind: 'PodDisruptionBudget' });
      return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudgetList', metadata: {}, items: pdbs };
    },
    async patch(_kind: KindReference, name: string, _type: string, body: unknown) {
      calls.push({ verb: 'patch', name, body });
      return {};
    },
    async delete(_kind: KindReference, name: string) {
      calls.push({ verb: 'delete', name });
      return {};
    },
    async create(object: { kind?: string; metadata?: { name?: string }; message?: string }) {
      calls.push({ verb: 'create', name: object.kind ?? '', body: object.message });
      return object;
    },
  };
  return client as unknown as ApiClient & { calls: ApiCall[] };
}

/** DefaultPreemption with a fixed dry-run start (node order) and clock, next to the other defaults. */
const deterministicPreemption: SchedulerPlugin = {
  name: DefaultPreemption.pluginName,
  factory: (args, handle) =>
    new DefaultPreemption(
      handle,
      defaultPreemptionArgs(args),
      () => 0,
      () => now,
    ),
};
const registry = new PluginRegistry([
  ...defaultPluginRegistrations.filter((r) => r.name !== DefaultPreemption.pluginName),
  deterministicPreemption,
]);

function node(name: string, cpu: string, extra: Partial<Parameters<typeof nodeFixture>[0]> = {}): Node {
  return nodeFixture({ name, capacity: { cpu, memory: '32Gi', pods: '110' }, ...extra });
}

function pod(
  name: string,
  cpu: string,
  priority: number,
  nodeName?: string,
  extra: { labels?: Record<string, string>; startTime?: string } = {},
): Pod {
  const p = podFixture({ name, requests: { cpu }, priority, nodeName, labels: extra.labels });
  p.metadata = { ...p.metadata, uid: `uid-${name}` };
  if (extra.startTime) (p as { status?: object }).status = { phase: 'Running', startTime: extra.startTime };
  return p;
}

function pdb(name: string, labels: Record<string, string>, disruptionsAllowed: number): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'default' },
    spec: { selector: { matchLabels: labels } },
    status: { disruptionsAllowed, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
  };
}

async function preempt(nodes: Node[], pods: Pod[], preemptor: Pod, api = recordingApiClient()) {
  const result = await runProfile({
    registry,
    profile: {},
    defaultProfile,
    nodes,
    pods,
    pod: preemptor,
    apiClient: api,
    runPostFilter: true,
  });
  const deleted = api.calls.filter((c) => c.verb === 'delete').map((c) => c.name);
  return { ...result, deleted: deleted.sort(), api };
}

interface VictimCase {
  name: string;
  nodes: Node[];
  pods: Pod[];
  preemptor: Pod;
  pdbs?: PodDisruptionBudget[];
  nominated?: string;
  victims: string[];
  message?: string;
}

const victimCases: VictimCase[] = [
  {
    name: 'evicts only the lowest-priority pods it needs (higher ones are reprieved first)',
    nodes: [node('n1', '2')],
    pods: [pod('low', '1', 1, 'n1'), pod('mid', '1', 5, 'n1')],
    preemptor: pod('high', '1', 10),
    nominated: 'n1',
    victims: ['low'],
  },
  {
    name: 'evicts several pods when one is not enough',
    nodes: [node('n1', '3')],
    pods: [pod('a', '1', 1, 'n1'), pod('b', '1', 2, 'n1'), pod('c', '1', 3, 'n1')],
    preemptor: pod('high', '2', 10),
    nominated: 'n1',
    victims: ['a', 'b'],
  },
  {
    name: 'never evicts pods of equal or higher priority',
    nodes: [node('n1', '2')],
    pods: [pod('same', '1', 10, 'n1'), pod('higher', '1', 20, 'n1')],
    preemptor: pod('high', '1', 10),
    victims: [],
    message:
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..',
  },
  {
    name: 'a node where the pod does not fit even without its lower-priority pods is no candidate (its Filter reason is kept)',
    nodes: [node('n1', '2'), node('n2', '4')],
    pods: [pod('low1', '1', 1, 'n1'), pod('keeps', '1', 10, 'n1'), pod('same', '4', 10, 'n2')],
    preemptor: pod('high', '2', 10),
    victims: [],
    message:
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 1 Insufficient cpu, 1 No preemption victims found for incoming pod..',
  },
  {
    name: 'nodes rejected as unresolvable are not candidates',
    nodes: [node('n1', '2', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })],
    pods: [pod('low', '2', 1, 'n1')],
    preemptor: pod('high', '1', 10),
    victims: [],
    message:
      '0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..',
  },
  {
    name: 'only the resolvable node is searched',
    nodes: [
      node('n1', '2', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      node('n2', '2'),
    ],
    pods: [pod('low1', '2', 1, 'n1'), pod('low2', '2', 1, 'n2')],
    preemptor: pod('high', '1', 10),
    nominated: 'n2',
    victims: ['low2'],
  },
  {
    name: 'a PDB-protected victim is reprieved before a higher-priority unprotected one',
    nodes: [node('n1', '2')],
    pods: [pod('protected', '1', 1, 'n1', { labels: { app: 'db' } }), pod('plain', '1', 2, 'n1')],
    pdbs: [pdb('db', { app: 'db' }, 0)],
    preemptor: pod('high', '1', 10),
    nominated: 'n1',
    victims: ['plain'],
  },
  {
    name: 'pod anti-affinity to a lower-priority pod is resolved by evicting it (InterPodAffinity RemovePod)',
    nodes: [node('n1', '4')],
    pods: [pod('db', '100m', 1, 'n1', { labels: { app: 'db' } }), pod('other', '100m', 1, 'n1')],
    preemptor: (() => {
      const p = pod('high', '100m', 10);
      p.spec!.affinity = {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' },
          ],
        },
      };
      return p;
    })(),
    nominated: 'n1',
    victims: ['db'],
  },
];

describe('DefaultPreemption victim selection', () => {
  for (const row of victimCases) {
    it(row.name, async () => {
      const result = await preempt(row.nodes, row.pods, row.preemptor, recordingApiClient(row.pdbs));
      expect(result.nominatedNodeName).toBe(row.nominated);
      expect(result.deleted).toEqual([...row.victims].sort());
      if (row.message !== undefined) expect(result.message).toBe(row.message);
    });
  }

  it('marks each victim DisruptionTarget before deleting it and records a Preempted event', async () => {
    const { api } = await preempt([node('n1', '1')], [pod('low', '1', 1, 'n1')], pod('high', '1', 10));
    expect(api.calls.map((c) => `${c.verb} ${c.name}`)).toEqual(['patch low', 'delete low', 'create Event']);
    expect(api.calls[0].body).toMatchObject({
      status: {
        conditions: [
          {
            type: 'DisruptionTarget',
            status: 'True',
            reason: 'PreemptionByScheduler',
            message: 'default-scheduler: preempting to accommodate a higher priority pod',
          },
        ],
      },
    });
    expect(api.calls[2].body).toBe('Preempted by pod uid-high on node n1');
  });

  it('a pod with preemptionPolicy Never does not preempt', async () => {
    const preemptor = pod('high', '1', 10);
    preemptor.spec!.preemptionPolicy = 'Never';
    const result = await preempt([node('n1', '1')], [pod('low', '1', 1, 'n1')], preemptor);
    expect(result.deleted).toEqual([]);
    expect(result.message).toBe(
      '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..',
    );
  });

  it('a pod nominated to a node where its victims still terminate waits instead of preempting again', async () => {
    const terminating = pod('low', '1', 1, 'n1');
    terminating.metadata = { ...terminating.metadata, deletionTimestamp: '2026-01-01T11:59:00Z' };
    (terminating as { status?: object }).status = {
      conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }],
    };
    const preemptor = pod('high', '1', 10);
    (preemptor as { status?: object }).status = { nominatedNodeName: 'n1' };
    const result = await preempt(
      [node('n1', '1'), node('n2', '1')],
      [terminating, pod('low2', '1', 1, 'n2')],
      preemptor,
    );
    expect(result.deleted).toEqual([]);
    expect(result.message).toContain(
      'preemption: not eligible due to a terminating pod on the nominated node.',
    );
  });

  it('treats PodDisruptionBudgets as absent when the server does not serve them', async () => {
    const api = recordingApiClient(
      [],
      errors.notFound({ resource: 'poddisruptionbudgets', group: 'policy' }),
    );
    const result = await preempt([node('n1', '1')], [pod('low', '1', 1, 'n1')], pod('high', '1', 10), api);
    expect(result.nominatedNodeName).toBe('n1');
  });

  it('fails the cycle with an Error naming the plugin when a victim cannot be deleted', async () => {
    const api = recordingApiClient();
    api.delete = async () => {
      throw errors.internal('etcd is down');
    };
    const result = await runProfile({
      registry,
      profile: {},
      defaultProfile,
      nodes: [node('n1', '1')],
      pods: [pod('low', '1', 1, 'n1')],
      pod: pod('high', '1', 10),
      apiClient: api,
      runPostFilter: true,
    });
    expect(result.nominatedNodeName).toBeUndefined();
    expect(result.message).toContain('etcd is down');
  });
});

interface OrderingCase {
  name: string;
  nodes: Node[];
  pods: Pod[];
  pdbs?: PodDisruptionBudget[];
  preemptor: Pod;
  nominated: string;
}

const t = (hour: number): string => `2026-01-01T${String(hour).padStart(2, '0')}:00:00Z`;

const orderingCases: OrderingCase[] = [
  {
    name: 'fewest PDB violations first',
    nodes: [node('n1', '1'), node('n2', '1')],
    pods: [pod('p1', '1', 1, 'n1', { labels: { app: 'db' } }), pod('p2', '1', 5, 'n2')],
    pdbs: [pdb('db', { app: 'db' }, 0)],
    preemptor: pod('high', '1', 10),
    nominated: 'n2',
  },
  {
    name: 'then the lowest highest-priority victim',
    nodes: [node('n1', '1'), node('n2', '1')],
    pods: [pod('p1', '1', 5, 'n1'), pod('p2', '1', 3, 'n2')],
    preemptor: pod('high', '1', 10),
    nominated: 'n2',
  },
  {
    name: 'then the fewest victims by the priority sum (each victim adds 2^31)',
    nodes: [node('n1', '2'), node('n2', '2')],
    pods: [
      pod('a1', '1', 3, 'n1'),
      pod('a2', '1', 3, 'n1'),
      pod('b1', '1', 3, 'n2'),
      pod('b2', '500m', 1, 'n2'),
      pod('b3', '500m', 1, 'n2'),
    ],
    preemptor: pod('high', '2', 10),
    nominated: 'n1',
  },
  {
    name: 'then the smallest priority sum',
    nodes: [node('n1', '2'), node('n2', '2')],
    pods: [
      pod('a1', '1', 3, 'n1'),
      pod('a2', '1', 2, 'n1'),
      pod('b1', '1', 3, 'n2'),
      pod('b2', '1', 1, 'n2'),
    ],
    preemptor: pod('high', '2', 10),
    nominated: 'n2',
  },
  {
    name: 'then the latest start among the highest-priority victims',
    nodes: [node('n1', '1'), node('n2', '1')],
    pods: [pod('old', '1', 1, 'n1', { startTime: t(8) }), pod('young', '1', 1, 'n2', { startTime: t(11) })],
    preemptor: pod('high', '1', 10),
    nominated: 'n2',
  },
  {
    name: 'a pod that has not started counts as the youngest',
    nodes: [node('n1', '1'), node('n2', '1')],
    pods: [pod('unstarted', '1', 1, 'n1'), pod('started', '1', 1, 'n2', { startTime: t(11) })],
    preemptor: pod('high', '1', 10),
    nominated: 'n1',
  },
];

describe('DefaultPreemption candidate ordering', () => {
  for (const row of orderingCases) {
    it(row.name, async () => {
      const result = await preempt(row.nodes, row.pods, row.preemptor, recordingApiClient(row.pdbs));
      expect(result.nominatedNodeName).toBe(row.nominated);
    });
  }

  it('remaining ties go to the first candidate; no candidates gives undefined', () => {
    const a: PreemptionCandidate = { nodeName: 'a', victims: [pod('x', '1', 1)], numPDBViolations: 0 };
    const b: PreemptionCandidate = { nodeName: 'b', victims: [pod('y', '1', 1)], numPDBViolations: 0 };
    expect(pickBestCandidate([a, b], now)?.nodeName).toBe('a');
    expect(pickBestCandidate([b, a], now)?.nodeName).toBe('b');
    expect(pickBestCandidate([], now)).toBeUndefined();
  });
});

describe('splitByPDBViolation', () => {
  const info = (name: string, labels?: Record<string, string>, namespace = 'default') => ({
    pod: { ...pod(name, '1', 1, 'n1', { labels }), metadata: { name, namespace, labels } },
  });
  it.each([
    { name: 'budget of 1 covers the first match only', pdbs: [pdb('b', { app: 'a' }, 1)], violating: ['p2'] },
    { name: 'empty selector matches nothing', pdbs: [{ ...pdb('b', {}, 0) }], violating: [] },
    {
      name: 'already-disrupted pods are not counted again',
      pdbs: [
        { ...pdb('b', { app: 'a' }, 0), status: { ...pdb('b', {}, 0).status!, disruptedPods: { p1: t(1) } } },
      ],
      violating: ['p2'],
    },
    {
      name: 'budgets of other namespaces do not apply',
      pdbs: [{ ...pdb('b', { app: 'a' }, 0), metadata: { name: 'b', namespace: 'other' } }],
      violating: [],
    },
  ])('$name', ({ pdbs, violating }) => {
    const pods = [info('p1', { app: 'a' }), info('p2', { app: 'a' }), info('p3')];
    const split = splitByPDBViolation(pods, pdbs);
    expect(split.violating.map((i) => i.pod.metadata.name)).toEqual(violating);
    expect(split.nonViolating.length + split.violating.length).toBe(3);
  });
});

describe('DefaultPreemptionArgs', () => {
  it.each([
    { args: undefined, want: { minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100 } },
    {
      args: { minCandidateNodesPercentage: 50 },
      want: { minCandidateNodesPercentage: 50, minCandidateNodesAbsolute: 100 },
    },
    {
      args: { minCandidateNodesAbsolute: 0 },
      want: { minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 0 },
    },
  ])('defaults $args', ({ args, want }) => {
    expect(defaultPreemptionArgs(args)).toEqual(want);
  });

  it.each([
    {
      args: { minCandidateNodesPercentage: 101 },
      field: 'minCandidateNodesPercentage',
      reason: 'not in valid range [0, 100]',
    },
    {
      args: { minCandidateNodesAbsolute: -1 },
      field: 'minCandidateNodesAbsolute',
      reason: 'not in valid range [0, inf)',
    },
    {
      args: { minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0 },
      field: 'minCandidateNodesAbsolute',
      reason: 'cannot be zero at the same time as minCandidateNodesPercentage',
    },
    {
      args: { minCandidateNodesPercentage: 'ten' },
      field: 'minCandidateNodesPercentage',
      reason: 'must be an integer',
    },
  ])('rejects $args naming $field', ({ args, field, reason }) => {
    let caught: unknown;
    try {
      defaultPreemptionArgs(args);
    } catch (error) {
      caught = error;
    }
    const status = caught as { reason?: string; details?: { causes?: { field: string; message: string }[] } };
    expect(status?.reason).toBe('Invalid');
    expect(status?.details?.causes).toContainEqual(
      expect.objectContaining({ field, message: expect.stringContaining(reason) }),
    );
  });

  it('numCandidates: the larger of the share and the absolute minimum, at most every node', () => {
    const plugin = (minCandidateNodesPercentage: number, minCandidateNodesAbsolute: number) =>
      new DefaultPreemption({} as never, { minCandidateNodesPercentage, minCandidateNodesAbsolute });
    expect(plugin(10, 100).numCandidates(50)).toBe(50);
    expect(plugin(10, 100).numCandidates(5000)).toBe(500);
    expect(plugin(10, 0).numCandidates(55)).toBe(5);
    expect(plugin(0, 3).numCandidates(55)).toBe(3);
  });
});
