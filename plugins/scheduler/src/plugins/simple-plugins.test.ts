// SPDX-License-Identifier: Apache-2.0
// NodeName, NodeUnschedulable, SchedulingGates and PrioritySort: one small table each.
import type { QueuedPodInfo } from '@cpkit/core';
import { nodeFixture, podFixture, runFilterPlugin } from '@cpkit/core/testing';
import type { Pod, Toleration } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { success, summarize } from './default-plugins.test-helper.js';
import { nodeNameRegistration } from './node-name.js';
import { nodeUnschedulableRegistration } from './node-unschedulable.js';
import { PrioritySort } from './priority-sort.js';
import { SchedulingGates } from './scheduling-gates.js';

describe('NodeName Filter', () => {
  it.each([
    ['a pod without spec.nodeName fits every node', undefined, { n1: success, n2: success }],
    [
      'a pod naming a node fits only that node',
      'n2',
      {
        n1: {
          code: 'UnschedulableAndUnresolvable',
          reasons: ["node(s) didn't match the requested node name"],
        },
        n2: success,
      },
    ],
  ])('%s', async (_name, nodeName, want) => {
    const pod = podFixture({ name: 'p' });
    if (nodeName) pod.spec!.nodeName = nodeName;
    const statuses = await runFilterPlugin(nodeNameRegistration, {
      nodes: [nodeFixture({ name: 'n1' }), nodeFixture({ name: 'n2' })],
      pod,
    });
    expect(summarize(statuses)).toEqual(want);
  });
});

describe('NodeUnschedulable Filter', () => {
  const rejected = { code: 'UnschedulableAndUnresolvable', reasons: ['node(s) were unschedulable'] };
  it.each<[string, boolean, Toleration[] | undefined, unknown]>([
    ['a schedulable node', false, undefined, success],
    ['a cordoned node', true, undefined, rejected],
    [
      'a cordoned node and a pod tolerating the unschedulable taint',
      true,
      [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
      success,
    ],
    ['a cordoned node and a pod tolerating everything', true, [{ operator: 'Exists' }], success],
    [
      'a cordoned node and a NoExecute toleration',
      true,
      [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }],
      rejected,
    ],
  ])('%s', async (_name, unschedulable, tolerations, want) => {
    const statuses = await runFilterPlugin(nodeUnschedulableRegistration, {
      nodes: [nodeFixture({ name: 'n1', unschedulable })],
      pod: podFixture({ name: 'p', tolerations }),
    });
    expect(summarize(statuses).n1).toEqual(want);
  });
});

describe('SchedulingGates PreEnqueue', () => {
  const plugin = new SchedulingGates();
  it('lets a pod without gates in', () => {
    expect(plugin.preEnqueue(podFixture({ name: 'p' })).code).toBe('Success');
    const pod = podFixture({ name: 'p' });
    pod.spec!.schedulingGates = [];
    expect(plugin.preEnqueue(pod).code).toBe('Success');
  });
  it('keeps a gated pod out, naming its gates as upstream prints them', () => {
    const pod = podFixture({ name: 'p' });
    pod.spec!.schedulingGates = [{ name: 'example.com/foo' }, { name: 'example.com/bar' }];
    const status = plugin.preEnqueue(pod);
    expect(status.code).toBe('UnschedulableAndUnresolvable');
    expect(status.message()).toBe('waiting for scheduling gates: [example.com/foo example.com/bar]');
    expect(status.plugin).toBe('SchedulingGates');
  });
});

describe('PrioritySort', () => {
  const info = (priority: number | undefined, timestamp: number): QueuedPodInfo => {
    const pod: Pod = podFixture({ name: `p${timestamp}` });
    if (priority !== undefined) pod.spec!.priority = priority;
    return { pod, timestamp, attempts: 0, initialAttemptTimestamp: timestamp };
  };
  it.each<[string, QueuedPodInfo, QueuedPodInfo, boolean]>([
    ['higher priority first', info(100, 2), info(50, 1), true],
    ['lower priority later', info(50, 1), info(100, 2), false],
    ['equal priority: earlier first', info(100, 1), info(100, 2), true],
    ['equal priority: later second', info(100, 2), info(100, 1), false],
    ['no priority counts as 0', info(undefined, 1), info(-1, 0), true],
    ['same pod is not less than itself', info(5, 1), info(5, 1), false],
  ])('%s', (_name, a, b, want) => {
    expect(new PrioritySort().less(a, b)).toBe(want);
  });
});
