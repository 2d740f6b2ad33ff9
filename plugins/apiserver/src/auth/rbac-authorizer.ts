// SPDX-License-Identifier: Apache-2.0
import {
  type AuthorizationAttributes,
  type AuthorizationDecision,
  type Authorizer,
  type GroupVersionKind,
  InProcessApiClient,
  type Logger,
  type Registry,
  type Runnable,
  SharedInformer,
  type SharedInformerFactory,
  type UserInfo,
} from '@cpkit/core';
import type { RuleResolver, SubjectRules } from './authorization.js';
import { ensureBootstrapPolicy } from './bootstrap-policy.js';
import { rbacRulesFor } from './rbac-escalation.js';
import {
  aggregatedRules,
  evaluateRbac,
  type PolicyRule,
  type RbacBinding,
  type RbacPolicy,
  type RbacRole,
} from './rbac-rules.js';

const rbacKind = (kind: string): GroupVersionKind => ({
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind,
});

/** Options of an {@link RbacAuthorizer}. @category Authorization */
export interface RbacAuthorizerOptions {
  /** Informers to share (the container's factory); default: informers of its own over the registry. */
  informers?: SharedInformerFactory;
  /** Create the default roles and bindings at start when missing. Default true. */
  bootstrap?: boolean;
  logger?: Logger;
}

/**
 * Role-based access control from Roles, ClusterRoles and their bindings, read from informer caches
 * kept current by a watch (a change to a binding takes effect as soon as its event arrives).
 *
 * A {@link Runnable} named `RBAC`: `start` creates the default policy (see
 * {@link ensureBootstrapPolicy}) and resolves once the caches have synced; the API server depends on
 * it so no request is judged against an empty cache.
 * @category Authorization
 */
export class RbacAuthorizer implements Authorizer, RuleResolver, Runnable {
  readonly name = 'RBAC';
  private readonly roles: SharedInformer<RbacRole>;
  private readonly clusterRoles: SharedInformer<RbacRole>;
  private readonly roleBindings: SharedInformer<RbacBinding>;
  private readonly clusterRoleBindings: SharedInformer<RbacBinding>;
  /** Effective (aggregated) rules per ClusterRole, dropped whenever any ClusterRole changes. */
  private aggregated = new Map<string, readonly PolicyRule[] | undefined>();
  private subscription: { unsubscribe(): void } | undefined;
  /** The policy the caches hold, as {@link evaluateRbac} reads it. */
  readonly policy: RbacPolicy;

  constructor(
    private readonly registry: Registry,
    private readonly options: RbacAuthorizerOptions = {},
  ) {
    const informer = <T extends RbacRole | RbacBinding>(kind: string): SharedInformer<T> =>
      options.informers
        ? options.informers.forKind<T>(rbacKind(kind))
        : new SharedInformer<T>(new InProcessApiClient(registry), rbacKind(kind), {
            ...(options.logger ? { logger: options.logger } : {}),
          });
    this.roles = informer<RbacRole>('Role');
    this.clusterRoles = informer<RbacRole>('ClusterRole');
    this.roleBindings = informer<RbacBinding>('RoleBinding');
    this.clusterRoleBindings = informer<RbacBinding>('ClusterRoleBinding');
    this.policy = {
      clusterRoleBindings: () => this.clusterRoleBindings.list(),
      roleBindings: (namespace) => this.roleBindings.list(namespace),
      roleRules: (namespace, name) => this.roles.get(`${namespace}/${name}`)?.rules,
      clusterRoleRules: (name) => {
        if (this.aggregated.has(name)) return this.aggregated.get(name);
        const role = this.clusterRoles.get(name);
        const rules = role ? aggregatedRules(role, this.clusterRoles.list()) : undefined;
        this.aggregated.set(name, rules);
        return rules;
      },
    };
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.options.bootstrap ?? true) await ensureBootstrapPolicy(this.registry, this.options.logger);
    this.subscription = this.clusterRoles.events$.subscribe(() => {
      this.aggregated = new Map();
    });
    signal.addEventListener('abort', () => this.subscription?.unsubscribe(), { once: true });
    await Promise.all(
      [this.roles, this.clusterRoles, this.roleBindings, this.clusterRoleBindings].map((i) =>
        i.start(signal),
      ),
    );
  }

  async stopped(): Promise<void> {
    await Promise.all(
      [this.roles, this.clusterRoles, this.roleBindings, this.clusterRoleBindings].map((i) => i.stopped()),
    );
  }

  async authorize(attributes: AuthorizationAttributes): Promise<AuthorizationDecision> {
    return evaluateRbac(this.policy, attributes);
  }

  /** The rules the user's ClusterRoleBindings and (in `namespace`) RoleBindings grant, in binding order. */
  rulesFor(user: UserInfo, namespace: string): SubjectRules {
    return subjectRulesOf(rbacRulesFor(this.policy, user, namespace));
  }
}

/**
 * Splits RBAC policy rules into the resource and non-resource rules a `SelfSubjectRulesReview`
 * reports (a rule naming both kinds appears in both lists).
 * @category Authorization
 */
export function subjectRulesOf(rules: readonly PolicyRule[]): SubjectRules {
  const result: SubjectRules = { resourceRules: [], nonResourceRules: [], incomplete: false };
  for (const rule of rules) {
    if (rule.resources?.length) {
      result.resourceRules.push({
        verbs: [...rule.verbs],
        apiGroups: [...(rule.apiGroups ?? [])],
        resources: [...rule.resources],
        ...(rule.resourceNames?.length ? { resourceNames: [...rule.resourceNames] } : {}),
      });
    }
    if (rule.nonResourceURLs?.length) {
      result.nonResourceRules.push({ verbs: [...rule.verbs], nonResourceURLs: [...rule.nonResourceURLs] });
    }
  }
  return result;
}

/**
 * RBAC over a given policy (e.g. {@link staticRbacPolicy}): an authorizer and rule resolver for
 * embedders that keep their policy in code, and for tests. The server's {@link RbacAuthorizer} is
 * the same evaluation over its informer caches.
 * @category Authorization
 */
export class PolicyRbacAuthorizer implements Authorizer, RuleResolver {
  readonly name = 'RBAC';
  constructor(readonly policy: RbacPolicy) {}

  async authorize(attributes: AuthorizationAttributes): Promise<AuthorizationDecision> {
    return evaluateRbac(this.policy, attributes);
  }

  rulesFor(user: UserInfo, namespace: string): SubjectRules {
    return subjectRulesOf(rbacRulesFor(this.policy, user, namespace));
  }
}
