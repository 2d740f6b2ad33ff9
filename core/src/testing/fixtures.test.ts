// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { deploymentFixture, nodeFixture, podFixture } from './fixtures.js';

describe('fixtures', () => {
  it('builds a pod with requests bound to a node', () => {
    const pod = podFixture({ name: 'web', requests: { cpu: '100m' }, nodeName: 'n1', phase: 'Running' });
    expect(pod.metadata).toEqual({ name: 'web', namespace: 'default' });
    expect(pod.spec?.containers[0].resources?.requests).toEqual({ cpu: '100m' });
    expect(pod.spec?.nodeName).toBe('n1');
    expect(pod.status?.phase).toBe('Running');
  });

  it('builds a ready node whose allocatable defaults to its capacity', () => {
    const node = nodeFixture({ name: 'n1', capacity: { cpu: '2', memory: '4Gi', pods: '10' } });
    expect(node.status?.allocatable).toEqual({ cpu: '2', memory: '4Gi', pods: '10' });
    expect(node.metadata?.labels?.['kubernetes.io/hostname']).toBe('n1');
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(nodeFixture({ name: 'n2', ready: false }).status?.conditions?.[0].status).toBe('False');
  });

  it('builds a deployment whose selector matches its template', () => {
    const deployment = deploymentFixture({ name: 'web', replicas: 3 });
    expect(deployment.spec?.selector.matchLabels).toEqual(deployment.spec?.template.metadata?.labels);
    expect(deployment.spec?.replicas).toBe(3);
  });

  it('does not share option objects with the result', () => {
    const labels = { app: 'x' };
    const pod = podFixture({ name: 'p', labels });
    labels.app = 'changed';
    expect(pod.metadata?.labels).toEqual({ app: 'x' });
  });
});
