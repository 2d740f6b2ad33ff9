// SPDX-License-Identifier: Apache-2.0
import { nodeFixture, podFixture, runScorePlugin } from '@cpkit/core/testing';
import type { ContainerImage, Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { imageLocalityRegistration, normalizedImageName } from './image-locality.js';

const mb = 1024 * 1024;

function nodeWithImages(name: string, images: ContainerImage[]): Node {
  const node = nodeFixture({ name });
  (node.status as { images?: ContainerImage[] }).images = images;
  return node;
}

// The nodes of upstream's ImageLocality tests.
const node403002000 = (): Node =>
  nodeWithImages('n1', [
    { names: ['gcr.io/40:latest', 'gcr.io/40:v1'], sizeBytes: 40 * mb },
    { names: ['gcr.io/300:latest', 'gcr.io/300:v1'], sizeBytes: 300 * mb },
    { names: ['gcr.io/2000:latest'], sizeBytes: 2000 * mb },
  ]);
const node25010 = (): Node =>
  nodeWithImages('n2', [
    { names: ['gcr.io/250:latest'], sizeBytes: 250 * mb },
    { names: ['gcr.io/10:latest', 'gcr.io/10:v1'], sizeBytes: 10 * mb },
  ]);
const nodeWithoutImages = (): Node => nodeWithImages('n3', []);

function podWithImages(...images: string[]): Pod {
  const pod = podFixture({ name: 'p' });
  pod.spec!.containers = images.map((image, i) => ({ name: `c${i}`, image }));
  return pod;
}

describe('ImageLocality Score', () => {
  it.each<[string, Pod, Node[], Record<string, number>]>([
    [
      'two images on two nodes: the node with the larger one wins',
      podWithImages('gcr.io/40', 'gcr.io/250'),
      [node403002000(), node25010()],
      // n1: 40MB × ½ = 20MB, below the 23MB floor → 0; n2: 250MB × ½ = 125MB → (125-23)/(2000-23) → 5.
      { n1: 0, n2: 5 },
    ],
    [
      'two images on one node',
      podWithImages('gcr.io/40', 'gcr.io/300'),
      [node403002000(), node25010()],
      // n1: (40 + 300)MB × ½ = 170MB → 7.
      { n1: 7, n2: 0 },
    ],
    [
      'images beyond the per-container threshold are capped',
      podWithImages('gcr.io/2000', 'gcr.io/10'),
      [node403002000(), node25010()],
      // n1: 2000MB × ½ = 1000MB of a 2000MB cap → 49; n2: 10MB × ½ → 0.
      { n1: 49, n2: 0 },
    ],
    [
      'the spread over three nodes scales the size down',
      podWithImages('gcr.io/2000:latest'),
      [node403002000(), node25010(), nodeWithoutImages()],
      // n1: 2000MB × ⅓ = 666.67MB of a 1000MB cap → 65.
      { n1: 65, n2: 0, n3: 0 },
    ],
    [
      'init containers count',
      (() => {
        const pod = podWithImages('gcr.io/10');
        pod.spec!.initContainers = [{ name: 'init', image: 'gcr.io/300:v1' }];
        return pod;
      })(),
      [node403002000(), node25010()],
      // n1: 300MB × ½ = 150MB of a 2000MB cap → 6; n2: 10MB × ½ → 0.
      { n1: 6, n2: 0 },
    ],
    [
      'images nowhere: every node 0',
      podWithImages('busybox'),
      [node403002000(), node25010()],
      { n1: 0, n2: 0 },
    ],
  ])('%s', async (_name, pod, nodes, want) => {
    expect(await runScorePlugin(imageLocalityRegistration, { nodes, pod })).toEqual(want);
  });

  it('follows node changes between cycles', async () => {
    // One plugin instance across runs, as in a running scheduler.
    const plugin = await imageLocalityRegistration.factory(undefined, {
      nodeInfos: () => ({ list: () => currentNodes, get: () => undefined }),
    } as never);
    let currentNodes: { node: Node; name: string }[] = [];
    const run = async (nodes: Node[]) => {
      currentNodes = nodes.map((node) => ({ node, name: node.metadata!.name! }));
      return runScorePlugin(plugin, { nodes, pod: podWithImages('gcr.io/250') });
    };
    expect(await run([node403002000(), nodeWithoutImages()])).toEqual({ n1: 0, n3: 0 });
    // n3 pulls the image: now on one of two nodes, 250MB × ½ of a 1000MB cap → 10.
    const pulled = nodeWithImages('n3', [{ names: ['gcr.io/250:latest'], sizeBytes: 250 * mb }]);
    expect(await run([node403002000(), pulled])).toEqual({ n1: 0, n3: 10 });
    // Both hold it: the spread is 1 and the score grows to (250-23)/(1000-23) → 23.
    const both = nodeWithImages('n1', [{ names: ['gcr.io/250:latest'], sizeBytes: 250 * mb }]);
    expect(await run([both, pulled])).toEqual({ n1: 23, n3: 23 });
    // A node leaves.
    expect(await run([pulled])).toEqual({ n3: 23 });
  });
});

describe('normalizedImageName', () => {
  it.each([
    ['busybox', 'busybox:latest'],
    ['busybox:1.36', 'busybox:1.36'],
    ['registry:5000/busybox', 'registry:5000/busybox:latest'],
    ['registry:5000/busybox:1', 'registry:5000/busybox:1'],
  ])('%s → %s', (name, want) => {
    expect(normalizedImageName(name)).toBe(want);
  });
});
