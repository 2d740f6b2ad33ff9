// SPDX-License-Identifier: Apache-2.0
import { CycleState } from '@cpkit/core';
import { nodeFixture, podFixture, runFilterPlugin } from '@cpkit/core/testing';
import type { ContainerPort } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { podWithPorts, success, summarize } from './default-plugins.test-helper.js';
import { NodePorts, nodePortsRegistration, podHostPorts } from './node-ports.js';

const port = (protocol: 'TCP' | 'UDP', hostIP: string, hostPort: number): ContainerPort => ({
  containerPort: hostPort,
  protocol,
  hostIP,
  hostPort,
});
const conflict = {
  code: 'Unschedulable',
  reasons: ["node(s) didn't have free ports for the requested pod ports"],
};

// [name, ports the pod wants, ports pods on the node use, want]
const cases: [string, ContainerPort[], ContainerPort[], unknown][] = [
  ['nothing running', [port('UDP', '127.0.0.1', 8080)], [], success],
  ['another port', [port('UDP', '127.0.0.1', 8080)], [port('UDP', '127.0.0.1', 9090)], success],
  ['the same UDP port', [port('UDP', '127.0.0.1', 8080)], [port('UDP', '127.0.0.1', 8080)], conflict],
  ['the same TCP port', [port('TCP', '127.0.0.1', 8080)], [port('TCP', '127.0.0.1', 8080)], conflict],
  ['another host IP', [port('TCP', '127.0.0.2', 8080)], [port('TCP', '127.0.0.1', 8080)], success],
  ['another protocol', [port('UDP', '127.0.0.1', 8080)], [port('TCP', '127.0.0.1', 8080)], success],
  [
    'the second of two ports conflicts',
    [port('UDP', '127.0.0.1', 8000), port('UDP', '127.0.0.1', 8080)],
    [port('UDP', '127.0.0.1', 8001), port('UDP', '127.0.0.1', 8080)],
    conflict,
  ],
  [
    'wanting 0.0.0.0 conflicts with any address',
    [port('TCP', '0.0.0.0', 8001)],
    [port('TCP', '127.0.0.1', 8001)],
    conflict,
  ],
  [
    'a port on 0.0.0.0 in use conflicts with any address',
    [port('TCP', '10.0.10.10', 8001)],
    [port('TCP', '0.0.0.0', 8001)],
    conflict,
  ],
  ['0.0.0.0 on another protocol', [port('UDP', '0.0.0.0', 8001)], [port('TCP', '0.0.0.0', 8001)], success],
  [
    'UDP and TCP on 0.0.0.0 against TCP on one address',
    [port('TCP', '0.0.0.0', 8001), port('UDP', '0.0.0.0', 8001)],
    [port('TCP', '10.0.10.10', 8001)],
    conflict,
  ],
  [
    'no hostIP means 0.0.0.0 and no protocol means TCP',
    [{ containerPort: 80, hostPort: 8001 }],
    [port('TCP', '10.0.10.10', 8001)],
    conflict,
  ],
];

describe('NodePorts Filter', () => {
  it.each(cases)('%s', async (_name, wanted, used, want) => {
    const statuses = await runFilterPlugin(nodePortsRegistration, {
      nodes: [nodeFixture({ name: 'n1' })],
      pods: used.length > 0 ? [podWithPorts(used, 'n1')] : [],
      pod: podWithPorts(wanted),
    });
    expect(summarize(statuses).n1).toEqual(want);
  });

  it('pods on other nodes do not count', async () => {
    const statuses = await runFilterPlugin(nodePortsRegistration, {
      nodes: [nodeFixture({ name: 'n1' }), nodeFixture({ name: 'n2' })],
      pods: [podWithPorts([port('TCP', '0.0.0.0', 80)], 'n2')],
      pod: podWithPorts([port('TCP', '0.0.0.0', 80)]),
    });
    expect(summarize(statuses)).toEqual({ n1: success, n2: conflict });
  });
});

describe('NodePorts PreFilter', () => {
  it('skips pods without host ports', () => {
    const pod = podWithPorts([{ containerPort: 80 }]);
    expect(new NodePorts().preFilter(new CycleState(), pod).status.code).toBe('Skip');
  });

  it('collects host ports of containers and sidecar init containers, not of plain init containers', () => {
    const pod = podWithPorts([port('TCP', '', 80)]);
    pod.spec!.initContainers = [
      {
        name: 'sidecar',
        image: 'i',
        restartPolicy: 'Always',
        ports: [{ containerPort: 9, hostPort: 9000, protocol: 'UDP' }],
      },
      { name: 'init', image: 'i', ports: [{ containerPort: 9, hostPort: 9001 }] },
    ];
    expect(podHostPorts(pod)).toEqual([
      { hostIP: '0.0.0.0', protocol: 'UDP', port: 9000 },
      { hostIP: '0.0.0.0', protocol: 'TCP', port: 80 },
    ]);
    expect(podHostPorts(podFixture({ name: 'plain' }))).toEqual([]);
  });
});
