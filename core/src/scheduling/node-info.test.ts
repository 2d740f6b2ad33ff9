// SPDX-License-Identifier: Apache-2.0
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { nodeFixture, podFixture } from '../testing/fixtures.js';
import { affinityTermMatches, podKey, SchedulerNodeInfo, SchedulerPodInfo } from './node-info.js';

function withPorts(pod: Pod, ports: { hostPort: number; hostIP?: string; protocol?: string }[]): Pod {
  pod.spec!.containers[0].ports = ports.map((p) => ({ containerPort: p.hostPort, ...p }));
  return pod;
}

describe('SchedulerNodeInfo', () => {
  it('takes allocatable from node.status.allocatable', () => {
    const info = new SchedulerNodeInfo(
      nodeFixture({
        name: 'n1',
        capacity: { cpu: '8', memory: '16Gi', pods: '110' },
        allocatable: { cpu: '7500m', memory: '15Gi', pods: '100' },
      }),
    );
    expect(info.name).toBe('n1');
    expect(info.allocatable).toMatchObject({ milliCPU: 7500, memory: 15 * 1024 ** 3, pods: 100 });
  });

  it('adds and removes pods with their requests, ports and affinity lists', () => {
    const info = new SchedulerNodeInfo(nodeFixture({ name: 'n1' }));
    const g0 = info.generation;
    const a = podFixture({ name: 'a', requests: { cpu: '500m', memory: '1Gi' } });
    const b = withPorts(podFixture({ name: 'b' }), [
      { hostPort: 80 },
      { hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' },
    ]);
    b.spec!.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'b' } } },
        ],
      },
    };
    info.addPod(a);
    const g1 = info.generation;
    expect(g1).toBeGreaterThan(g0);
    info.addPod(new SchedulerPodInfo(b));
    expect(info.pods.map((p) => p.pod.metadata?.name)).toEqual(['a', 'b']);
    expect(info.requested).toMatchObject({ milliCPU: 500, memory: 1024 ** 3, pods: 2 });
    // b has no requests: 100m / 200Mi counted for spreading
    expect(info.nonZeroRequested).toMatchObject({
      milliCPU: 600,
      memory: 1024 ** 3 + 200 * 1024 ** 2,
      pods: 2,
    });
    expect(info.usedPorts).toEqual([
      { hostIP: '0.0.0.0', protocol: 'TCP', port: 80 },
      { hostIP: '10.0.0.1', protocol: 'UDP', port: 53 },
    ]);
    expect(info.podsWithAffinity.map((p) => p.pod.metadata?.name)).toEqual(['b']);
    expect(info.podsWithRequiredAntiAffinity.map((p) => p.pod.metadata?.name)).toEqual(['b']);

    expect(info.removePod(podFixture({ name: 'b' }))).toBe(true);
    expect(info.generation).toBeGreaterThan(g1);
    expect(info.pods.map((p) => p.pod.metadata?.name)).toEqual(['a']);
    expect(info.requested).toMatchObject({ milliCPU: 500, pods: 1 });
    expect(info.usedPorts).toEqual([]);
    expect(info.podsWithAffinity).toEqual([]);
    expect(info.removePod(podFixture({ name: 'missing' }))).toBe(false);
  });

  it.each([
    ['same port, wildcard in use', [{ hostPort: 80 }], ['10.0.0.1', 'TCP', 80], true],
    ['same port, wildcard asked', [{ hostPort: 80, hostIP: '10.0.0.1' }], ['0.0.0.0', 'TCP', 80], true],
    ['other IP', [{ hostPort: 80, hostIP: '10.0.0.1' }], ['10.0.0.2', 'TCP', 80], false],
    ['other protocol', [{ hostPort: 80 }], ['0.0.0.0', 'UDP', 80], false],
    ['other port', [{ hostPort: 80 }], ['', 'TCP', 81], false],
  ] as const)('hostPortConflicts: %s', (_name, ports, [ip, protocol, port], want) => {
    const info = new SchedulerNodeInfo(nodeFixture({ name: 'n1' }));
    info.addPod(withPorts(podFixture({ name: 'a' }), [...ports]));
    expect(info.hostPortConflicts(ip, protocol, port)).toBe(want);
  });

  it('clone is independent and keeps the generation', () => {
    const info = new SchedulerNodeInfo(nodeFixture({ name: 'n1' }));
    info.addPod(podFixture({ name: 'a', requests: { cpu: '1' } }));
    const copy = info.clone();
    expect(copy.generation).toBe(info.generation);
    copy.addPod(podFixture({ name: 'b', requests: { cpu: '1' } }));
    expect(info.requested.milliCPU).toBe(1000);
    expect(copy.requested.milliCPU).toBe(2000);
    expect(info.pods).toHaveLength(1);
    info.removePod(podFixture({ name: 'a' }));
    expect(copy.pods).toHaveLength(2);
  });

  it('identifies pods by uid when they have one', () => {
    const a = podFixture({ name: 'a' });
    a.metadata = { ...a.metadata, uid: 'u1' };
    expect(podKey(a)).toBe('u1');
    expect(podKey(podFixture({ name: 'b', namespace: 'ns' }))).toBe('ns/b');
  });
});

describe('SchedulerPodInfo affinity terms', () => {
  it('compiles terms with the pod namespace as default', () => {
    const pod = podFixture({ name: 'p', namespace: 'team' });
    pod.spec!.affinity = {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { topologyKey: 'zone', labelSelector: { matchLabels: { app: 'db' } } },
        ],
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 5,
            podAffinityTerm: {
              topologyKey: 'zone',
              namespaces: ['other'],
              labelSelector: { matchLabels: { app: 'x' } },
            },
          },
        ],
      },
    };
    const info = new SchedulerPodInfo(pod);
    expect(info.hasAffinity).toBe(true);
    expect(info.hasRequiredAntiAffinity).toBe(false);
    const [term] = info.requiredAffinityTerms;
    expect([...term.namespaces]).toEqual(['team']);
    expect(
      affinityTermMatches(term, podFixture({ name: 'd', namespace: 'team', labels: { app: 'db' } })),
    ).toBe(true);
    expect(
      affinityTermMatches(term, podFixture({ name: 'd', namespace: 'else', labels: { app: 'db' } })),
    ).toBe(false);
    expect(info.preferredAffinityTerms[0].weight).toBe(5);
    expect([...info.preferredAffinityTerms[0].term.namespaces]).toEqual(['other']);
    expect(info.requiredAntiAffinityTerms).toEqual([]);
  });
});
