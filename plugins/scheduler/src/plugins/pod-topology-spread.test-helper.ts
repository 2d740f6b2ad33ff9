// SPDX-License-Identifier: Apache-2.0
// Small fixtures for the PodTopologySpread and InterPodAffinity tests: nodes, pods, a snapshot that
// implements the NodeInfoLister contract, and a handle around it.
import {
  CycleState,
  type FilterPlugin,
  type KubeObject,
  type NodeInfo,
  type NodeInfoLister,
  type NodeScore,
  type PodInfo,
  type PreFilterPlugin,
  type PreScorePlugin,
  type SchedulingFrameworkHandle,
  type SchedulingResources,
  SchedulingStatus,
  type ScorePlugin,
} from '@cpkit/core';
import type { Node, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { parsedAffinityOf } from './inter-pod-affinity-terms.js';

const noResources: SchedulingResources = { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };

export function node(name: string, labels: Record<string, string> = {}, spec: Node['spec'] = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec,
  };
}

/** A node without the hostname label (to test missing topology keys). */
export function bareNode(name: string, labels: Record<string, string> = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } };
}

let podCounter = 0;

export function pod(
  options: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    nodeName?: string;
    spec?: Partial<PodSpec>;
    terminating?: boolean;
    ownerReferences?: NonNullable<Pod['metadata']>['ownerReferences'];
  } = {},
): Pod {
  const name = options.name ?? `pod-${++podCounter}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: options.namespace ?? 'default',
      uid: `uid-${name}-${podCounter}`,
      labels: options.labels,
      deletionTimestamp: options.terminating ? '2026-01-01T00:00:00Z' : undefined,
      ownerReferences: options.ownerReferences,
    },
    spec: { containers: [{ name: 'c', image: 'pause' }], nodeName: options.nodeName, ...options.spec },
  };
}

class FakeNodeInfo implements NodeInfo {
  readonly name: string;
  readonly pods: PodInfo[] = [];
  readonly allocatable = noResources;
  readonly requested = noResources;
  readonly nonZeroRequested = noResources;
  readonly usedPorts = [];
  readonly generation = 1;
  constructor(readonly node: Node) {
    this.name = node.metadata?.name ?? '';
  }
  get podsWithAffinity(): PodInfo[] {
    return this.pods.filter((p) => parsedAffinityOf(p.pod).hasAffinity);
  }
  get podsWithRequiredAntiAffinity(): PodInfo[] {
    return this.pods.filter((p) => parsedAffinityOf(p.pod).requiredAntiAffinityTerms.length > 0);
  }
}

export class FakeSnapshot implements NodeInfoLister {
  readonly infos: NodeInfo[];
  constructor(nodes: Node[], pods: Pod[]) {
    const byName = new Map<string, FakeNodeInfo>();
    this.infos = nodes.map((n) => {
      const info = new FakeNodeInfo(n);
      byName.set(info.name, info);
      return info;
    });
    for (const p of pods) {
      const target = p.spec?.nodeName ? byName.get(p.spec.nodeName) : undefined;
      target?.pods.push({ pod: p });
    }
  }
  list(): readonly NodeInfo[] {
    return this.infos;
  }
  get(name: string): NodeInfo | undefined {
    return this.infos.find((i) => i.name === name);
  }
  havePodsWithAffinityList(): readonly NodeInfo[] {
    return this.infos.filter((i) => (i.podsWithAffinity?.length ?? 0) > 0);
  }
  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[] {
    return this.infos.filter((i) => (i.podsWithRequiredAntiAffinity?.length ?? 0) > 0);
  }
}

/** A handle over the snapshot; `objects` are served by `objectListers` keyed by plural resource. */
export function handleFor(
  snapshot: NodeInfoLister,
  objects: Record<string, KubeObject[]> = {},
): SchedulingFrameworkHandle {
  const key = (o: KubeObject): string =>
    o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata?.name ?? '');
  return {
    apiClient: undefined as never,
    logger: undefined as never,
    nodeInfos: () => snapshot,
    getWaitingPod: () => undefined,
    rejectWaitingPod: () => false,
    runFilterPlugins: () => SchedulingStatus.success(),
    parallelism: 1,
    objectListers: {
      forKind: <T extends KubeObject>(kind: unknown) => {
        const items = (objects[String(kind)] ?? []) as T[];
        return {
          get: (k: string) => items.find((o) => key(o) === k),
          list: (namespace?: string) =>
            namespace === undefined ? items : items.filter((o) => o.metadata?.namespace === namespace),
          keys: () => items.map(key),
          byIndex: () => [],
        };
      },
    },
  };
}

/** Runs PreFilter and then Filter on every node; returns the PreFilter status and a status per node. */
export async function runFilter(
  plugin: PreFilterPlugin & FilterPlugin,
  incoming: Pod,
  snapshot: NodeInfoLister,
): Promise<{ preFilter: SchedulingStatus; state: CycleState; filter: Record<string, SchedulingStatus> }> {
  const state = new CycleState();
  const { status } = await plugin.preFilter(state, incoming, snapshot.list());
  const filter: Record<string, SchedulingStatus> = {};
  for (const info of snapshot.list()) {
    filter[info.name] = status.isSkip() ? SchedulingStatus.success() : plugin.filter(state, incoming, info);
  }
  return { preFilter: status, state, filter };
}

/** A summary of per-node filter results: `'Success'` or `'<code>: <reasons>'`. */
export function summarize(filter: Record<string, SchedulingStatus>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, status] of Object.entries(filter)) {
    out[name] = status.isSuccess() ? 'Success' : `${status.code}: ${status.message()}`;
  }
  return out;
}

/** Runs PreScore, Score and NormalizeScore over `nodes` (all nodes of the snapshot by default). */
export async function runScore(
  plugin: PreScorePlugin & ScorePlugin,
  incoming: Pod,
  snapshot: NodeInfoLister,
  nodes: readonly NodeInfo[] = snapshot.list(),
): Promise<{ preScore: SchedulingStatus; scores: Record<string, number> }> {
  const state = new CycleState();
  const preScore = await plugin.preScore(state, incoming, nodes);
  if (!preScore.isSuccess()) return { preScore, scores: {} };
  const list: NodeScore[] = [];
  for (const info of nodes) {
    const score = plugin.score(state, incoming, info);
    if (typeof score !== 'number') throw new Error(`score failed: ${score.toString()}`);
    list.push({ name: info.name, score });
  }
  plugin.scoreExtensions()?.normalizeScore(state, incoming, list);
  return { preScore, scores: Object.fromEntries(list.map((s) => [s.name, s.score])) };
}
