// SPDX-License-Identifier: Apache-2.0
import type { UserInfo } from './authenticator.js';

/**
 * Service identifier under which authorizers are contributed. The API server asks each bound authorizer
 * in binding order: the first `Allow` or `Deny` decides; when every one says `NoOpinion` the request is
 * denied.
 * @category Contracts
 */
export const Authorizer = Symbol.for('cpkit.Authorizer');

/**
 * The verbs of an API request on a resource, as Kubernetes' RequestInfo derives them from the
 * method, the presence of a name and `?watch=true`.
 * @category Contracts
 */
export type ResourceVerb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection';

/**
 * The request verbs Kubernetes authorizes: the API verbs plus the special `proxy`, `impersonate`, `bind`,
 * `escalate` and `use`; for non-resource requests the lower-cased HTTP method (`get`, `post`, ...).
 * @category Contracts
 */
export type AuthorizationVerb =
  | ResourceVerb
  | 'proxy'
  | 'impersonate'
  | 'bind'
  | 'escalate'
  | 'use'
  | (string & {});

/**
 * What is being asked, as Kubernetes' `authorizer.Attributes`. For a resource request (`/api/...`,
 * `/apis/...`) the resource fields are set and `path` is the request path; for a non-resource request
 * (`/healthz`, `/version`, `/metrics`) only `user`, `verb` and `path` matter.
 * @category Contracts
 */
export interface AuthorizationAttributes {
  user: UserInfo;
  verb: AuthorizationVerb;
  /** True for requests on API resources, false for non-resource URLs. */
  resourceRequest: boolean;
  /** Namespace of the request; `''` for cluster-scoped resources and for lists across all namespaces. */
  namespace: string;
  /** API group; `''` for the core group. */
  apiGroup: string;
  apiVersion: string;
  /** Plural resource name, e.g. `pods`; `''` for non-resource requests. */
  resource: string;
  /** Subresource, e.g. `status`, `log`, `exec`; `''` for none. */
  subresource: string;
  /** Object name; `''` for list, watch-all and create without a name. */
  name: string;
  /** The request path, e.g. `/api/v1/namespaces/default/pods` or `/healthz`. */
  path: string;
}

/** The answer of an {@link Authorizer}. @category Contracts */
export interface AuthorizationDecision {
  decision: 'Allow' | 'Deny' | 'NoOpinion';
  /** Why; shown to the caller in the Forbidden message (e.g. the matching RBAC binding, or what is missing). */
  reason: string;
}

/**
 * Decides whether a user may do something: RBAC, node authorization, "always allow" for a laptop.
 *
 * Resolve with `Allow` or `Deny` to decide, `NoOpinion` to leave it to the next authorizer. Reject only
 * when the decision could not be evaluated (e.g. the policy source is unreachable): the chain records the
 * error, treats it as `NoOpinion` and continues. A final denial reaches the caller as a `Forbidden` (403)
 * `StatusError` carrying the reasons.
 * @category Contracts
 */
export interface Authorizer {
  /** Name used in logs and metrics, e.g. `RBAC`, `Node`, `AlwaysAllow`. */
  readonly name: string;
  authorize(attributes: AuthorizationAttributes): Promise<AuthorizationDecision>;
}
