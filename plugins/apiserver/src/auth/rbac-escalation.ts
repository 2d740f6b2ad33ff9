// SPDX-License-Identifier: Apache-2.0
// RBAC privilege-escalation prevention, with upstream's semantics: a user may write a Role or
// ClusterRole only with rules they already hold (or the `escalate` verb on it), and a RoleBinding or
// ClusterRoleBinding only to a role whose rules they hold in the binding's scope (or the `bind` verb
// on that role). Written for cpkit from the behaviour described in Kubernetes' "Using RBAC
// Authorization" documentation.
import { isDeepStrictEqual } from 'node:util';
import {
  type AdmissionAttributes,
  type AdmissionOperation,
  type AuthorizationAttributes,
  type KubeObject,
  type Registry,
  StatusError,
  type UserInfo,
  type ValidatingAdmissionPlugin,
} from '@cpkit/core';
import { type AuthorizationChain, privilegedGroup } from './authorization.js';
import {
  aggregatedRules,
  type PolicyRule,
  type RbacBinding,
  type RbacPolicy,
  type RbacRole,
  subjectMatches,
} from './rbac-rules.js';

const rbacGroup = 'rbac.authorization.k8s.io';

/** Everything on every resource and every non-resource URL: what `cluster-admin` holds. @category Authorization */
export const fullAuthorityRules: readonly PolicyRule[] = Object.freeze([
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
]);

/**
 * The RBAC rules that apply to `user` in `namespace` (`''`: the cluster scope only): the rules of
 * every ClusterRoleBinding naming the user, then those of the RoleBindings of the namespace, as
 * upstream's rule resolver. Bindings to missing roles contribute nothing.
 * @category Authorization
 */
export function rbacRulesFor(policy: RbacPolicy, user: UserInfo, namespace: string): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const collect = (binding: RbacBinding, bindingNamespace: string): void => {
    if (!binding.subjects?.some((s) => subjectMatches(s, user, bindingNamespace))) return;
    const ref = binding.roleRef;
    if (ref?.apiGroup !== rbacGroup) return;
    const found =
      ref.kind === 'ClusterRole'
        ? policy.clusterRoleRules(ref.name)
        : ref.kind === 'Role' && bindingNamespace
          ? policy.roleRules(bindingNamespace, ref.name)
          : undefined;
    if (found) rules.push(...found);
  };
  for (const binding of policy.clusterRoleBindings()) collect(binding, '');
  if (namespace) for (const binding of policy.roleBindings(namespace)) collect(binding, namespace);
  return rules;
}

const has = (list: readonly string[] | undefined, value: string): boolean => !!list?.includes(value);

/**
 * Splits a rule into atomic rules of one verb on one group/resource (and one name, when the rule
 * names any), or one verb on one non-resource URL.
 */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const atoms: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs ?? []) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) atoms.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        for (const name of names) {
          atoms.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs ?? []) atoms.push({ verbs: [verb], nonResourceURLs: [url] });
  }
  return atoms;
}

/** An owned resource list covers `resource`: `*`, the same name, or `*\/sub` for a subresource. */
function resourceCovered(owned: readonly string[], resource: string): boolean {
  if (has(owned, '*') || has(owned, resource)) return true;
  const slash = resource.indexOf('/');
  return slash >= 0 && has(owned, `*${resource.slice(slash)}`);
}

/** An owned URL covers `path`: the same path, or a `prefix*` the path (or narrower pattern) starts with. */
function urlCovered(owned: readonly string[], path: string): boolean {
  return owned.some((url) => url === path || (url.endsWith('*') && path.startsWith(url.slice(0, -1))));
}

/** Whether one owner rule covers one atomic rule (a `*` in the atom needs a `*` in the owner). */
function atomCovered(owner: PolicyRule, atom: PolicyRule): boolean {
  const verb = atom.verbs[0] ?? '';
  if (!(has(owner.verbs, '*') || has(owner.verbs, verb))) return false;
  if (atom.nonResourceURLs) return urlCovered(owner.nonResourceURLs ?? [], atom.nonResourceURLs[0] ?? '');
  const group = atom.apiGroups?.[0] ?? '';
  if (!(has(owner.apiGroups, '*') || has(owner.apiGroups, group))) return false;
  if (!resourceCovered(owner.resources ?? [], atom.resources?.[0] ?? '')) return false;
  const ownerNames = owner.resourceNames ?? [];
  if (ownerNames.length === 0) return true;
  const name = atom.resourceNames?.[0];
  return name !== undefined && ownerNames.includes(name);
}

/**
 * Whether `owner` rules cover every permission of `servant` rules, and the atomic permissions they
 * miss. As upstream: each servant rule is broken down into single verb/group/resource(/name) or
 * verb/URL permissions, and each must be covered by one owner rule; `*` in the servant is only
 * covered by `*`, `*\/status` covers `pods/status`, `/logs/*` covers `/logs/app`, an owner rule
 * limited to names never covers an unnamed permission.
 * @category Authorization
 */
export function coversRules(
  owner: readonly PolicyRule[],
  servant: readonly PolicyRule[],
): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const rule of servant) {
    for (const atom of breakdown(rule)) {
      if (!owner.some((ownerRule) => atomCovered(ownerRule, atom))) missing.push(atom);
    }
  }
  return { covered: missing.length === 0, missing };
}

/**
 * Merges atomic rules on the same group, resource and name into one rule listing their verbs (what
 * upstream does before printing the missing permissions).
 * @category Authorization
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  const others: PolicyRule[] = [];
  for (const rule of rules) {
    const simple =
      rule.apiGroups?.length === 1 &&
      rule.resources?.length === 1 &&
      !rule.nonResourceURLs?.length &&
      (rule.resourceNames?.length ?? 0) <= 1;
    if (!simple) {
      others.push(rule);
      continue;
    }
    const key = JSON.stringify([rule.apiGroups, rule.resources, rule.resourceNames ?? []]);
    const existing = merged.get(key);
    if (existing) {
      for (const verb of rule.verbs) if (!existing.verbs.includes(verb)) existing.verbs.push(verb);
    } else {
      merged.set(key, { ...rule, verbs: [...rule.verbs] });
    }
  }
  return [...others, ...merged.values()];
}

/** Go's `%q` of a string list: `["a" "b"]`. */
const quotedList = (values: readonly string[]): string =>
  `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;

/**
 * A rule as upstream prints it in escalation errors: `{APIGroups:[""], Resources:["pods"],
 * Verbs:["get" "list"]}` (only the fields that are set).
 * @category Authorization
 */
export function compactRuleString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups?.length) parts.push(`APIGroups:${quotedList(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${quotedList(rule.resources)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${quotedList(rule.nonResourceURLs)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${quotedList(rule.resourceNames)}`);
  if (rule.verbs?.length) parts.push(`Verbs:${quotedList(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * Upstream's explanation of a refused grant: `user "bob" (groups=["dev" "system:authenticated"]) is
 * attempting to grant RBAC permissions not currently held:` followed by the sorted missing rules,
 * one per line.
 * @category Authorization
 */
export function escalationMessage(user: UserInfo, missing: readonly PolicyRule[]): string {
  const lines = [...new Set(compactRules(missing).map(compactRuleString))].sort();
  return `user ${JSON.stringify(user.username)} (groups=${quotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
}

/** What {@link RbacEscalationCheck} consults: the server's authorizers, its RBAC cache and the registry. @category Authorization */
export interface EscalationCheckSource {
  /** Asked for the `escalate` and `bind` verbs (so `system:masters` and AlwaysAllow pass, as upstream). */
  authorization: AuthorizationChain;
  /** The RBAC policy the user's own rules come from. */
  policy: RbacPolicy;
  /** Reads the role a binding refers to (fresh, not from a cache a just-created role may not be in yet). */
  registry: Pick<Registry, 'get'>;
}

const kindResources: Readonly<Record<string, string>> = {
  Role: 'roles',
  ClusterRole: 'clusterroles',
  RoleBinding: 'rolebindings',
  ClusterRoleBinding: 'clusterrolebindings',
};

/** Metadata a garbage collector may change without the writer holding the object's permissions. */
const ignoredMetadata = [
  'ownerReferences',
  'finalizers',
  'resourceVersion',
  'managedFields',
  'generation',
  'uid',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
];

function withoutGcFields(object: KubeObject): unknown {
  const copy = structuredClone(object) as Record<string, unknown>;
  const metadata = { ...((copy.metadata as Record<string, unknown> | undefined) ?? {}) };
  for (const field of ignoredMetadata) delete metadata[field];
  copy.metadata = metadata;
  return copy;
}

/** As upstream's `IsOnlyMutatingGCFields`: an update that touches nothing but owner references and finalizers. */
function onlyGcFieldsChanged(object: KubeObject | undefined, old: KubeObject | undefined): boolean {
  return !!object && !!old && isDeepStrictEqual(withoutGcFields(object), withoutGcFields(old));
}

/**
 * The admission plugin that stops RBAC privilege escalation, as upstream's RBAC storage does:
 * - Role / ClusterRole create and update: allowed when the user is in `system:masters`, may
 *   `escalate` the role, or already holds every rule in it (in the role's namespace, or cluster-wide
 *   for a ClusterRole); an `aggregationRule` additionally needs full authority (cluster-admin).
 * - RoleBinding / ClusterRoleBinding create and update: allowed for `system:masters`, a user with
 *   `bind` on the referenced role, or a user who holds every rule of that role in the binding's scope.
 * - Updates that change only owner references and finalizers are always allowed (garbage collection).
 *
 * Refusals are 403 with upstream's message (`roles.rbac.authorization.k8s.io "x" is forbidden: user
 * "bob" (groups=[...]) is attempting to grant RBAC permissions not currently held: ...`). The API
 * server {@link RbacEscalationCheck.attach}es its authorizers and RBAC cache on start; until then (no
 * server, only in-process callers) writes pass.
 * @category Authorization
 */
export class RbacEscalationCheck implements ValidatingAdmissionPlugin {
  readonly name = 'RBACEscalationPrevention';
  private source: EscalationCheckSource | undefined;

  /** Starts checking with these authorizers, policy and registry (the API server calls it on start). */
  attach(source: EscalationCheckSource): void {
    this.source = source;
  }

  /** Stops checking (the API server calls it on stop). */
  detach(source?: EscalationCheckSource): void {
    if (!source || this.source === source) this.source = undefined;
  }

  handles(operation: AdmissionOperation): boolean {
    return operation === 'CREATE' || operation === 'UPDATE';
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    const { kind, subresource, userInfo: user, object } = attributes;
    if (kind.group !== rbacGroup || subresource !== '' || !object) return;
    const resource = kindResources[kind.kind];
    const source = this.source;
    if (!resource || !source) return;
    // As upstream: system:masters (which includes cpkit's in-process control plane) may grant anything.
    if (user.groups.includes(privilegedGroup)) return;
    if (attributes.operation === 'UPDATE' && onlyGcFieldsChanged(object, attributes.oldObject)) return;
    const namespace = attributes.namespace;
    const name = attributes.name || object.metadata?.name || '';
    const forbidden = (message: string): StatusError =>
      new StatusError(
        'Forbidden',
        `${resource}.${rbacGroup} ${JSON.stringify(name)} is forbidden: ${message}`,
        { name, group: rbacGroup, kind: resource },
        403,
      );
    const allowedTo = async (verb: string, roleResource: string, roleName: string): Promise<boolean> => {
      const asked: AuthorizationAttributes = {
        user,
        verb,
        resourceRequest: true,
        namespace,
        apiGroup: rbacGroup,
        apiVersion: 'v1',
        resource: roleResource,
        subresource: '',
        name: roleName,
        path: '',
      };
      return (await source.authorization.decide(asked)).decision === 'Allow';
    };
    const owned = (): PolicyRule[] => rbacRulesFor(source.policy, user, namespace);

    if (kind.kind === 'Role' || kind.kind === 'ClusterRole') {
      if (await allowedTo('escalate', resource, name)) return;
      const role = object as RbacRole;
      const ownerRules = owned();
      const { covered, missing } = coversRules(ownerRules, role.rules ?? []);
      if (!covered) throw forbidden(escalationMessage(user, missing));
      const aggregation = role.aggregationRule;
      const oldAggregation = (attributes.oldObject as RbacRole | undefined)?.aggregationRule;
      if (
        kind.kind === 'ClusterRole' &&
        aggregation !== undefined &&
        aggregation !== null &&
        (attributes.operation === 'CREATE' || !isDeepStrictEqual(aggregation, oldAggregation)) &&
        !coversRules(ownerRules, fullAuthorityRules).covered
      ) {
        throw forbidden('must have cluster-admin privileges to use the aggregationRule');
      }
      return;
    }

    const binding = object as RbacBinding;
    const ref = binding.roleRef;
    if (!ref || ref.apiGroup !== rbacGroup || (ref.kind !== 'Role' && ref.kind !== 'ClusterRole')) return;
    if (kind.kind === 'ClusterRoleBinding' && ref.kind !== 'ClusterRole') return; // validation refuses it
    const roleResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
    if (await allowedTo('bind', roleResource, ref.name)) return;
    const granted = await this.referencedRules(source, ref.kind, ref.name, namespace);
    const { covered, missing } = coversRules(owned(), granted);
    if (!covered) throw forbidden(escalationMessage(user, missing));
  }

  /** The rules of the role a binding refers to, read from the registry (404 when it does not exist). */
  private async referencedRules(
    source: EscalationCheckSource,
    kind: 'Role' | 'ClusterRole',
    name: string,
    namespace: string,
  ): Promise<PolicyRule[]> {
    const gvk = { group: rbacGroup, version: 'v1', kind };
    const role = (await source.registry.get(gvk, name, kind === 'Role' ? { namespace } : {})) as RbacRole;
    if (kind === 'Role') return [...(role.rules ?? [])];
    if (!role.aggregationRule) return [...(role.rules ?? [])];
    // An aggregated ClusterRole grants what its selectors gather, as the authorizer evaluates it.
    return [...(source.policy.clusterRoleRules(name) ?? aggregatedRules(role, []))];
  }
}
