// SPDX-License-Identifier: Apache-2.0
// Upstream RBAC rule semantics (rbac.authorization.k8s.io/v1), evaluated over plain objects.
import {
  type AuthorizationAttributes,
  type AuthorizationDecision,
  type KubeObject,
  type LabelSelector,
  labelSelectorFromObject,
  type UserInfo,
} from '@cpkit/core';

/** One rule of a Role or ClusterRole. @category Authorization */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** A subject of a RoleBinding or ClusterRoleBinding. @category Authorization */
export interface RbacSubject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

/** A Role or ClusterRole. @category Authorization */
export interface RbacRole extends KubeObject {
  rules?: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] };
}

/** A RoleBinding or ClusterRoleBinding. @category Authorization */
export interface RbacBinding extends KubeObject {
  subjects?: RbacSubject[];
  roleRef: { apiGroup: string; kind: string; name: string };
}

const has = (list: readonly string[] | undefined, value: string): boolean =>
  !!list && (list.includes('*') || list.includes(value));

/** `*`, the exact `resource/subresource`, or `*\/subresource` for a subresource request. */
function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const ruleResource of rule.resources ?? []) {
    if (ruleResource === '*' || ruleResource === combined) return true;
    if (subresource && ruleResource === `*/${subresource}`) return true;
  }
  return false;
}

/** `*`, the exact path, or a `prefix/*` rule covering the path. */
function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === '*' || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.slice(0, -1))) return true;
  }
  return false;
}

/**
 * Whether one policy rule allows the request, as upstream's `RuleAllows`: verbs, then for resource
 * requests the API group, the resource (`*`, `resource/subresource`, `*\/subresource`) and the
 * resource names (an empty list allows every name; a non-empty one never matches a request without a
 * name, such as list or create); for non-resource requests the URL (`*`, exact, or a `/prefix/*`).
 * @category Authorization
 */
export function ruleAllows(
  attributes: Pick<
    AuthorizationAttributes,
    'verb' | 'resourceRequest' | 'apiGroup' | 'resource' | 'subresource' | 'name' | 'path'
  >,
  rule: PolicyRule,
): boolean {
  if (!has(rule.verbs, attributes.verb)) return false;
  if (!attributes.resourceRequest) return nonResourceUrlMatches(rule, attributes.path);
  if (!has(rule.apiGroups, attributes.apiGroup)) return false;
  if (!resourceMatches(rule, attributes.resource, attributes.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(attributes.name);
}

/**
 * Whether a binding subject names the user: a `User` by name, a `Group` the user is in, or a
 * `ServiceAccount` (namespace defaulting to the binding's) by its `system:serviceaccount:` user name.
 * @category Authorization
 */
export function subjectMatches(subject: RbacSubject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.username;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== '' && user.username === `system:serviceaccount:${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

/**
 * The policy RBAC reads: roles and bindings, kept current by whoever provides it (an informer cache
 * in the server, plain arrays in tests: see {@link staticRbacPolicy}).
 * @category Authorization
 */
export interface RbacPolicy {
  clusterRoleBindings(): readonly RbacBinding[];
  /** RoleBindings of one namespace. */
  roleBindings(namespace: string): readonly RbacBinding[];
  /** The effective rules of a ClusterRole (its own plus those its aggregationRule selects); undefined when missing. */
  clusterRoleRules(name: string): readonly PolicyRule[] | undefined;
  /** The rules of a Role; undefined when missing. */
  roleRules(namespace: string, name: string): readonly PolicyRule[] | undefined;
}

/**
 * The rules of a ClusterRole with its aggregation resolved: the rules of every other ClusterRole
 * whose labels match one of its `clusterRoleSelectors` are added (what upstream's aggregation
 * controller writes into the role, resolved here at evaluation time instead).
 * @category Authorization
 */
export function aggregatedRules(role: RbacRole, all: readonly RbacRole[]): PolicyRule[] {
  const rules = [...(role.rules ?? [])];
  const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
  if (selectors.length === 0) return rules;
  const matchers = selectors.flatMap((selector) => {
    try {
      return [labelSelectorFromObject(selector)];
    } catch {
      return []; // an invalid selector selects nothing
    }
  });
  for (const other of all) {
    if (other.metadata?.name === role.metadata?.name) continue;
    if (matchers.some((matcher) => matcher.matches(other.metadata?.labels)))
      rules.push(...(other.rules ?? []));
  }
  return rules;
}

/**
 * A fixed policy from a list of RBAC objects (Roles, ClusterRoles and their bindings), for tests and
 * embedders that keep policy in code.
 * @category Authorization
 */
export function staticRbacPolicy(objects: readonly KubeObject[]): RbacPolicy {
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const clusterRoles = byKind('ClusterRole') as RbacRole[];
  return {
    clusterRoleBindings: () => byKind('ClusterRoleBinding') as RbacBinding[],
    roleBindings: (namespace) =>
      (byKind('RoleBinding') as RbacBinding[]).filter((b) => b.metadata?.namespace === namespace),
    clusterRoleRules: (name) => {
      const role = clusterRoles.find((r) => r.metadata?.name === name);
      return role ? aggregatedRules(role, clusterRoles) : undefined;
    },
    roleRules: (namespace, name) =>
      (byKind('Role') as RbacRole[]).find(
        (r) => r.metadata?.namespace === namespace && r.metadata?.name === name,
      )?.rules,
  };
}

function describeSubject(subject: RbacSubject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') {
    return `ServiceAccount "${subject.namespace || bindingNamespace}/${subject.name}"`;
  }
  return `${subject.kind} "${subject.name}"`;
}

/**
 * Evaluates RBAC as upstream does: ClusterRoleBindings apply everywhere; RoleBindings of the request's
 * namespace apply to it (with a Role of that namespace or a ClusterRole). Any matching rule allows;
 * otherwise the answer is `NoOpinion` (RBAC never denies, so a later authorizer may still allow).
 * @category Authorization
 */
export function evaluateRbac(policy: RbacPolicy, attributes: AuthorizationAttributes): AuthorizationDecision {
  const { user } = attributes;
  const check = (binding: RbacBinding, bindingNamespace: string): string | undefined => {
    const subject = binding.subjects?.find((s) => subjectMatches(s, user, bindingNamespace));
    if (!subject) return undefined;
    const ref = binding.roleRef;
    if (ref.apiGroup !== 'rbac.authorization.k8s.io') return undefined;
    let rules: readonly PolicyRule[] | undefined;
    if (ref.kind === 'ClusterRole') rules = policy.clusterRoleRules(ref.name);
    else if (ref.kind === 'Role' && bindingNamespace) rules = policy.roleRules(bindingNamespace, ref.name);
    if (!rules?.some((rule) => ruleAllows(attributes, rule))) return undefined;
    const where = bindingNamespace
      ? `RoleBinding "${binding.metadata?.name}/${bindingNamespace}"`
      : `ClusterRoleBinding "${binding.metadata?.name}"`;
    return `RBAC: allowed by ${where} of ${ref.kind} "${ref.name}" to ${describeSubject(subject, bindingNamespace)}`;
  };
  for (const binding of policy.clusterRoleBindings()) {
    const reason = check(binding, '');
    if (reason) return { decision: 'Allow', reason };
  }
  if (attributes.resourceRequest && attributes.namespace) {
    for (const binding of policy.roleBindings(attributes.namespace)) {
      const reason = check(binding, attributes.namespace);
      if (reason) return { decision: 'Allow', reason };
    }
  }
  return { decision: 'NoOpinion', reason: '' };
}
