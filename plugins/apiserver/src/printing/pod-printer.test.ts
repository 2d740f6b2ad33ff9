// SPDX-License-Identifier: Apache-2.0
import type { ContainerStatus, Pod } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { podPrinter, summarizePod } from './pod-printer.js';

const now = Date.parse('2026-11-22T20:00:00Z');

function pod(
  status: Pod['status'],
  extra: { spec?: Partial<NonNullable<Pod['spec']>>; deleting?: boolean } = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web',
      namespace: 'default',
      creationTimestamp: '2026-11-22T19:00:00Z',
      ...(extra.deleting ? { deletionTimestamp: '2026-11-22T19:59:00Z' } : {}),
    },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...extra.spec },
    status,
  };
}

const running = (name: string, ready = true, restartCount = 0): ContainerStatus => ({
  name,
  image: 'nginx',
  imageID: '',
  ready,
  restartCount,
  state: { running: { startedAt: '2026-11-22T19:01:00Z' } },
});

const waiting = (name: string, reason: string, restartCount = 0, finishedAt?: string): ContainerStatus => ({
  name,
  image: 'nginx',
  imageID: '',
  ready: false,
  restartCount,
  state: { waiting: { reason } },
  ...(finishedAt ? { lastState: { terminated: { exitCode: 1, finishedAt } } } : {}),
});

const terminated = (name: string, exitCode: number, reason?: string, signal?: number): ContainerStatus => ({
  name,
  image: 'busybox',
  imageID: '',
  ready: false,
  restartCount: 0,
  state: { terminated: { exitCode, ...(reason ? { reason } : {}), ...(signal ? { signal } : {}) } },
});

const twoInits = {
  initContainers: [
    { name: 'init-a', image: 'busybox' },
    { name: 'init-b', image: 'busybox' },
  ],
};

describe('summarizePod', () => {
  it.each<[string, Pod, { status: string; ready: string; restarts: string }]>([
    ['pending, not scheduled', pod({ phase: 'Pending' }), { status: 'Pending', ready: '0/1', restarts: '0' }],
    ['no status at all', pod(undefined), { status: '', ready: '0/1', restarts: '0' }],
    [
      'running and ready',
      pod({ phase: 'Running', containerStatuses: [running('app')] }),
      { status: 'Running', ready: '1/1', restarts: '0' },
    ],
    [
      'running, one of two ready',
      pod(
        { phase: 'Running', containerStatuses: [running('app'), running('sidecar', false)] },
        { spec: { containers: [{ name: 'app' }, { name: 'sidecar' }] } },
      ),
      { status: 'Running', ready: '1/2', restarts: '0' },
    ],
    [
      'status.reason wins over the phase',
      pod({ phase: 'Failed', reason: 'Evicted' }),
      { status: 'Evicted', ready: '0/1', restarts: '0' },
    ],
    [
      'scheduling gated',
      pod({
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      }),
      { status: 'SchedulingGated', ready: '0/1', restarts: '0' },
    ],
    [
      'image pull backoff',
      pod({ phase: 'Pending', containerStatuses: [waiting('app', 'ImagePullBackOff')] }),
      { status: 'ImagePullBackOff', ready: '0/1', restarts: '0' },
    ],
    [
      'crash loop with restarts and the time of the last one',
      pod({
        phase: 'Running',
        containerStatuses: [waiting('app', 'CrashLoopBackOff', 4, '2026-11-22T19:55:00Z')],
      }),
      { status: 'CrashLoopBackOff', ready: '0/1', restarts: '4 (5m ago)' },
    ],
    [
      'restarts without a known time have no suffix',
      pod({ phase: 'Running', containerStatuses: [running('app', true, 2)] }),
      { status: 'Running', ready: '1/1', restarts: '2' },
    ],
    [
      'completed',
      pod({ phase: 'Succeeded', containerStatuses: [terminated('app', 0, 'Completed')] }),
      { status: 'Completed', ready: '0/1', restarts: '0' },
    ],
    [
      'error exit',
      pod({ phase: 'Failed', containerStatuses: [terminated('app', 1, 'Error')] }),
      { status: 'Error', ready: '0/1', restarts: '0' },
    ],
    [
      'terminated without a reason: exit code',
      pod({ phase: 'Failed', containerStatuses: [terminated('app', 137)] }),
      { status: 'ExitCode:137', ready: '0/1', restarts: '0' },
    ],
    [
      'terminated without a reason: signal',
      pod({ phase: 'Failed', containerStatuses: [terminated('app', 0, undefined, 9)] }),
      { status: 'Signal:9', ready: '0/1', restarts: '0' },
    ],
    [
      'the first container decides when several have reasons',
      pod(
        {
          phase: 'Running',
          containerStatuses: [waiting('app', 'CrashLoopBackOff'), waiting('sidecar', 'ImagePullBackOff')],
        },
        { spec: { containers: [{ name: 'app' }, { name: 'sidecar' }] } },
      ),
      { status: 'CrashLoopBackOff', ready: '0/2', restarts: '0' },
    ],
    [
      'completed container but another still running, pod ready',
      pod(
        {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [terminated('app', 0, 'Completed'), running('sidecar')],
        },
        { spec: { containers: [{ name: 'app' }, { name: 'sidecar' }] } },
      ),
      { status: 'Running', ready: '1/2', restarts: '0' },
    ],
    [
      'completed container but another still running, pod not ready',
      pod(
        {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [terminated('app', 0, 'Completed'), running('sidecar')],
        },
        { spec: { containers: [{ name: 'app' }, { name: 'sidecar' }] } },
      ),
      { status: 'NotReady', ready: '1/2', restarts: '0' },
    ],
    [
      'first init container running',
      pod(
        {
          phase: 'Pending',
          initContainerStatuses: [running('init-a', false), waiting('init-b', 'PodInitializing')],
        },
        { spec: twoInits },
      ),
      { status: 'Init:0/2', ready: '0/1', restarts: '0' },
    ],
    [
      'second init container waiting to initialize',
      pod(
        {
          phase: 'Pending',
          initContainerStatuses: [terminated('init-a', 0, 'Completed'), waiting('init-b', 'PodInitializing')],
        },
        { spec: twoInits },
      ),
      { status: 'Init:1/2', ready: '0/1', restarts: '0' },
    ],
    [
      'init container crash looping',
      pod(
        {
          phase: 'Pending',
          initContainerStatuses: [waiting('init-a', 'CrashLoopBackOff', 3, '2026-11-22T19:58:00Z')],
          containerStatuses: [waiting('app', 'PodInitializing')],
        },
        { spec: twoInits },
      ),
      { status: 'Init:CrashLoopBackOff', ready: '0/1', restarts: '3 (2m ago)' },
    ],
    [
      'init container failed with a reason',
      pod(
        { phase: 'Pending', initContainerStatuses: [terminated('init-a', 1, 'Error')] },
        { spec: twoInits },
      ),
      { status: 'Init:Error', ready: '0/1', restarts: '0' },
    ],
    [
      'init container failed without a reason',
      pod({ phase: 'Pending', initContainerStatuses: [terminated('init-a', 2)] }, { spec: twoInits }),
      { status: 'Init:ExitCode:2', ready: '0/1', restarts: '0' },
    ],
    [
      'init container killed by a signal',
      pod(
        { phase: 'Pending', initContainerStatuses: [terminated('init-a', 143, undefined, 15)] },
        { spec: twoInits },
      ),
      { status: 'Init:Signal:15', ready: '0/1', restarts: '0' },
    ],
    [
      'started sidecar counts towards ready and total',
      pod(
        {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [{ ...running('proxy', true, 1), started: true }],
          containerStatuses: [running('app')],
        },
        { spec: { initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' }] } },
      ),
      { status: 'Running', ready: '2/2', restarts: '1' },
    ],
    [
      'terminating',
      pod({ phase: 'Running', containerStatuses: [running('app')] }, { deleting: true }),
      { status: 'Terminating', ready: '1/1', restarts: '0' },
    ],
    [
      'deleted after it finished keeps its status',
      pod({ phase: 'Succeeded', containerStatuses: [terminated('app', 0, 'Completed')] }, { deleting: true }),
      { status: 'Completed', ready: '0/1', restarts: '0' },
    ],
    [
      'deleted on an unreachable node',
      pod({ phase: 'Running', reason: 'NodeLost', containerStatuses: [running('app')] }, { deleting: true }),
      { status: 'Unknown', ready: '1/1', restarts: '0' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(summarizePod(input, now)).toEqual(expected);
  });
});

describe('podPrinter', () => {
  it('has upstream columns; the wide ones have priority 1', () => {
    expect(podPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority])).toEqual([
      ['Name', 'string', 'name', 0],
      ['Ready', 'string', '', 0],
      ['Status', 'string', '', 0],
      ['Restarts', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['IP', 'string', '', 1],
      ['Node', 'string', '', 1],
      ['Nominated Node', 'string', '', 1],
      ['Readiness Gates', 'string', '', 1],
    ]);
  });

  it.each<[string, Pod, unknown[]]>([
    [
      'scheduled and running',
      pod(
        {
          phase: 'Running',
          podIP: '10.244.0.5',
          podIPs: [{ ip: '10.244.0.5' }, { ip: 'fd00::5' }],
          containerStatuses: [running('app')],
        },
        { spec: { nodeName: 'node-1' } },
      ),
      ['web', '1/1', 'Running', '0', '60m', '10.244.0.5', 'node-1', '<none>', '<none>'],
    ],
    [
      'pending and nominated, with readiness gates',
      pod(
        {
          phase: 'Pending',
          nominatedNodeName: 'node-2',
          conditions: [
            { type: 'example.com/lb', status: 'True' },
            { type: 'example.com/dns', status: 'False' },
          ],
        },
        {
          spec: {
            readinessGates: [
              { conditionType: 'example.com/lb' },
              { conditionType: 'example.com/dns' },
              { conditionType: 'example.com/missing' },
            ],
          },
        },
      ),
      ['web', '0/1', 'Pending', '0', '60m', '<none>', '<none>', 'node-2', '1/3'],
    ],
  ])('cells: %s', (_name, input, expected) => {
    expect(podPrinter.cells(input, now)).toEqual(expected);
  });

  it.each([
    [
      'Succeeded',
      [
        {
          type: 'Completed',
          status: 'True',
          reason: 'Succeeded',
          message: 'The pod has completed successfully.',
        },
      ],
    ],
    ['Failed', [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]],
    ['Running', undefined],
  ])('row conditions for phase %s', (phase, expected) => {
    expect(podPrinter.conditions?.(pod({ phase }))).toEqual(expected);
  });
});
