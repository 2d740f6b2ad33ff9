// SPDX-License-Identifier: Apache-2.0
/**
 * Per-domain counts of matching pods kept across scheduling cycles, so PodTopologySpread's PreFilter
 * only recounts the nodes that changed since the last pod with the same constraints (a workload's
 * replicas arrive one after another with identical constraints). A node is recounted when its
 * `generation` differs from the one counted; nodes gone from the snapshot are subtracted.
 * @module
 */
import type { NodeInfo } from '@cpkit/core';

/** One node's part in the counts: per constraint, its domain (when eligible) and its matching pods. */
interface NodeContribution {
  generation: number;
  epoch: number;
  /** Per constraint: the node's topology value when the node is an eligible domain member, else undefined. */
  readonly values: (string | undefined)[];
  readonly counts: number[];
}

/**
 * Computes a node's contribution: fills `values[i]` (undefined when the node does not count for
 * constraint i) and `counts[i]`.
 */
export type NodeContributionFunction = (
  nodeInfo: NodeInfo,
  values: (string | undefined)[],
  counts: number[],
) => void;

/**
 * Domain counts for one set of constraints as seen by one kind of pod (same namespace, selectors,
 * topology keys and node-inclusion inputs), maintained incrementally.
 */
export class SpreadCountAggregate {
  /** Per constraint: domain → matching pods. A domain is present while it has an eligible node. */
  readonly counts: Map<string, number>[];
  /** Per constraint: domain → eligible nodes in it (to know when a domain disappears). */
  private readonly domainNodes: Map<string, number>[];
  /** Per constraint: count → domains with that count, so the minimum needs no scan of every domain. */
  private readonly histogram: Map<number, number>[];
  private readonly perNode = new Map<string, NodeContribution>();
  private epoch = 0;

  constructor(private readonly size: number) {
    this.counts = Array.from({ length: size }, () => new Map<string, number>());
    this.domainNodes = Array.from({ length: size }, () => new Map<string, number>());
    this.histogram = Array.from({ length: size }, () => new Map<number, number>());
  }

  /** The smallest count among constraint `i`'s domains; `Number.MAX_SAFE_INTEGER` when it has none. */
  minimum(i: number): number {
    let min = Number.MAX_SAFE_INTEGER;
    for (const count of this.histogram[i].keys()) if (count < min) min = count;
    return min;
  }

  /** Brings the counts up to date with `nodes` (the whole snapshot), recounting changed nodes only. */
  refresh(nodes: readonly NodeInfo[], compute: NodeContributionFunction): void {
    const epoch = ++this.epoch;
    for (const nodeInfo of nodes) {
      let entry = this.perNode.get(nodeInfo.name);
      if (entry !== undefined) {
        entry.epoch = epoch;
        if (entry.generation === nodeInfo.generation) continue;
        this.apply(entry, -1);
      } else {
        entry = {
          generation: 0,
          epoch,
          values: new Array<string | undefined>(this.size).fill(undefined),
          counts: new Array<number>(this.size).fill(0),
        };
        this.perNode.set(nodeInfo.name, entry);
      }
      entry.generation = nodeInfo.generation;
      compute(nodeInfo, entry.values, entry.counts);
      this.apply(entry, 1);
    }
    // Entries not seen this round belong to nodes that left the snapshot.
    if (this.perNode.size > nodes.length) {
      for (const [name, entry] of this.perNode) {
        if (entry.epoch === epoch) continue;
        this.apply(entry, -1);
        this.perNode.delete(name);
      }
    }
  }

  private apply(entry: NodeContribution, sign: 1 | -1): void {
    for (let i = 0; i < this.size; i++) {
      const value = entry.values[i];
      if (value === undefined) continue;
      const counts = this.counts[i];
      const domainNodes = this.domainNodes[i];
      const histogram = this.histogram[i];
      const before = counts.get(value);
      if (before !== undefined) bump(histogram, before, -1);
      const nodesLeft = (domainNodes.get(value) ?? 0) + sign;
      if (nodesLeft === 0) {
        domainNodes.delete(value);
        counts.delete(value);
      } else {
        const after = (before ?? 0) + sign * entry.counts[i];
        domainNodes.set(value, nodesLeft);
        counts.set(value, after);
        bump(histogram, after, 1);
      }
    }
  }
}

function bump(histogram: Map<number, number>, count: number, delta: number): void {
  const domains = (histogram.get(count) ?? 0) + delta;
  if (domains === 0) histogram.delete(count);
  else histogram.set(count, domains);
}

/** A small cache of aggregates by key; the least recently created is dropped beyond `limit`. */
export class SpreadCountCache {
  private readonly aggregates = new Map<string, SpreadCountAggregate>();

  constructor(private readonly limit = 16) {}

  get(key: string, size: number): SpreadCountAggregate {
    let aggregate = this.aggregates.get(key);
    if (aggregate === undefined) {
      aggregate = new SpreadCountAggregate(size);
      if (this.aggregates.size >= this.limit) {
        const oldest = this.aggregates.keys().next().value;
        if (oldest !== undefined) this.aggregates.delete(oldest);
      }
      this.aggregates.set(key, aggregate);
    }
    return aggregate;
  }
}
