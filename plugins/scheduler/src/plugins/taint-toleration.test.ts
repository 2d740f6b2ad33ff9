// SPDX-License-Identifier: Apache-2.0
import { nodeFixture, podFixture, runFilterPlugin, runScorePlugin } from '@cpkit/core/testing';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { success, summarize } from './default-plugins.test-helper.js';
import { taintTolerationRegistration } from './taint-toleration.js';

const untolerated = (key: string, value: string) => ({
  code: 'UnschedulableAndUnresolvable',
  reasons: [`node(s) had untolerated taint {${key}: ${value}}`],
});

const filterCases: { name: string; taints: Taint[]; tolerations?: Toleration[]; want: unknown }[] = [
  {
    name: 'a pod without tolerations does not go onto a tainted node',
    taints: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }],
    want: untolerated('dedicated', 'user1'),
  },
  {
    name: 'a toleration with the same key, value and effect',
    taints: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }],
    tolerations: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }],
    want: success,
  },
  {
    name: 'a toleration for another value',
    taints: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }],
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'user2', effect: 'NoSchedule' }],
    want: untolerated('dedicated', 'user1'),
  },
  {
    name: 'Exists ignores the value',
    taints: [{ key: 'foo', value: 'bar', effect: 'NoSchedule' }],
    tolerations: [{ key: 'foo', operator: 'Exists', effect: 'NoSchedule' }],
    want: success,
  },
  {
    name: 'every taint has to be tolerated',
    taints: [
      { key: 'dedicated', value: 'user2', effect: 'NoSchedule' },
      { key: 'foo', value: 'bar', effect: 'NoSchedule' },
    ],
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'user2', effect: 'NoSchedule' }],
    want: untolerated('foo', 'bar'),
  },
  {
    name: 'tolerating several taints',
    taints: [
      { key: 'dedicated', value: 'user2', effect: 'NoSchedule' },
      { key: 'foo', value: 'bar', effect: 'NoSchedule' },
    ],
    tolerations: [
      { key: 'dedicated', operator: 'Equal', value: 'user2', effect: 'NoSchedule' },
      { key: 'foo', operator: 'Exists', effect: 'NoSchedule' },
    ],
    want: success,
  },
  {
    name: 'a PreferNoSchedule toleration does not tolerate a NoSchedule taint',
    taints: [{ key: 'foo', value: 'bar', effect: 'NoSchedule' }],
    tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' }],
    want: untolerated('foo', 'bar'),
  },
  {
    name: 'a toleration without effect tolerates every effect',
    taints: [{ key: 'foo', value: 'bar', effect: 'NoExecute' }],
    tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar' }],
    want: success,
  },
  {
    name: 'an untolerated PreferNoSchedule taint does not filter',
    taints: [{ key: 'foo', value: 'bar', effect: 'PreferNoSchedule' }],
    want: success,
  },
  {
    name: 'NoExecute taints filter like NoSchedule',
    taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }],
    want: untolerated('node.kubernetes.io/not-ready', ''),
  },
  {
    name: 'Exists without a key tolerates everything',
    taints: [
      { key: 'a', value: 'b', effect: 'NoSchedule' },
      { key: 'c', effect: 'NoExecute' },
    ],
    tolerations: [{ operator: 'Exists' }],
    want: success,
  },
  {
    name: 'an unknown operator tolerates nothing',
    taints: [{ key: 'foo', value: 'bar', effect: 'NoSchedule' }],
    tolerations: [{ key: 'foo', operator: 'Gt', value: 'bar' }],
    want: untolerated('foo', 'bar'),
  },
];

describe('TaintToleration Filter', () => {
  for (const c of filterCases) {
    it(c.name, async () => {
      const statuses = await runFilterPlugin(taintTolerationRegistration, {
        nodes: [nodeFixture({ name: 'n1', taints: c.taints })],
        pod: podFixture({ name: 'p', tolerations: c.tolerations }),
      });
      expect(summarize(statuses).n1).toEqual(c.want);
    });
  }
});

const prefer = (key: string, value: string): Taint => ({ key, value, effect: 'PreferNoSchedule' });

const scoreCases: {
  name: string;
  tolerations?: Toleration[];
  taints: Record<string, Taint[]>;
  want: Record<string, number>;
}[] = [
  {
    name: 'nodes whose taints are all tolerated score the same, however many they have',
    tolerations: [
      { key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' },
      { key: 'cpu-type', operator: 'Equal', value: 'arm64', effect: 'PreferNoSchedule' },
    ],
    taints: { n1: [], n2: [prefer('foo', 'bar')], n3: [prefer('foo', 'bar'), prefer('cpu-type', 'arm64')] },
    want: { n1: 100, n2: 100, n3: 100 },
  },
  {
    name: 'the more intolerable taints, the lower the score',
    tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' }],
    taints: {
      n1: [],
      n2: [prefer('cpu-type', 'arm64')],
      n3: [prefer('cpu-type', 'arm64'), prefer('disk-type', 'ssd')],
    },
    want: { n1: 100, n2: 50, n3: 0 },
  },
  {
    name: 'only PreferNoSchedule taints and tolerations count',
    tolerations: [{ key: 'cpu-type', operator: 'Equal', value: 'arm64', effect: 'NoSchedule' }],
    taints: {
      n1: [{ key: 'cpu-type', value: 'arm64', effect: 'NoSchedule' }],
      n2: [prefer('cpu-type', 'arm64')],
      n3: [prefer('cpu-type', 'arm64'), { key: 'disk-type', value: 'ssd', effect: 'NoSchedule' }],
    },
    want: { n1: 100, n2: 0, n3: 0 },
  },
  {
    name: 'without tolerations the untainted node wins',
    taints: { n1: [], n2: [prefer('cpu-type', 'arm64')] },
    want: { n1: 100, n2: 0 },
  },
  {
    name: 'no taints anywhere: every node 100',
    taints: { n1: [], n2: [] },
    want: { n1: 100, n2: 100 },
  },
];

describe('TaintToleration Score', () => {
  for (const c of scoreCases) {
    it(c.name, async () => {
      const scores = await runScorePlugin(taintTolerationRegistration, {
        nodes: Object.entries(c.taints).map(([name, taints]) => nodeFixture({ name, taints })),
        pod: podFixture({ name: 'p', tolerations: c.tolerations }),
      });
      expect(scores).toEqual(c.want);
    });
  }
});
