// SPDX-License-Identifier: Apache-2.0
import { CycleState, isStatusError } from '@cpkit/core';
import { nodeFixture, podFixture, runFilterPlugin, runScorePlugin } from '@cpkit/core/testing';
import type {
  NodeAffinity as NodeAffinitySpec,
  NodeSelectorTerm,
  Pod,
  PreferredSchedulingTerm,
} from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { success, summarize } from './default-plugins.test-helper.js';
import { type NodeAffinityArgs, newNodeAffinity, nodeAffinityRegistration } from './node-affinity.js';

const podRejected = {
  code: 'UnschedulableAndUnresolvable',
  reasons: ["node(s) didn't match Pod's node affinity/selector"],
};
const enforcedRejected = {
  code: 'UnschedulableAndUnresolvable',
  reasons: ["node(s) didn't match scheduler-enforced node affinity"],
};

function podWith(options: {
  nodeSelector?: Record<string, string>;
  terms?: NodeSelectorTerm[] | null;
  preferred?: PreferredSchedulingTerm[];
}): Pod {
  const pod = podFixture({ name: 'p', nodeSelector: options.nodeSelector });
  if (options.terms !== undefined || options.preferred) {
    const nodeAffinity: NodeAffinitySpec = {};
    if (options.terms !== undefined) {
      nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
        nodeSelectorTerms: options.terms ?? (undefined as unknown as NodeSelectorTerm[]),
      };
    }
    if (options.preferred) nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution = options.preferred;
    pod.spec!.affinity = { nodeAffinity };
  }
  return pod;
}

interface FilterCase {
  name: string;
  pod: Pod;
  labels?: Record<string, string>;
  nodeName?: string;
  args?: NodeAffinityArgs;
  want: unknown;
}

const filterCases: FilterCase[] = [
  { name: 'no selector and no affinity fits every node', pod: podWith({}), want: success },
  {
    name: 'a node without the selected labels',
    pod: podWith({ nodeSelector: { foo: 'bar' } }),
    want: podRejected,
  },
  {
    name: 'the selected labels',
    pod: podWith({ nodeSelector: { foo: 'bar' } }),
    labels: { foo: 'bar' },
    want: success,
  },
  {
    name: 'node labels are a superset of the selector',
    pod: podWith({ nodeSelector: { foo: 'bar' } }),
    labels: { foo: 'bar', baz: 'blah' },
    want: success,
  },
  {
    name: 'node labels are a subset of the selector',
    pod: podWith({ nodeSelector: { foo: 'bar', baz: 'blah' } }),
    labels: { foo: 'bar' },
    want: podRejected,
  },
  {
    name: 'In matches one of the values',
    pod: podWith({
      terms: [{ matchExpressions: [{ key: 'foo', operator: 'In', values: ['value1', 'value2'] }] }],
    }),
    labels: { foo: 'value1' },
    want: success,
  },
  {
    name: 'In with none of the values',
    pod: podWith({
      terms: [{ matchExpressions: [{ key: 'foo', operator: 'In', values: ['value1', 'value2'] }] }],
    }),
    labels: { foo: 'bar' },
    want: podRejected,
  },
  {
    name: 'Gt compares integers',
    pod: podWith({
      terms: [{ matchExpressions: [{ key: 'kernel-version', operator: 'Gt', values: ['0204'] }] }],
    }),
    labels: { 'kernel-version': '0206' },
    want: success,
  },
  {
    name: 'Lt compares integers',
    pod: podWith({
      terms: [{ matchExpressions: [{ key: 'kernel-version', operator: 'Lt', values: ['0204'] }] }],
    }),
    labels: { 'kernel-version': '0206' },
    want: podRejected,
  },
  {
    name: 'Gt on a label that is not an integer does not match',
    pod: podWith({
      terms: [{ matchExpressions: [{ key: 'kernel-version', operator: 'Gt', values: ['1'] }] }],
    }),
    labels: { 'kernel-version': 'abc' },
    want: podRejected,
  },
  {
    name: 'NotIn with another value',
    pod: podWith({
      terms: [{ matchExpressions: [{ key: 'mem-type', operator: 'NotIn', values: ['DDR', 'DDR2'] }] }],
    }),
    labels: { 'mem-type': 'DDR3' },
    want: success,
  },
  {
    name: 'NotIn matches a node without the label',
    pod: podWith({
      terms: [{ matchExpressions: [{ key: 'mem-type', operator: 'NotIn', values: ['DDR'] }] }],
    }),
    want: success,
  },
  {
    name: 'Exists',
    pod: podWith({ terms: [{ matchExpressions: [{ key: 'GPU', operator: 'Exists' }] }] }),
    labels: { GPU: 'NVIDIA-GRID-K1' },
    want: success,
  },
  {
    name: 'DoesNotExist',
    pod: podWith({ terms: [{ matchExpressions: [{ key: 'GPU', operator: 'DoesNotExist' }] }] }),
    labels: { GPU: 'NVIDIA-GRID-K1' },
    want: podRejected,
  },
  {
    name: 'no node selector terms match nothing',
    pod: podWith({ terms: [] }),
    labels: { foo: 'bar' },
    want: podRejected,
  },
  {
    name: 'absent node selector terms match nothing',
    pod: podWith({ terms: null }),
    labels: { foo: 'bar' },
    want: podRejected,
  },
  {
    name: 'a term without requirements matches nothing',
    pod: podWith({ terms: [{ matchExpressions: [] }] }),
    labels: { foo: 'bar' },
    want: podRejected,
  },
  {
    name: 'requirements within a term are ANDed',
    pod: podWith({
      terms: [
        {
          matchExpressions: [
            { key: 'GPU', operator: 'Exists' },
            { key: 'GPU', operator: 'NotIn', values: ['NVIDIA-GRID-K1'] },
          ],
        },
      ],
    }),
    labels: { GPU: 'NVIDIA-GRID-K1' },
    want: podRejected,
  },
  {
    name: 'terms are ORed',
    pod: podWith({
      terms: [
        { matchExpressions: [{ key: 'foo', operator: 'In', values: ['bar', 'value2'] }] },
        { matchExpressions: [{ key: 'diffkey', operator: 'In', values: ['wrong', 'value2'] }] },
      ],
    }),
    labels: { foo: 'bar' },
    want: success,
  },
  {
    name: 'nodeSelector and affinity both satisfied',
    pod: podWith({
      nodeSelector: { foo: 'bar' },
      terms: [{ matchExpressions: [{ key: 'foo', operator: 'Exists' }] }],
    }),
    labels: { foo: 'bar' },
    want: success,
  },
  {
    name: 'affinity satisfied but nodeSelector not',
    pod: podWith({
      nodeSelector: { foo: 'bar' },
      terms: [{ matchExpressions: [{ key: 'foo', operator: 'Exists' }] }],
    }),
    labels: { foo: 'barrrrrr' },
    want: podRejected,
  },
  {
    name: 'matchFields metadata.name In the node',
    pod: podWith({ terms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] }),
    want: success,
  },
  {
    name: 'matchFields metadata.name NotIn the node',
    pod: podWith({ terms: [{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }] }),
    want: podRejected,
  },
  {
    name: 'matchFields misses but another term matches by label',
    pod: podWith({
      terms: [
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] },
        { matchExpressions: [{ key: 'foo', operator: 'In', values: ['bar'] }] },
      ],
    }),
    labels: { foo: 'bar' },
    want: success,
  },
  {
    name: 'matchFields and matchExpressions of one term both match',
    pod: podWith({
      terms: [
        {
          matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }],
          matchExpressions: [{ key: 'foo', operator: 'In', values: ['bar'] }],
        },
      ],
    }),
    labels: { foo: 'bar' },
    want: success,
  },
  {
    name: 'a term with an invalid operator matches nothing, other terms still count',
    pod: podWith({
      terms: [
        { matchExpressions: [{ key: 'foo', operator: 'Near', values: ['bar'] }] },
        { matchExpressions: [{ key: 'foo', operator: 'In', values: ['bar'] }] },
      ],
    }),
    labels: { foo: 'bar' },
    want: success,
  },
  {
    name: 'addedAffinity must match too',
    args: {
      addedAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['foo'] }] }],
        },
      },
    },
    pod: podWith({}),
    labels: { zone: 'bar' },
    want: enforcedRejected,
  },
  {
    name: 'addedAffinity and the pod selector both satisfied',
    args: {
      addedAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['foo'] }] }],
        },
      },
    },
    pod: podWith({ nodeSelector: { foo: 'bar' } }),
    labels: { zone: 'foo', foo: 'bar' },
    want: success,
  },
];

describe('NodeAffinity Filter', () => {
  for (const c of filterCases) {
    it(c.name, async () => {
      const statuses = await runFilterPlugin(nodeAffinityRegistration, {
        nodes: [nodeFixture({ name: 'n1', labels: c.labels })],
        pod: c.pod,
        args: c.args,
      });
      expect(summarize(statuses).n1).toEqual(c.want);
    });
  }
});

describe('NodeAffinity PreFilter', () => {
  const names = (...values: string[]) => ({ key: 'metadata.name', operator: 'In', values });

  it.each<[string, NodeSelectorTerm[], string[] | undefined]>([
    ['one term naming nodes narrows to them', [{ matchFields: [names('n1', 'n2')] }], ['n1', 'n2']],
    [
      'terms naming nodes narrow to their union',
      [{ matchFields: [names('n1')] }, { matchFields: [names('n3')] }],
      ['n1', 'n3'],
    ],
    ['requirements of one term intersect', [{ matchFields: [names('n1', 'n2'), names('n2', 'n3')] }], ['n2']],
    [
      'a term without names keeps every node',
      [{ matchFields: [names('n1')] }, { matchExpressions: [{ key: 'foo', operator: 'Exists' }] }],
      undefined,
    ],
  ])('%s', (_name, terms, want) => {
    const outcome = newNodeAffinity(undefined).preFilter(new CycleState(), podWith({ terms }));
    expect(outcome.status.code).toBe('Success');
    expect(outcome.result?.nodeNames ? [...outcome.result.nodeNames].sort() : undefined).toEqual(want);
  });

  it('rejects a pod whose terms name no node at all', () => {
    const outcome = newNodeAffinity(undefined).preFilter(
      new CycleState(),
      podWith({ terms: [{ matchFields: [names('n1'), names('n2')] }] }),
    );
    expect(outcome.status.code).toBe('UnschedulableAndUnresolvable');
    expect(outcome.status.message()).toBe('pod affinity terms conflict');
  });

  it('skips pods without node selector or affinity', () => {
    expect(newNodeAffinity(undefined).preFilter(new CycleState(), podWith({})).status.code).toBe('Skip');
  });

  it('the framework only evaluates the named nodes', async () => {
    const statuses = await runFilterPlugin(nodeAffinityRegistration, {
      nodes: [nodeFixture({ name: 'n1' }), nodeFixture({ name: 'n2' })],
      pod: podWith({ terms: [{ matchFields: [names('n1')] }] }),
    });
    expect(statuses.n1.code).toBe('Success');
    expect(statuses.n2.code).toBe('UnschedulableAndUnresolvable');
  });
});

const preferred = (weight: number, labels: Record<string, string>): PreferredSchedulingTerm => ({
  weight,
  preference: {
    matchExpressions: Object.entries(labels).map(([key, value]) => ({
      key,
      operator: 'In',
      values: [value],
    })),
  },
});

describe('NodeAffinity Score', () => {
  const nodes = () => [
    nodeFixture({ name: 'n1', labels: { foo: 'bar' } }),
    nodeFixture({ name: 'n2', labels: { key: 'value' } }),
    nodeFixture({ name: 'n3', labels: { foo: 'bar', key: 'value', az: 'az1' } }),
  ];

  it.each<
    [string, PreferredSchedulingTerm[] | undefined, NodeAffinityArgs | undefined, Record<string, number>]
  >([
    ['no preferred terms: every node 0', undefined, undefined, { n1: 0, n2: 0, n3: 0 }],
    ['no node matches', [preferred(2, { foo: 'none' })], undefined, { n1: 0, n2: 0, n3: 0 }],
    [
      'nodes matching get the top score',
      [preferred(2, { foo: 'bar' })],
      undefined,
      { n1: 100, n2: 0, n3: 100 },
    ],
    [
      'weights add up and are normalized to the best node',
      [
        preferred(2, { foo: 'bar' }),
        preferred(4, { key: 'value' }),
        preferred(5, { foo: 'bar', key: 'value', az: 'az1' }),
      ],
      undefined,
      // raw n1 2, n2 4, n3 11 → 100×2/11 = 18, 100×4/11 = 36, 100.
      { n1: 18, n2: 36, n3: 100 },
    ],
    ['a term of weight 0 counts nothing', [preferred(0, { foo: 'bar' })], undefined, { n1: 0, n2: 0, n3: 0 }],
    [
      'addedAffinity preferred terms add to the pod terms',
      [preferred(2, { foo: 'bar' })],
      {
        addedAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [preferred(5, { key: 'value' })] },
      },
      // raw n1 2, n2 5, n3 7 → 28, 71, 100.
      { n1: 28, n2: 71, n3: 100 },
    ],
    [
      'addedAffinity preferred terms score pods without their own',
      undefined,
      {
        addedAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [preferred(5, { key: 'value' })] },
      },
      { n1: 0, n2: 100, n3: 100 },
    ],
  ])('%s', async (_name, terms, args, want) => {
    const scores = await runScorePlugin(nodeAffinityRegistration, {
      nodes: nodes(),
      pod: podWith({ preferred: terms }),
      args,
    });
    expect(scores).toEqual(want);
  });

  it('a preferred term that does not parse fails PreScore with an Error', async () => {
    const pod = podWith({
      preferred: [{ weight: 1, preference: { matchExpressions: [{ key: 'foo', operator: 'Near' }] } }],
    });
    await expect(runScorePlugin(nodeAffinityRegistration, { nodes: nodes(), pod })).rejects.toThrow(
      /PreScore failed: Error/,
    );
  });
});

describe('NodeAffinity args', () => {
  it.each([
    ['addedAffinity that is not an object', { addedAffinity: 'zone=foo' }, 'addedAffinity: Invalid value'],
    [
      'an invalid operator in required terms',
      {
        addedAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'Near', values: ['a'] }] }],
          },
        },
      },
      'addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator',
    ],
    [
      'In without values in preferred terms',
      {
        addedAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: [] }] } },
          ],
        },
      },
      "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0]: key \"zone\": for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      'matchFields with two values',
      {
        addedAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a', 'b'] }] },
            ],
          },
        },
      },
      'matchFields[0].values: Invalid value: ["a","b"]: must have one element',
    ],
  ])('rejects %s, naming the field', (_name, args, message) => {
    let thrown: unknown;
    try {
      newNodeAffinity(args);
    } catch (error) {
      thrown = error;
    }
    expect(isStatusError(thrown, 'Invalid')).toBe(true);
    expect((thrown as Error).message).toContain(message);
  });
});
