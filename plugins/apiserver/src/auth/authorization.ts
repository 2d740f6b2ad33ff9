// SPDX-License-Identifier: Apache-2.0

import {
  type AuthorizationAttributes,
  type AuthorizationDecision,
  type Authorizer,
  type Logger,
  StatusError,
  type UserInfo,
} from '@cpkit/core';
import type { RequestInfo } from '../server/request-info.js';

/** The group whose members may do anything, whatever RBAC says (as upstream). @category Authorization */
export const privilegedGroup = 'system:masters';

/** A rule on API resources, as a `SelfSubjectRulesReview` reports it. @category Authorization */
export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/** A rule on non-resource URLs, as a `SelfSubjectRulesReview` reports it. @category Authorization */
export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}

/** What a user may do in a namespace, as far as an authorizer can enumerate it. @category Authorization */
export interface SubjectRules {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  /** True when some authorizer could not enumerate its rules (the lists may miss permissions). */
  incomplete: boolean;
  evaluationError?: string;
}

/**
 * An authorizer that can list what a user may do (upstream's `RuleResolver`), for
 * `SelfSubjectRulesReview` and `kubectl auth can-i --list`.
 * @category Authorization
 */
export interface RuleResolver {
  /** The rules that apply to `user` in `namespace` (`''`: cluster-wide rules only). */
  rulesFor(user: UserInfo, namespace: string): SubjectRules;
}

/** True when `authorizer` also implements {@link RuleResolver}. @category Authorization */
export function isRuleResolver(authorizer: object): authorizer is RuleResolver {
  return typeof (authorizer as Partial<RuleResolver>).rulesFor === 'function';
}

/** Everything, as `*` rules (what AlwaysAllow and `system:masters` hold). */
function everythingRules(): SubjectRules {
  return {
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  };
}

/**
 * Allows every request: for development and tests only, never for a server others can reach.
 * @category Authorization
 */
export class AlwaysAllowAuthorizer implements Authorizer, RuleResolver {
  readonly name = 'AlwaysAllow';
  async authorize(): Promise<AuthorizationDecision> {
    return { decision: 'Allow', reason: '' };
  }
  rulesFor(): SubjectRules {
    return everythingRules();
  }
}

/**
 * Allows members of `system:masters` everything, ahead of RBAC, as upstream does, so administrators
 * keep access even if the cluster-admin binding is deleted; `NoOpinion` for everyone else.
 * @category Authorization
 */
export class PrivilegedGroupAuthorizer implements Authorizer, RuleResolver {
  readonly name = 'PrivilegedGroup';
  async authorize(attributes: AuthorizationAttributes): Promise<AuthorizationDecision> {
    return attributes.user.groups.includes(privilegedGroup)
      ? { decision: 'Allow', reason: `member of ${privilegedGroup}` }
      : { decision: 'NoOpinion', reason: '' };
  }
  rulesFor(user: UserInfo): SubjectRules {
    return user.groups.includes(privilegedGroup)
      ? everythingRules()
      : { resourceRules: [], nonResourceRules: [], incomplete: false };
  }
}

/**
 * Upstream's wording of a denial, e.g. `User "bob" cannot list resource "pods" in API group "" in
 * the namespace "default"` (or `at the cluster scope`, or `cannot get path "/metrics"`).
 * @category Authorization
 */
export function forbiddenMessage(attributes: AuthorizationAttributes): string {
  const who = `User ${JSON.stringify(attributes.user.username)}`;
  if (!attributes.resourceRequest) {
    return `${who} cannot ${attributes.verb} path ${JSON.stringify(attributes.path)}`;
  }
  const resource = attributes.subresource
    ? `${attributes.resource}/${attributes.subresource}`
    : attributes.resource;
  const scope = attributes.namespace
    ? `in the namespace ${JSON.stringify(attributes.namespace)}`
    : 'at the cluster scope';
  return `${who} cannot ${attributes.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attributes.apiGroup)} ${scope}`;
}

/**
 * The `Forbidden` (403) StatusError upstream sends: `pods is forbidden: <message>`, `pods "web" is
 * forbidden: ...` with a name, `deployments.apps ...` outside the core group, `forbidden: ...` for
 * paths; the authorizers' reason, when any, follows after a colon.
 * @category Authorization
 */
export function forbiddenError(attributes: AuthorizationAttributes, reason: string): StatusError {
  const detail = reason ? `${forbiddenMessage(attributes)}: ${reason}` : forbiddenMessage(attributes);
  const qualified = attributes.resource
    ? attributes.apiGroup
      ? `${attributes.resource}.${attributes.apiGroup}`
      : attributes.resource
    : '';
  let message: string;
  if (!qualified) message = `forbidden: ${detail}`;
  else if (!attributes.name) message = `${qualified} is forbidden: ${detail}`;
  else message = `${qualified} ${JSON.stringify(attributes.name)} is forbidden: ${detail}`;
  return new StatusError(
    'Forbidden',
    message,
    {
      ...(attributes.name ? { name: attributes.name } : {}),
      ...(attributes.apiGroup ? { group: attributes.apiGroup } : {}),
      ...(attributes.resource ? { kind: attributes.resource } : {}),
    },
    403,
  );
}

/**
 * Asks each {@link Authorizer} in order: the first `Allow` or `Deny` decides; an authorizer that
 * fails counts as `NoOpinion` (logged); when all have no opinion the request is denied.
 * @category Authorization
 */
export class AuthorizationChain {
  constructor(
    readonly authorizers: readonly Authorizer[],
    private readonly logger?: Logger,
  ) {}

  /** The decision for `attributes` (never rejects). */
  async decide(attributes: AuthorizationAttributes): Promise<AuthorizationDecision> {
    const reasons: string[] = [];
    for (const authorizer of this.authorizers) {
      let decision: AuthorizationDecision;
      try {
        decision = await authorizer.authorize(attributes);
      } catch (error) {
        this.logger?.warn(
          { authorizer: authorizer.name, err: error },
          'authorizer failed; treated as no opinion',
        );
        reasons.push(`${authorizer.name}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      if (decision.decision !== 'NoOpinion') return decision;
      if (decision.reason) reasons.push(decision.reason);
    }
    return { decision: 'NoOpinion', reason: reasons.join('\n') };
  }

  /** Resolves when allowed. @throws StatusError `Forbidden` (403) otherwise. */
  async authorize(attributes: AuthorizationAttributes): Promise<void> {
    const { decision, reason } = await this.decide(attributes);
    if (decision !== 'Allow') throw forbiddenError(attributes, reason);
  }

  /**
   * What `user` may do in `namespace`: the rules of every authorizer that can enumerate them
   * ({@link RuleResolver}), without duplicates; `incomplete` when any authorizer cannot (as
   * upstream's union of rule resolvers).
   */
  rulesFor(user: UserInfo, namespace: string): SubjectRules {
    const result: SubjectRules = { resourceRules: [], nonResourceRules: [], incomplete: false };
    const errors: string[] = [];
    const seen = new Set<string>();
    const add = <T extends object>(list: T[], rule: T): void => {
      const key = JSON.stringify(rule);
      if (seen.has(key)) return;
      seen.add(key);
      list.push(rule);
    };
    for (const authorizer of this.authorizers) {
      if (!isRuleResolver(authorizer)) {
        result.incomplete = true;
        continue;
      }
      let rules: SubjectRules;
      try {
        rules = authorizer.rulesFor(user, namespace);
      } catch (error) {
        result.incomplete = true;
        errors.push(`${authorizer.name}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      for (const rule of rules.resourceRules) add(result.resourceRules, rule);
      for (const rule of rules.nonResourceRules) add(result.nonResourceRules, rule);
      if (rules.incomplete) result.incomplete = true;
      if (rules.evaluationError) errors.push(rules.evaluationError);
    }
    if (errors.length) result.evaluationError = errors.join('; ');
    return result;
  }
}

/** The parts of a parsed request {@link authorizationAttributes} reads. @category Authorization */
export type RequestAttributesSource = Omit<RequestInfo, 'user' | 'query'>;

/**
 * The attributes of a parsed request (see `parseRequestInfo`). As upstream, a list or watch narrowed
 * by `fieldSelector=metadata.name=<name>` is authorized as one on that name (`kubectl get pod x -w`).
 * @category Authorization
 */
export function authorizationAttributes(
  user: UserInfo,
  info: RequestAttributesSource,
  query?: URLSearchParams,
): AuthorizationAttributes {
  let name = info.name;
  if (!name && (info.verb === 'list' || info.verb === 'watch') && query) {
    const match = /(?:^|,)metadata\.name==?([^,]+)(?:,|$)/.exec(query.get('fieldSelector') ?? '');
    if (match?.[1]) name = match[1];
  }
  return {
    user,
    verb: info.verb,
    resourceRequest: info.isResourceRequest,
    namespace: info.namespace,
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource,
    subresource: info.subresource,
    name,
    path: info.path,
  };
}
