// SPDX-License-Identifier: Apache-2.0
/**
 * Which nodes count as spreading domains for PodTopologySpread: the pod's required node affinity
 * (`nodeAffinityPolicy: Honor`) and the node's NoSchedule/NoExecute taints (`nodeTaintsPolicy: Honor`).
 * Kept here rather than borrowed from the NodeAffinity and TaintToleration plugins so this plugin only
 * depends on core.
 * @module
 */
import type {
  Node,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  Taint,
  Toleration,
} from 'kubernetes-types/core/v1.js';

/** Whether a node satisfies a pod's `nodeSelector` and required node affinity. */
export type RequiredNodeAffinityMatcher = (node: Node) => boolean;

const matchAnyNode: RequiredNodeAffinityMatcher = () => true;

function parseInteger(value: string): number | undefined {
  return /^[+-]?[0-9]+$/.test(value) ? Number(value) : undefined;
}

function requirementMatches(
  requirement: NodeSelectorRequirement,
  values: Readonly<Record<string, string>>,
): boolean {
  const has = Object.hasOwn(values, requirement.key);
  const value = has ? values[requirement.key] : undefined;
  const wanted = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return has && wanted.includes(value as string);
    case 'NotIn':
      return !has || !wanted.includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || wanted.length !== 1) return false;
      const actual = parseInteger(value as string);
      const bound = parseInteger(wanted[0]);
      if (actual === undefined || bound === undefined) return false;
      return requirement.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      // An unknown operator makes the term unsatisfiable, as upstream's lazy parse errors do.
      return false;
  }
}

function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term selects nothing.
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const requirement of expressions) if (!requirementMatches(requirement, labels)) return false;
  for (const requirement of fields) {
    // Only metadata.name is a supported field.
    if (requirement.key !== 'metadata.name') return false;
    if (!requirementMatches(requirement, { 'metadata.name': node.metadata?.name ?? '' })) return false;
  }
  return true;
}

/**
 * The pod's `nodeSelector` and `requiredDuringSchedulingIgnoredDuringExecution` node affinity as one
 * predicate. A pod with neither gets a predicate that accepts every node without looking at it.
 */
export function requiredNodeAffinityOf(pod: Pod): RequiredNodeAffinityMatcher {
  const nodeSelector = pod.spec?.nodeSelector;
  const selectorEntries = nodeSelector ? Object.entries(nodeSelector) : [];
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (selectorEntries.length === 0 && terms === undefined) return matchAnyNode;
  return (node: Node): boolean => {
    const labels = node.metadata?.labels ?? {};
    for (const [key, value] of selectorEntries) if (labels[key] !== value) return false;
    if (terms === undefined) return true;
    for (const term of terms) if (termMatches(term, node)) return true;
    return false;
  };
}

function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? 'Equal') {
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** True when the node has a NoSchedule or NoExecute taint that none of the tolerations tolerates. */
export function hasUntoleratedScheduleTaint(
  node: Node,
  tolerations: readonly Toleration[] | undefined,
): boolean {
  const taints = node.spec?.taints;
  if (!taints) return false;
  for (const taint of taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerations?.some((toleration) => tolerates(toleration, taint))) return true;
  }
  return false;
}
