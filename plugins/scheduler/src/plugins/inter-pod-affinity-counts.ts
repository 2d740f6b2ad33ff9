// SPDX-License-Identifier: Apache-2.0
/**
 * Per-topology-pair counts for InterPodAffinity kept across scheduling cycles, so PreFilter only recounts
 * the nodes that changed since the last pod of the same kind (a workload's replicas arrive one after
 * another with identical labels and terms). As PodTopologySpread's counts: a node is recounted when its
 * `generation` differs from the one counted; nodes gone from the walked list are subtracted.
 * @module
 */
import type { NodeInfo, PodInfo } from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  type AffinityTerm,
  parsedAffinityOf,
  podMatchesAllTerms,
  termMatches,
  type WeightedAffinityTerm,
} from './inter-pod-affinity-terms.js';

/** Counts per topology pair (`key`, `value`); pairs whose count drops to zero are removed. */
export class TopologyPairCounts {
  private readonly byKey = new Map<string, Map<string, number>>();
  /** Number of pairs with a non-zero count. */
  pairs = 0;

  add(key: string, value: string, delta: number): void {
    if (delta === 0) return;
    let values = this.byKey.get(key);
    if (values === undefined) {
      values = new Map();
      this.byKey.set(key, values);
    }
    const before = values.get(value) ?? 0;
    const after = before + delta;
    if (after === 0) {
      if (before !== 0) {
        values.delete(value);
        this.pairs--;
      }
    } else {
      if (before === 0) this.pairs++;
      values.set(value, after);
    }
  }

  get(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }

  /** True when some pair with a positive count is one of the node's labels. */
  anyPositiveOnNode(labels: Readonly<Record<string, string>> | undefined): boolean {
    if (labels === undefined) return false;
    for (const [key, values] of this.byKey) {
      if (!Object.hasOwn(labels, key)) continue;
      if ((values.get(labels[key]) ?? 0) > 0) return true;
    }
    return false;
  }

  clone(): TopologyPairCounts {
    const copy = new TopologyPairCounts();
    for (const [key, values] of this.byKey) copy.byKey.set(key, new Map(values));
    copy.pairs = this.pairs;
    return copy;
  }

  /** The counts by topology key and value (read-only; some keys may have no values left). */
  get byTopologyKey(): ReadonlyMap<string, ReadonlyMap<string, number>> {
    return this.byKey;
  }

  /** The non-zero pairs as `key=value` → count, in a canonical order (for tests and debugging). */
  toRecord(): Record<string, number> {
    const pairs: [string, number][] = [];
    for (const [key, values] of this.byKey) {
      for (const [value, count] of values) pairs.push([`${key}=${value}`, count]);
    }
    pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(pairs);
  }
}

/** One node's contribution to one of an aggregate's counts. */
export interface PairContribution {
  /** Index of the counts in {@link PairCountAggregate.counts}. */
  readonly slot: number;
  readonly key: string;
  readonly value: string;
  readonly count: number;
}

interface NodeEntry {
  generation: number;
  epoch: number;
  contributions: readonly PairContribution[] | undefined;
}

/** Pushes a node's contributions onto `out`. */
export type PairContributionFunction = (nodeInfo: NodeInfo, out: PairContribution[]) => void;

/** `size` pair counts over a list of nodes for one kind of incoming pod, maintained incrementally. */
export class PairCountAggregate {
  readonly counts: readonly TopologyPairCounts[];
  private readonly perNode = new Map<string, NodeEntry>();
  private readonly scratch: PairContribution[] = [];
  private epoch = 0;

  constructor(size: number) {
    this.counts = Array.from({ length: size }, () => new TopologyPairCounts());
  }

  /**
   * Brings the counts up to date with `nodes`, recounting changed nodes only. `compute` must depend on
   * nothing but the node info (and what the aggregate's cache key captures).
   */
  refresh(nodes: readonly NodeInfo[], compute: PairContributionFunction): void {
    const epoch = ++this.epoch;
    const scratch = this.scratch;
    for (const nodeInfo of nodes) {
      let entry = this.perNode.get(nodeInfo.name);
      if (entry !== undefined) {
        entry.epoch = epoch;
        if (entry.generation === nodeInfo.generation) continue;
        this.apply(entry.contributions, -1);
      } else {
        entry = { generation: 0, epoch, contributions: undefined };
        this.perNode.set(nodeInfo.name, entry);
      }
      entry.generation = nodeInfo.generation;
      compute(nodeInfo, scratch);
      // Most nodes contribute nothing: keep no array for them.
      entry.contributions = scratch.length === 0 ? undefined : scratch.slice();
      scratch.length = 0;
      this.apply(entry.contributions, 1);
    }
    // Entries not seen this round belong to nodes that left the list.
    if (this.perNode.size > nodes.length) {
      for (const [name, entry] of this.perNode) {
        if (entry.epoch === epoch) continue;
        this.apply(entry.contributions, -1);
        this.perNode.delete(name);
      }
    }
  }

  private apply(contributions: readonly PairContribution[] | undefined, sign: 1 | -1): void {
    if (contributions === undefined) return;
    for (const c of contributions) this.counts[c.slot].add(c.key, c.value, sign * c.count);
  }
}

/** A small cache of aggregates by key; the least recently created is dropped beyond `limit`. */
export class PairCountCache {
  private readonly aggregates = new Map<string, PairCountAggregate>();

  constructor(private readonly limit = 16) {}

  get(key: string, size: number): PairCountAggregate {
    let aggregate = this.aggregates.get(key);
    if (aggregate === undefined) {
      aggregate = new PairCountAggregate(size);
      if (this.aggregates.size >= this.limit) {
        const oldest = this.aggregates.keys().next().value;
        if (oldest !== undefined) this.aggregates.delete(oldest);
      }
      this.aggregates.set(key, aggregate);
    }
    return aggregate;
  }
}

/** Slots of PreFilter's aggregate counts (in {@link PairCountAggregate.counts}). */
export const existingAntiAffinitySlot = 0;
/** See {@link existingAntiAffinitySlot}. */
export const affinitySlot = 1;
/** See {@link existingAntiAffinitySlot}. */
export const antiAffinitySlot = 2;

function selectorKey(selector: AffinityTerm['selector']): string {
  if (selector.empty) return '*';
  return selector.requirements.length === 0 ? '-' : selector.toString();
}

function termsKey(terms: readonly AffinityTerm[]): string {
  let key = '';
  for (const term of terms) {
    key += `\u0001${term.topologyKey}\u0002${selectorKey(term.selector)}\u0002${selectorKey(term.namespaceSelector)}\u0002${[...term.namespaces].sort().join(',')}`;
  }
  return key;
}

/**
 * Everything a node's PreFilter contribution depends on besides the node: the incoming pod's namespace,
 * labels and namespace labels (what existing pods' anti-affinity terms match) and its resolved required
 * terms.
 */
export function preFilterCountsKey(
  pod: Pod,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  affinityTerms: readonly AffinityTerm[],
  antiAffinityTerms: readonly AffinityTerm[],
): string {
  return `${pod.metadata?.namespace ?? 'default'}\u0000${JSON.stringify(pod.metadata?.labels ?? null)}\u0000${JSON.stringify(namespaceLabels ?? null)}\u0000${termsKey(affinityTerms)}\u0000${termsKey(antiAffinityTerms)}`;
}

/**
 * One node's part of PreFilter's three counts: its existing pods whose required anti-affinity selects
 * the incoming pod, and its existing pods that the incoming pod's required terms select.
 */
export function preFilterContributions(
  nodeInfo: NodeInfo,
  pod: Pod,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  affinityTerms: readonly AffinityTerm[],
  antiAffinityTerms: readonly AffinityTerm[],
  out: PairContribution[],
): void {
  const labels = nodeInfo.node.metadata?.labels;
  if (labels === undefined) return;
  for (const existing of podsWithRequiredAntiAffinityOf(nodeInfo)) {
    for (const term of parsedAffinityOf(existing.pod).requiredAntiAffinityTerms) {
      if (Object.hasOwn(labels, term.topologyKey) && termMatches(term, pod, namespaceLabels)) {
        out.push({
          slot: existingAntiAffinitySlot,
          key: term.topologyKey,
          value: labels[term.topologyKey],
          count: 1,
        });
      }
    }
  }
  if (affinityTerms.length === 0 && antiAffinityTerms.length === 0) return;
  for (const { pod: existing } of nodeInfo.pods) {
    if (affinityTerms.length > 0 && podMatchesAllTerms(affinityTerms, existing)) {
      for (const term of affinityTerms) {
        if (Object.hasOwn(labels, term.topologyKey))
          out.push({ slot: affinitySlot, key: term.topologyKey, value: labels[term.topologyKey], count: 1 });
      }
    }
    for (const term of antiAffinityTerms) {
      if (Object.hasOwn(labels, term.topologyKey) && termMatches(term, existing, undefined)) {
        out.push({
          slot: antiAffinitySlot,
          key: term.topologyKey,
          value: labels[term.topologyKey],
          count: 1,
        });
      }
    }
  }
}

function podsWithRequiredAntiAffinityOf(nodeInfo: NodeInfo): readonly PodInfo[] {
  return (
    nodeInfo.podsWithRequiredAntiAffinity ??
    nodeInfo.pods.filter((p) => parsedAffinityOf(p.pod).requiredAntiAffinityTerms.length > 0)
  );
}

function weightedTermsKey(terms: readonly WeightedAffinityTerm[]): string {
  let key = '';
  for (const term of terms) key += `${termsKey([term])}\u0002${term.weight}`;
  return key;
}

/**
 * Everything a node's PreScore contribution depends on besides the node and the plugin's arguments: the
 * incoming pod's namespace, labels and namespace labels, its resolved preferred terms, and whether all
 * pods or only pods with affinity are walked.
 */
export function preScoreCountsKey(
  pod: Pod,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  affinityTerms: readonly WeightedAffinityTerm[],
  antiAffinityTerms: readonly WeightedAffinityTerm[],
  allPods: boolean,
): string {
  return `${allPods ? 'all' : 'affinity'}\u0000${pod.metadata?.namespace ?? 'default'}\u0000${JSON.stringify(pod.metadata?.labels ?? null)}\u0000${JSON.stringify(namespaceLabels ?? null)}\u0000${weightedTermsKey(affinityTerms)}\u0000${weightedTermsKey(antiAffinityTerms)}`;
}

/**
 * One node's part of PreScore's summed weights (slot 0): the incoming pod's preferred terms about the
 * node's pods, and the node's pods' preferred terms (and, with `hardWeight`, required affinity terms)
 * about the incoming pod. Walks all of the node's pods when `allPods`, else only those with affinity.
 */
export function preScoreContributions(
  nodeInfo: NodeInfo,
  pod: Pod,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  affinityTerms: readonly WeightedAffinityTerm[],
  antiAffinityTerms: readonly WeightedAffinityTerm[],
  hardWeight: number,
  allPods: boolean,
  out: PairContribution[],
): void {
  const labels = nodeInfo.node.metadata?.labels;
  if (labels === undefined) return;
  const add = (
    term: AffinityTerm,
    weight: number,
    target: Pod,
    targetNamespaceLabels: Readonly<Record<string, string>> | undefined,
  ): void => {
    if (!Object.hasOwn(labels, term.topologyKey) || !termMatches(term, target, targetNamespaceLabels)) return;
    out.push({ slot: 0, key: term.topologyKey, value: labels[term.topologyKey], count: weight });
  };
  const pods = allPods ? nodeInfo.pods : podsWithAffinityOf(nodeInfo);
  for (const { pod: existing } of pods) {
    // The incoming pod's preferences about existing pods.
    for (const term of affinityTerms) add(term, term.weight, existing, undefined);
    for (const term of antiAffinityTerms) add(term, -term.weight, existing, undefined);
    // Existing pods' preferences (and, with hardWeight, requirements) about the incoming pod.
    const theirs = parsedAffinityOf(existing);
    if (!theirs.hasAffinity) continue;
    if (hardWeight > 0) {
      for (const term of theirs.requiredAffinityTerms) add(term, hardWeight, pod, namespaceLabels);
    }
    for (const term of theirs.preferredAffinityTerms) add(term, term.weight, pod, namespaceLabels);
    for (const term of theirs.preferredAntiAffinityTerms) add(term, -term.weight, pod, namespaceLabels);
  }
}

function podsWithAffinityOf(nodeInfo: NodeInfo): readonly PodInfo[] {
  return nodeInfo.podsWithAffinity ?? nodeInfo.pods.filter((p) => parsedAffinityOf(p.pod).hasAffinity);
}
