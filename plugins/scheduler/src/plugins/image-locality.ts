// SPDX-License-Identifier: Apache-2.0
import {
  type CycleState,
  MaxNodeScore,
  type NodeInfo,
  type PreScorePlugin,
  type SchedulerPlugin,
  type SchedulingFrameworkHandle,
  SchedulingStatus,
  type ScoreExtensions,
  type ScorePlugin,
  StateKey,
} from '@cpkit/core';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';

const mb = 1024 * 1024;
/** Below this sum of (scaled) image sizes a node scores 0, so tiny images do not sway placement. */
const minThreshold = 23 * mb;
/** Per container, the sum of image sizes at which a node scores 100. */
const maxContainerThreshold = 1000 * mb;

/**
 * The image name as the container runtime reports it in `node.status.images`: a name without a tag gets
 * `:latest` (a digest or a tag is kept).
 * @category Scheduler plugins
 */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

const noImages: ReadonlyMap<string, number> = new Map();
const imagesByNode = new WeakMap<Node, ReadonlyMap<string, number>>();

/** Image name → size in bytes of every image the node reports, cached per node object. */
function imagesOf(node: Node): ReadonlyMap<string, number> {
  const list = node.status?.images;
  if (list === undefined || list.length === 0) return noImages;
  let images = imagesByNode.get(node);
  if (images === undefined) {
    const map = new Map<string, number>();
    for (const image of list) for (const name of image.names ?? []) map.set(name, image.sizeBytes ?? 0);
    images = map;
    imagesByNode.set(node, images);
  }
  return images;
}

/**
 * How many nodes hold each image, kept up to date incrementally: a node object that differs from the one
 * seen last time is taken out and put back, so an unchanged cluster costs one identity check per node.
 */
class ImageSpreadIndex {
  private nodes: (Node | undefined)[] = [];
  private readonly counts = new Map<string, number>();

  sync(nodeInfos: readonly NodeInfo[]): void {
    const seen = this.nodes;
    if (seen.length !== nodeInfos.length) {
      // Nodes were added or removed: positions shifted, start over.
      for (const node of seen) if (node) this.account(node, -1);
      this.nodes = new Array(nodeInfos.length);
      for (let i = 0; i < nodeInfos.length; i++) {
        this.nodes[i] = nodeInfos[i].node;
        this.account(nodeInfos[i].node, 1);
      }
      return;
    }
    for (let i = 0; i < nodeInfos.length; i++) {
      const node = nodeInfos[i].node;
      const before = seen[i];
      if (before === node) continue;
      if (before) this.account(before, -1);
      this.account(node, 1);
      seen[i] = node;
    }
  }

  count(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  private account(node: Node, delta: 1 | -1): void {
    const images = imagesOf(node);
    if (images.size === 0) return;
    for (const name of images.keys()) {
      const next = (this.counts.get(name) ?? 0) + delta;
      if (next === 0) this.counts.delete(name);
      else this.counts.set(name, next);
    }
  }
}

interface ImageLocalityPreScoreState {
  /** Normalized image of every init and regular container. */
  readonly images: readonly string[];
  /** For each entry of `images`, the share of all nodes that hold it. */
  readonly spread: readonly number[];
}

const preScoreStateKey = new StateKey<ImageLocalityPreScoreState>('PreScoreImageLocality');

/** Upstream's calculatePriority: the summed image score scaled between the thresholds onto 0–100. */
function priorityOf(sumScores: number, numContainers: number): number {
  if (numContainers === 0) return 0;
  const maxThreshold = maxContainerThreshold * numContainers;
  const clamped = Math.min(Math.max(sumScores, minThreshold), maxThreshold);
  return Math.trunc((MaxNodeScore * (clamped - minThreshold)) / (maxThreshold - minThreshold));
}

/**
 * PreScore and Score `ImageLocality`: favours nodes that already hold the pod's images (from
 * `node.status.images`), each image counting its size times the share of nodes that hold it, so an image on
 * every node does not pull all pods to one place. PreScore returns Skip when no node holds any of the
 * pod's images (every score would be 0).
 * @category Scheduler plugins
 */
export class ImageLocality implements PreScorePlugin, ScorePlugin {
  static readonly pluginName = 'ImageLocality';
  readonly name = ImageLocality.pluginName;
  private readonly index = new ImageSpreadIndex();

  constructor(private readonly handle: SchedulingFrameworkHandle) {}

  preScore(state: CycleState, pod: Pod): SchedulingStatus {
    const s = this.compute(pod);
    if (s === undefined) return SchedulingStatus.skip();
    state.write(preScoreStateKey, s);
    return SchedulingStatus.success();
  }

  /** The pod's images and their spread; `undefined` when no node holds any of them. */
  private compute(pod: Pod): ImageLocalityPreScoreState | undefined {
    const nodeInfos = this.handle.nodeInfos().list();
    if (nodeInfos.length === 0) return undefined;
    this.index.sync(nodeInfos);
    const images: string[] = [];
    const spread: number[] = [];
    let anywhere = false;
    for (const container of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const image = normalizedImageName(container.image ?? '');
      const count = this.index.count(image);
      if (count > 0) anywhere = true;
      images.push(image);
      spread.push(count / nodeInfos.length);
    }
    return anywhere ? { images, spread } : undefined;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number | SchedulingStatus {
    const nodeImages = imagesOf(nodeInfo.node);
    if (nodeImages.size === 0) return 0;
    const s = state.read(preScoreStateKey) ?? this.compute(pod);
    if (s === undefined) return 0;
    let sum = 0;
    for (let i = 0; i < s.images.length; i++) {
      const size = nodeImages.get(s.images[i]);
      if (size !== undefined) sum += Math.trunc(size * s.spread[i]);
    }
    return priorityOf(sum, s.images.length);
  }

  scoreExtensions(): ScoreExtensions | undefined {
    return undefined;
  }
}

/** Registration of {@link ImageLocality}; it takes no arguments. @category Scheduler plugins */
export const imageLocalityRegistration: SchedulerPlugin = {
  name: ImageLocality.pluginName,
  factory: (_args, handle) => new ImageLocality(handle),
};
