// SPDX-License-Identifier: Apache-2.0
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { isStatusError } from '../errors/status-error.js';
import { computePodRequests, nonZeroRequests, resourceListToResources } from './resources.js';

function container(name: string, requests?: Record<string, string>, restartPolicy?: 'Always'): Container {
  return {
    name,
    ...(requests ? { resources: { requests } } : {}),
    ...(restartPolicy ? { restartPolicy } : {}),
  };
}

function pod(spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], ...spec } };
}

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

describe('computePodRequests', () => {
  it.each([
    ['no containers', pod({}), { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 1, scalar: {} }],
    [
      'sum of containers',
      pod({
        containers: [
          container('a', { cpu: '100m', memory: '1Gi' }),
          container('b', { cpu: '1.5', memory: '512Mi' }),
        ],
      }),
      { milliCPU: 1600, memory: Gi + 512 * Mi, ephemeralStorage: 0, pods: 1, scalar: {} },
    ],
    [
      'init container larger than the sum wins',
      pod({
        containers: [container('a', { cpu: '100m' })],
        initContainers: [container('i1', { cpu: '2' }), container('i2', { cpu: '500m' })],
      }),
      { milliCPU: 2000, memory: 0, ephemeralStorage: 0, pods: 1, scalar: {} },
    ],
    [
      'sidecar init containers add and run under later init containers',
      pod({
        containers: [container('a', { cpu: '100m' })],
        initContainers: [container('sidecar', { cpu: '200m' }, 'Always'), container('i1', { cpu: '1' })],
      }),
      // max(100m + 200m, 1000m + 200m)
      { milliCPU: 1200, memory: 0, ephemeralStorage: 0, pods: 1, scalar: {} },
    ],
    [
      'overhead, ephemeral storage and extended resources',
      pod({
        containers: [
          container('a', {
            cpu: '100m',
            'ephemeral-storage': '1Gi',
            'nvidia.com/gpu': '2',
            'hugepages-2Mi': '4Mi',
          }),
        ],
        overhead: { cpu: '50m', memory: '10Mi' },
      }),
      {
        milliCPU: 150,
        memory: 10 * Mi,
        ephemeralStorage: Gi,
        pods: 1,
        scalar: { 'nvidia.com/gpu': 2, 'hugepages-2Mi': 4 * Mi },
      },
    ],
    [
      'max per resource across init containers',
      pod({
        containers: [container('a', { cpu: '1', memory: '100Mi' })],
        initContainers: [
          container('i1', { cpu: '500m', memory: '1Gi' }),
          container('i2', { 'example.com/foo': '3' }),
        ],
      }),
      { milliCPU: 1000, memory: Gi, ephemeralStorage: 0, pods: 1, scalar: { 'example.com/foo': 3 } },
    ],
  ])('%s', (_name, input, want) => {
    expect(computePodRequests(input).requests).toEqual(want);
  });

  it.each([
    ['no requests get 100m / 200Mi', [container('a')], { milliCPU: 100, memory: 200 * Mi }],
    ['per container', [container('a'), container('b', { cpu: '1' })], { milliCPU: 1100, memory: 400 * Mi }],
    ['explicit zero stays zero', [container('a', { cpu: '0', memory: '0' })], { milliCPU: 0, memory: 0 }],
  ])('nonZeroRequests: %s', (_name, containers, want) => {
    expect(nonZeroRequests(pod({ containers }))).toMatchObject(want);
  });

  it('is cached per pod object', () => {
    const p = pod({ containers: [container('a', { cpu: '1' })] });
    expect(computePodRequests(p)).toBe(computePodRequests(p));
  });

  it('names the field of an invalid quantity', () => {
    const p = pod({ containers: [container('a'), container('b', { cpu: 'lots' })] });
    let caught: unknown;
    try {
      computePodRequests(p);
    } catch (error) {
      caught = error;
    }
    expect(isStatusError(caught, 'BadRequest')).toBe(true);
    expect((caught as Error).message).toContain('spec.containers[1].resources.requests.cpu');
  });
});

describe('resourceListToResources', () => {
  it('reads node allocatable including pods', () => {
    expect(resourceListToResources({ cpu: '4', memory: '32Gi', pods: '110' })).toEqual({
      milliCPU: 4000,
      memory: 32 * Gi,
      ephemeralStorage: 0,
      pods: 110,
      scalar: {},
    });
  });
});
