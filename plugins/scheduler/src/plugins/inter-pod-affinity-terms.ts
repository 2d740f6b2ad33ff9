// SPDX-License-Identifier: Apache-2.0
/**
 * A pod's pod-affinity and pod-anti-affinity terms, compiled once per pod object and cached, so that
 * InterPodAffinity matches the terms of thousands of existing pods every cycle without re-parsing
 * selectors.
 * @module
 */
import { type LabelSelectorMatcher, labelSelectorFromObject } from '@cpkit/core';
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

/** One compiled term: which pods it selects (namespace and labels) and over which topology. */
export interface AffinityTerm {
  /** Namespaces named by the term; the pod's own when it names none and has no namespaceSelector. */
  readonly namespaces: ReadonlySet<string>;
  /** Selects pods by their labels; an absent selector selects nothing. */
  readonly selector: LabelSelectorMatcher;
  /** Selects namespaces by their labels: absent selects none, `{}` selects all. */
  readonly namespaceSelector: LabelSelectorMatcher;
  readonly topologyKey: string;
}

/** A preferred term with its weight. */
export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

/** Everything InterPodAffinity needs from one pod's `spec.affinity`. */
export interface ParsedPodAffinity {
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  /** The pod declares pod affinity or pod anti-affinity (of any kind), as upstream's PodsWithAffinity. */
  readonly hasAffinity: boolean;
  /** The first selector that failed to compile, when one did (such terms are dropped). */
  readonly parseError?: string;
}

const noTerms: ParsedPodAffinity = Object.freeze({
  requiredAffinityTerms: [],
  requiredAntiAffinityTerms: [],
  preferredAffinityTerms: [],
  preferredAntiAffinityTerms: [],
  hasAffinity: false,
});

const parsedByPod = new WeakMap<Pod, ParsedPodAffinity>();
// Workloads repeat the same selectors across their pods: share one matcher per distinct selector.
const matcherBySelector = new Map<string, LabelSelectorMatcher>();
const matcherLimit = 4096;

function compile(selector: LabelSelector | undefined | null): LabelSelectorMatcher {
  const key = selector === undefined || selector === null ? 'null' : JSON.stringify(selector);
  let matcher = matcherBySelector.get(key);
  if (matcher === undefined) {
    matcher = labelSelectorFromObject(selector);
    if (matcherBySelector.size >= matcherLimit) matcherBySelector.clear();
    matcherBySelector.set(key, matcher);
  }
  return matcher;
}

class ParseErrors {
  first: string | undefined;
}

function compileTerm(pod: Pod, term: PodAffinityTerm, errors: ParseErrors): AffinityTerm | undefined {
  try {
    const namespaces = new Set(term.namespaces ?? []);
    if (namespaces.size === 0 && (term.namespaceSelector === undefined || term.namespaceSelector === null)) {
      namespaces.add(pod.metadata?.namespace ?? 'default');
    }
    return {
      namespaces,
      selector: compile(term.labelSelector),
      namespaceSelector: compile(term.namespaceSelector),
      topologyKey: term.topologyKey,
    };
  } catch (error) {
    errors.first ??= error instanceof Error ? error.message : String(error);
    return undefined;
  }
}

function compileTerms(
  pod: Pod,
  terms: readonly PodAffinityTerm[] | undefined,
  errors: ParseErrors,
): AffinityTerm[] {
  const result: AffinityTerm[] = [];
  for (const term of terms ?? []) {
    const compiled = compileTerm(pod, term, errors);
    if (compiled) result.push(compiled);
  }
  return result;
}

function compileWeightedTerms(
  pod: Pod,
  terms: readonly WeightedPodAffinityTerm[] | undefined,
  errors: ParseErrors,
): WeightedAffinityTerm[] {
  const result: WeightedAffinityTerm[] = [];
  for (const term of terms ?? []) {
    const compiled = compileTerm(pod, term.podAffinityTerm, errors);
    if (compiled) result.push({ ...compiled, weight: term.weight });
  }
  return result;
}

/** The pod's compiled affinity terms, computed on first request for this pod object and then cached. */
export function parsedAffinityOf(pod: Pod): ParsedPodAffinity {
  const affinity = pod.spec?.affinity;
  if (!affinity || (!affinity.podAffinity && !affinity.podAntiAffinity)) return noTerms;
  let parsed = parsedByPod.get(pod);
  if (parsed === undefined) {
    const errors = new ParseErrors();
    parsed = {
      requiredAffinityTerms: compileTerms(
        pod,
        affinity.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
        errors,
      ),
      requiredAntiAffinityTerms: compileTerms(
        pod,
        affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
        errors,
      ),
      preferredAffinityTerms: compileWeightedTerms(
        pod,
        affinity.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
        errors,
      ),
      preferredAntiAffinityTerms: compileWeightedTerms(
        pod,
        affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
        errors,
      ),
      hasAffinity: true,
      parseError: errors.first,
    };
    parsedByPod.set(pod, parsed);
  }
  return parsed;
}

/**
 * Whether `term` selects `pod`: the pod's namespace is named by the term or its labels (`namespaceLabels`)
 * match the term's namespaceSelector, and the pod's labels match the term's selector.
 */
export function termMatches(
  term: AffinityTerm,
  pod: Pod,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): boolean {
  const metadata = pod.metadata;
  if (
    term.namespaces.has(metadata?.namespace ?? 'default') ||
    term.namespaceSelector.matches(namespaceLabels)
  ) {
    return term.selector.matches(metadata?.labels);
  }
  return false;
}

/** True when the pod matches every term; false for no terms. */
export function podMatchesAllTerms(terms: readonly AffinityTerm[], pod: Pod): boolean {
  if (terms.length === 0) return false;
  for (const term of terms) if (!termMatches(term, pod, undefined)) return false;
  return true;
}

/** True when the selector needs namespace labels to be evaluated (neither "none" nor "all"). */
export function needsNamespaceResolution(selector: LabelSelectorMatcher): boolean {
  return !selector.empty && selector.requirements.length > 0;
}
