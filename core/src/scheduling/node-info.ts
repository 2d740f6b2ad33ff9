// SPDX-License-Identifier: Apache-2.0
import type { Node, Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { type LabelSelectorMatcher, labelSelectorFromObject } from '../api/label-selector.js';
import type { NodeInfo, PodInfo, SchedulingResources, UsedHostPort } from '../contracts/scheduler-plugin.js';
import {
  addResources,
  cloneResources,
  computePodRequests,
  emptyResources,
  type MutableSchedulingResources,
  resourceListToResources,
} from './resources.js';

/**
 * A pod affinity term with its selectors compiled, as upstream's `AffinityTerm`.
 * @category Scheduling
 */
export interface AffinityTerm {
  /** Namespaces the term applies to; the pod's own namespace when the term names none and has no selector. */
  readonly namespaces: ReadonlySet<string>;
  readonly selector: LabelSelectorMatcher;
  readonly topologyKey: string;
  /** Selects namespaces by label; selects nothing when the term has no `namespaceSelector`. */
  readonly namespaceSelector: LabelSelectorMatcher;
}

/** A preferred affinity term with its weight. @category Scheduling */
export interface WeightedAffinityTerm {
  readonly term: AffinityTerm;
  readonly weight: number;
}

/** True when `pod` (in `podNamespaceLabels`' namespace) matches the term. @category Scheduling */
export function affinityTermMatches(
  term: AffinityTerm,
  pod: Pod,
  namespaceLabels?: Readonly<Record<string, string>>,
): boolean {
  const namespace = pod.metadata?.namespace ?? 'default';
  if (!term.namespaces.has(namespace) && !term.namespaceSelector.matches(namespaceLabels ?? {})) {
    return false;
  }
  return term.selector.matches(pod.metadata?.labels);
}

function compileTerm(pod: Pod, term: PodAffinityTerm): AffinityTerm {
  const namespaces = new Set(term.namespaces ?? []);
  if (namespaces.size === 0 && term.namespaceSelector === undefined) {
    namespaces.add(pod.metadata?.namespace ?? 'default');
  }
  return {
    namespaces,
    selector: labelSelectorFromObject(term.labelSelector),
    topologyKey: term.topologyKey,
    namespaceSelector: labelSelectorFromObject(term.namespaceSelector),
  };
}

const noTerms: readonly never[] = Object.freeze([]);

/**
 * The key the scheduler identifies a pod by: its uid, or `namespace/name` when it has none (fixtures).
 * @category Scheduling
 */
export function podKey(pod: Pod): string {
  return pod.metadata?.uid ?? `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

/**
 * The scheduler's {@link PodInfo}: the pod with its requests computed once and its affinity terms
 * compiled on first use.
 * @category Scheduling
 */
export class SchedulerPodInfo implements PodInfo {
  readonly pod: Pod;
  readonly key: string;
  readonly requests: Readonly<SchedulingResources>;
  readonly nonZeroRequests: Readonly<SchedulingResources>;
  #required?: readonly AffinityTerm[];
  #requiredAnti?: readonly AffinityTerm[];
  #preferred?: readonly WeightedAffinityTerm[];
  #preferredAnti?: readonly WeightedAffinityTerm[];

  constructor(pod: Pod) {
    this.pod = pod;
    this.key = podKey(pod);
    const computed = computePodRequests(pod);
    this.requests = computed.requests;
    this.nonZeroRequests = computed.nonZeroRequests;
  }

  /** True when the pod has any pod affinity or anti-affinity (required or preferred). */
  get hasAffinity(): boolean {
    const affinity = this.pod.spec?.affinity;
    return affinity?.podAffinity !== undefined || affinity?.podAntiAffinity !== undefined;
  }

  /** True when the pod has required pod anti-affinity terms. */
  get hasRequiredAntiAffinity(): boolean {
    return (
      (this.pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ??
        0) > 0
    );
  }

  /** `podAffinity.requiredDuringSchedulingIgnoredDuringExecution`, compiled. */
  get requiredAffinityTerms(): readonly AffinityTerm[] {
    this.#required ??= this.compile(
      this.pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    );
    return this.#required;
  }

  /** `podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution`, compiled. */
  get requiredAntiAffinityTerms(): readonly AffinityTerm[] {
    this.#requiredAnti ??= this.compile(
      this.pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    );
    return this.#requiredAnti;
  }

  /** `podAffinity.preferredDuringSchedulingIgnoredDuringExecution`, compiled. */
  get preferredAffinityTerms(): readonly WeightedAffinityTerm[] {
    this.#preferred ??= this.compileWeighted(
      this.pod.spec?.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
    );
    return this.#preferred;
  }

  /** `podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution`, compiled. */
  get preferredAntiAffinityTerms(): readonly WeightedAffinityTerm[] {
    this.#preferredAnti ??= this.compileWeighted(
      this.pod.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
    );
    return this.#preferredAnti;
  }

  private compile(terms: PodAffinityTerm[] | undefined): readonly AffinityTerm[] {
    if (!terms || terms.length === 0) return noTerms;
    return terms.map((term) => compileTerm(this.pod, term));
  }

  private compileWeighted(
    terms: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined,
  ): readonly WeightedAffinityTerm[] {
    if (!terms || terms.length === 0) return noTerms;
    return terms.map((t) => ({ term: compileTerm(this.pod, t.podAffinityTerm), weight: t.weight }));
  }
}

// Generations come from one process-wide counter, as upstream's, so a cache can compare a NodeInfo's
// generation with the one its snapshot copy had.
let nextGeneration = 0;

/** The next value of the process-wide generation counter. @category Scheduling */
export function nextNodeInfoGeneration(): number {
  nextGeneration += 1;
  return nextGeneration;
}

// Bumped whenever any NodeInfo gains or loses a pod with pod (anti-)affinity, so a snapshot that shares
// NodeInfos with a cache knows when its lists of nodes with such pods are stale.
let affinityPodsVersion = 0;

/**
 * A process-wide counter that changes whenever any {@link SchedulerNodeInfo} gains or loses a pod with
 * pod affinity or anti-affinity.
 * @category Scheduling
 */
export function affinityPodsChangeCount(): number {
  return affinityPodsVersion;
}

function portKey(hostIP: string, protocol: string, port: number): string {
  return `${hostIP}/${protocol}/${port}`;
}

function podHostPorts(pod: Pod): UsedHostPort[] {
  const ports: UsedHostPort[] = [];
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.hostPort === undefined || port.hostPort <= 0) continue;
      ports.push({
        hostIP: port.hostIP || '0.0.0.0',
        protocol: (port.protocol as UsedHostPort['protocol'] | undefined) ?? 'TCP',
        port: port.hostPort,
      });
    }
  }
  return ports;
}

/**
 * The scheduler's {@link NodeInfo}: a node, its pods (bound or assumed) and running totals. Not safe to
 * change while a cycle reads it: the scheduler changes its cache copy and hands plugins a snapshot of
 * clones.
 *
 * ```ts
 * const info = new SchedulerNodeInfo(node);
 * info.addPod(new SchedulerPodInfo(pod));
 * info.requested.milliCPU; // the pod's CPU request
 * ```
 * @category Scheduling
 */
export class SchedulerNodeInfo implements NodeInfo {
  #node: Node;
  #name: string;
  #allocatable: MutableSchedulingResources;
  readonly #pods: SchedulerPodInfo[] = [];
  readonly #podsWithAffinity: SchedulerPodInfo[] = [];
  readonly #podsWithRequiredAntiAffinity: SchedulerPodInfo[] = [];
  #requested: MutableSchedulingResources = emptyResources();
  #nonZeroRequested: MutableSchedulingResources = emptyResources();
  #usedPorts: UsedHostPort[] = [];
  // Counts per `hostIP/protocol/port`, for O(1) conflict checks.
  #portCounts = new Map<string, number>();
  #generation: number;

  constructor(node: Node) {
    this.#node = node;
    this.#name = node.metadata?.name ?? '';
    this.#allocatable = resourceListToResources(
      node.status?.allocatable as Record<string, string> | undefined,
      'status.allocatable',
    );
    this.#generation = nextNodeInfoGeneration();
  }

  get node(): Node {
    return this.#node;
  }

  get name(): string {
    return this.#name;
  }

  get pods(): readonly SchedulerPodInfo[] {
    return this.#pods;
  }

  /** Pods on the node with any pod affinity or anti-affinity. */
  get podsWithAffinity(): readonly SchedulerPodInfo[] {
    return this.#podsWithAffinity;
  }

  /** Pods on the node with required pod anti-affinity. */
  get podsWithRequiredAntiAffinity(): readonly SchedulerPodInfo[] {
    return this.#podsWithRequiredAntiAffinity;
  }

  get allocatable(): Readonly<SchedulingResources> {
    return this.#allocatable;
  }

  get requested(): Readonly<SchedulingResources> {
    return this.#requested;
  }

  get nonZeroRequested(): Readonly<SchedulingResources> {
    return this.#nonZeroRequested;
  }

  get usedPorts(): readonly UsedHostPort[] {
    return this.#usedPorts;
  }

  get generation(): number {
    return this.#generation;
  }

  /**
   * Whether `hostPort` on `hostIP`/`protocol` conflicts with a port in use: same protocol and port, and
   * the same IP or either side being `0.0.0.0` (all addresses), as upstream's `CheckConflict`.
   */
  hostPortConflicts(hostIP: string, protocol: string, port: number): boolean {
    if (this.#portCounts.size === 0) return false;
    const ip = hostIP || '0.0.0.0';
    if (ip === '0.0.0.0') {
      for (const used of this.#usedPorts) {
        if (used.port === port && used.protocol === protocol) return true;
      }
      return false;
    }
    return (
      this.#portCounts.has(portKey(ip, protocol, port)) ||
      this.#portCounts.has(portKey('0.0.0.0', protocol, port))
    );
  }

  /** Replaces the node object (its allocatable is recomputed); the pods stay. */
  setNode(node: Node): void {
    this.#node = node;
    this.#name = node.metadata?.name ?? '';
    this.#allocatable = resourceListToResources(
      node.status?.allocatable as Record<string, string> | undefined,
      'status.allocatable',
    );
    this.#generation = nextNodeInfoGeneration();
  }

  /** Adds a pod (a {@link SchedulerPodInfo}, or a pod to wrap in one) and its requests and ports. */
  addPod(podInfo: SchedulerPodInfo | Pod): SchedulerPodInfo {
    const info = podInfo instanceof SchedulerPodInfo ? podInfo : new SchedulerPodInfo(podInfo);
    this.#pods.push(info);
    if (info.hasAffinity) {
      this.#podsWithAffinity.push(info);
      affinityPodsVersion++;
    }
    if (info.hasRequiredAntiAffinity) this.#podsWithRequiredAntiAffinity.push(info);
    addResources(this.#requested, info.requests);
    addResources(this.#nonZeroRequested, info.nonZeroRequests);
    for (const port of podHostPorts(info.pod)) {
      this.#usedPorts.push(port);
      const key = portKey(port.hostIP, port.protocol, port.port);
      this.#portCounts.set(key, (this.#portCounts.get(key) ?? 0) + 1);
    }
    this.#generation = nextNodeInfoGeneration();
    return info;
  }

  /**
   * Removes the pod with the same key (uid, else namespace/name) and subtracts what it added. Returns
   * false, changing nothing, when no such pod is on the node.
   */
  removePod(pod: Pod): boolean {
    const key = podKey(pod);
    const index = this.#pods.findIndex((p) => p.key === key);
    if (index < 0) return false;
    const info = this.#pods[index];
    // Order does not matter to plugins; swap-remove keeps removal O(1) after the search.
    this.#pods[index] = this.#pods[this.#pods.length - 1];
    this.#pods.pop();
    if (info.hasAffinity) {
      removeByKey(this.#podsWithAffinity, key);
      removeByKey(this.#podsWithRequiredAntiAffinity, key);
      affinityPodsVersion++;
    }
    addResources(this.#requested, info.requests, -1);
    addResources(this.#nonZeroRequested, info.nonZeroRequests, -1);
    for (const port of podHostPorts(info.pod)) {
      const i = this.#usedPorts.findIndex(
        (u) => u.port === port.port && u.protocol === port.protocol && u.hostIP === port.hostIP,
      );
      if (i >= 0) this.#usedPorts.splice(i, 1);
      const k = portKey(port.hostIP, port.protocol, port.port);
      const count = (this.#portCounts.get(k) ?? 1) - 1;
      if (count <= 0) this.#portCounts.delete(k);
      else this.#portCounts.set(k, count);
    }
    this.#generation = nextNodeInfoGeneration();
    return true;
  }

  /**
   * An independent copy with the same generation (pod infos are shared: they are immutable). Changing
   * the copy does not change this one.
   */
  clone(): SchedulerNodeInfo {
    const copy = new SchedulerNodeInfo(this.#node);
    copy.#allocatable = this.#allocatable;
    copy.#pods.push(...this.#pods);
    copy.#podsWithAffinity.push(...this.#podsWithAffinity);
    copy.#podsWithRequiredAntiAffinity.push(...this.#podsWithRequiredAntiAffinity);
    copy.#requested = cloneResources(this.#requested);
    copy.#nonZeroRequested = cloneResources(this.#nonZeroRequested);
    copy.#usedPorts = this.#usedPorts.map((p) => ({ ...p }));
    copy.#portCounts = new Map(this.#portCounts);
    copy.#generation = this.#generation;
    return copy;
  }
}

function removeByKey(list: SchedulerPodInfo[], key: string): void {
  const index = list.findIndex((p) => p.key === key);
  if (index >= 0) list.splice(index, 1);
}
