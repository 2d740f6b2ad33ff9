// SPDX-License-Identifier: Apache-2.0
// User impersonation (`kubectl --as`, `--as-group`, `--as-uid`), with the headers, authorization
// checks and resulting user info Kubernetes documents under "User impersonation".
import { type AuthorizationAttributes, errors, type UserInfo } from '@cpkit/core';
import { anonymousUser, authenticatedGroup } from './authentication.js';
import { type AuthorizationChain, forbiddenError } from './authorization.js';

/** The user to act as. @category Authentication */
export const impersonateUserHeader = 'impersonate-user';
/** A group to act in (repeatable). @category Authentication */
export const impersonateGroupHeader = 'impersonate-group';
/** The uid to act with. @category Authentication */
export const impersonateUidHeader = 'impersonate-uid';
/** Prefix of the extra fields to act with: `Impersonate-Extra-<key>: <value>` (repeatable). @category Authentication */
export const impersonateExtraHeaderPrefix = 'impersonate-extra-';

const unauthenticatedGroup = 'system:unauthenticated';
const serviceAccountPrefix = 'system:serviceaccount:';

/** Request headers with every value as a list (Node's `req.headersDistinct`). @category Authentication */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/**
 * True when a request carries any `Impersonate-*` header (a cheap test on Node's parsed headers, so
 * requests without impersonation skip building the per-value header lists).
 * @category Authentication
 */
export function hasImpersonationHeaders(headers: Readonly<Record<string, unknown>>): boolean {
  for (const name in headers) if (name.startsWith('impersonate-')) return true;
  return false;
}

/** What a request asks to impersonate, read from its headers; undefined when it asks for nothing. @category Authentication */
export interface ImpersonationRequest {
  username: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/**
 * Reads the impersonation headers. Extra keys are lower-cased and percent-decoded, as upstream.
 * @throws StatusError `BadRequest` when a group, uid or extra is asked for without a user.
 * @category Authentication
 */
export function impersonationRequestOf(headers: DistinctHeaders): ImpersonationRequest | undefined {
  const username = headers[impersonateUserHeader]?.[0];
  const groups = [...(headers[impersonateGroupHeader] ?? [])];
  const uid = headers[impersonateUidHeader]?.[0];
  const extra: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith(impersonateExtraHeaderPrefix) || !values) continue;
    let key = lower.slice(impersonateExtraHeaderPrefix.length);
    try {
      key = decodeURIComponent(key);
    } catch {
      throw errors.badRequest(`the impersonation header ${name} has an invalid percent-encoded key`);
    }
    extra[key] = [...(extra[key] ?? []), ...values];
  }
  const others = groups.length > 0 || uid !== undefined || Object.keys(extra).length > 0;
  if (username === undefined || username === '') {
    if (others) {
      const asked = [
        ...groups.map((g) => `group ${JSON.stringify(g)}`),
        ...(uid !== undefined ? [`uid ${JSON.stringify(uid)}`] : []),
        ...Object.keys(extra).map((k) => `extra ${JSON.stringify(k)}`),
      ];
      throw errors.badRequest(`requested impersonation of ${asked.join(', ')} without impersonating a user`);
    }
    return undefined;
  }
  return { username, ...(uid !== undefined ? { uid } : {}), groups, extra };
}

/** The authorization attributes of one impersonation check (verb `impersonate`). */
function impersonationAttributes(
  requestor: UserInfo,
  what: { apiGroup: string; resource: string; subresource?: string; namespace?: string; name: string },
): AuthorizationAttributes {
  return {
    user: requestor,
    verb: 'impersonate',
    resourceRequest: true,
    namespace: what.namespace ?? '',
    apiGroup: what.apiGroup,
    apiVersion: '',
    resource: what.resource,
    subresource: what.subresource ?? '',
    name: what.name,
    path: '',
  };
}

/**
 * The user a request runs as. Without impersonation headers that is `requestor`. Otherwise each
 * impersonated attribute must be allowed to `requestor` with the `impersonate` verb, as upstream:
 * `users` (or `serviceaccounts` in the account's namespace for `system:serviceaccount:<ns>:<name>`)
 * and `groups` in the core group, `uids` and `userextras/<key>` in `authentication.k8s.io`. The
 * result carries only what was asked: the user, the groups given (a service account without groups
 * gets `system:serviceaccounts` and `system:serviceaccounts:<ns>`), `system:authenticated` (or
 * `system:unauthenticated` for `system:anonymous`) unless given, the uid and the extras.
 * With no `authorization` (an unsecured embedding) every impersonation is allowed.
 * @throws StatusError `Forbidden` naming the first attribute the requestor may not impersonate;
 *   `BadRequest` for groups, uid or extras without a user.
 * @category Authentication
 */
export async function impersonate(
  headers: DistinctHeaders,
  requestor: UserInfo,
  authorization: AuthorizationChain | undefined,
): Promise<UserInfo> {
  const asked = impersonationRequestOf(headers);
  if (!asked) return requestor;
  const checks: AuthorizationAttributes[] = [];
  let groups = [...asked.groups];
  if (asked.username.startsWith(serviceAccountPrefix)) {
    const [namespace = '', name = ''] = asked.username.slice(serviceAccountPrefix.length).split(':');
    checks.push(
      impersonationAttributes(requestor, { apiGroup: '', resource: 'serviceaccounts', namespace, name }),
    );
    if (groups.length === 0 && namespace) {
      groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
    }
  } else {
    checks.push(
      impersonationAttributes(requestor, { apiGroup: '', resource: 'users', name: asked.username }),
    );
  }
  for (const group of asked.groups) {
    checks.push(impersonationAttributes(requestor, { apiGroup: '', resource: 'groups', name: group }));
  }
  if (asked.uid !== undefined) {
    checks.push(
      impersonationAttributes(requestor, {
        apiGroup: 'authentication.k8s.io',
        resource: 'uids',
        name: asked.uid,
      }),
    );
  }
  for (const [key, values] of Object.entries(asked.extra)) {
    for (const value of values) {
      checks.push(
        impersonationAttributes(requestor, {
          apiGroup: 'authentication.k8s.io',
          resource: 'userextras',
          subresource: key,
          name: value,
        }),
      );
    }
  }
  if (authorization) {
    for (const attributes of checks) {
      const { decision, reason } = await authorization.decide(attributes);
      // As upstream: `users "bob" is forbidden: User "alice" cannot impersonate resource "users" ...`.
      if (decision !== 'Allow') throw forbiddenError(attributes, reason);
    }
  }
  if (asked.username === anonymousUser.username) {
    if (!groups.includes(unauthenticatedGroup)) groups.push(unauthenticatedGroup);
  } else if (!groups.includes(authenticatedGroup) && !groups.includes(unauthenticatedGroup)) {
    groups.push(authenticatedGroup);
  }
  return {
    username: asked.username,
    ...(asked.uid !== undefined ? { uid: asked.uid } : {}),
    groups,
    ...(Object.keys(asked.extra).length > 0 ? { extra: asked.extra } : {}),
  };
}
