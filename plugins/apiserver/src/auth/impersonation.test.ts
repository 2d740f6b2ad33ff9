// SPDX-License-Identifier: Apache-2.0
// Impersonation: header parsing, the `impersonate` checks per attribute (allowed, forbidden,
// groups, service accounts, uid, extras) over real RBAC rules, and the resulting user.
import type { KubeObject, UserInfo } from '@cpkit/core';
import { StatusError } from '@cpkit/core';
import { expectStatusError } from '@cpkit/core/testing';
import { describe, expect, it } from 'vitest';
import { AuthorizationChain, PrivilegedGroupAuthorizer } from './authorization.js';
import { hasImpersonationHeaders, impersonate, impersonationRequestOf } from './impersonation.js';
import { PolicyRbacAuthorizer } from './rbac-authorizer.js';
import { type PolicyRule, staticRbacPolicy } from './rbac-rules.js';

const rbac = 'rbac.authorization.k8s.io';
const clusterRole = (name: string, rules: PolicyRule[]): KubeObject =>
  ({ apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name }, rules }) as KubeObject;
const bindUser = (name: string, role: string, user: string): KubeObject =>
  ({
    apiVersion: `${rbac}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'User', apiGroup: rbac, name: user }],
  }) as KubeObject;

// erin may impersonate user bob, group devs, the ServiceAccount ci/builder, uid 42 and the extra
// scopes=view; nobody else may impersonate anything (root is in system:masters).
const policy = staticRbacPolicy([
  clusterRole('impersonator', [
    { verbs: ['impersonate'], apiGroups: [''], resources: ['users'], resourceNames: ['bob'] },
    { verbs: ['impersonate'], apiGroups: [''], resources: ['groups'], resourceNames: ['devs'] },
    { verbs: ['impersonate'], apiGroups: [''], resources: ['serviceaccounts'], resourceNames: ['builder'] },
    {
      verbs: ['impersonate'],
      apiGroups: ['authentication.k8s.io'],
      resources: ['uids'],
      resourceNames: ['42'],
    },
    {
      verbs: ['impersonate'],
      apiGroups: ['authentication.k8s.io'],
      resources: ['userextras/scopes'],
      resourceNames: ['view'],
    },
  ]),
  bindUser('erin-impersonates', 'impersonator', 'erin'),
]);
const chain = new AuthorizationChain([new PrivilegedGroupAuthorizer(), new PolicyRbacAuthorizer(policy)]);
const erin: UserInfo = { username: 'erin', groups: ['system:authenticated'] };
const root: UserInfo = { username: 'root', groups: ['system:masters', 'system:authenticated'] };
const frank: UserInfo = { username: 'frank', groups: ['system:authenticated'] };

describe('impersonationRequestOf', () => {
  it('reads user, groups, uid and extras (keys lower-cased and percent-decoded)', () => {
    expect(
      impersonationRequestOf({
        'impersonate-user': ['bob'],
        'impersonate-group': ['devs', 'ops'],
        'impersonate-uid': ['42'],
        'impersonate-extra-scopes': ['view', 'edit'],
        'impersonate-extra-example.com%2fteam': ['a'],
        accept: ['application/json'],
      }),
    ).toEqual({
      username: 'bob',
      uid: '42',
      groups: ['devs', 'ops'],
      extra: { scopes: ['view', 'edit'], 'example.com/team': ['a'] },
    });
    expect(impersonationRequestOf({ accept: ['*/*'] })).toBeUndefined();
  });

  it('hasImpersonationHeaders spots any Impersonate-* header', () => {
    expect(hasImpersonationHeaders({ accept: '*/*', authorization: 'Bearer x' })).toBe(false);
    expect(hasImpersonationHeaders({ accept: '*/*', 'impersonate-group': 'devs' })).toBe(true);
    expect(hasImpersonationHeaders({ 'impersonate-extra-scopes': 'x' })).toBe(true);
  });

  it('groups, uid or extras without a user are a 400', () => {
    for (const headers of [
      { 'impersonate-group': ['devs'] },
      { 'impersonate-uid': ['1'] },
      { 'impersonate-extra-scopes': ['x'] },
    ]) {
      let error: unknown;
      try {
        impersonationRequestOf(headers);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StatusError);
      expect((error as StatusError).code).toBe(400);
      expect((error as StatusError).message).toContain('without impersonating a user');
    }
  });
});

describe('impersonate', () => {
  it('without headers the requestor stays', async () => {
    expect(await impersonate({}, frank, chain)).toBe(frank);
  });

  it('an allowed user: the request runs as that user, in system:authenticated only', async () => {
    expect(await impersonate({ 'impersonate-user': ['bob'] }, erin, chain)).toEqual({
      username: 'bob',
      groups: ['system:authenticated'],
    });
  });

  it('a user not allowed: 403 in upstream words, naming the resource "users"', async () => {
    const error = await expectStatusError(impersonate({ 'impersonate-user': ['alice'] }, erin, chain));
    expect(error.code).toBe(403);
    expect(error.message).toBe(
      'users "alice" is forbidden: User "erin" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
    const nobody = await expectStatusError(impersonate({ 'impersonate-user': ['bob'] }, frank, chain));
    expect(nobody.message).toContain('User "frank" cannot impersonate resource "users"');
  });

  it('every group is checked; the groups given replace the user’s and keep system:authenticated', async () => {
    expect(
      await impersonate({ 'impersonate-user': ['bob'], 'impersonate-group': ['devs'] }, erin, chain),
    ).toEqual({ username: 'bob', groups: ['devs', 'system:authenticated'] });
    const error = await expectStatusError(
      impersonate(
        { 'impersonate-user': ['bob'], 'impersonate-group': ['devs', 'system:masters'] },
        erin,
        chain,
      ),
    );
    expect(error.message).toBe(
      'groups "system:masters" is forbidden: User "erin" cannot impersonate resource "groups" in API group "" at the cluster scope',
    );
  });

  it('a service account is checked as serviceaccounts in its namespace and gets its groups', async () => {
    expect(
      await impersonate({ 'impersonate-user': ['system:serviceaccount:ci:builder'] }, erin, chain),
    ).toEqual({
      username: 'system:serviceaccount:ci:builder',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
    });
    const error = await expectStatusError(
      impersonate({ 'impersonate-user': ['system:serviceaccount:ci:deployer'] }, erin, chain),
    );
    expect(error.message).toBe(
      'serviceaccounts "deployer" is forbidden: User "erin" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ci"',
    );
  });

  it('uid and extras are checked in authentication.k8s.io (extras per key as a subresource)', async () => {
    expect(
      await impersonate(
        { 'impersonate-user': ['bob'], 'impersonate-uid': ['42'], 'impersonate-extra-scopes': ['view'] },
        erin,
        chain,
      ),
    ).toEqual({ username: 'bob', uid: '42', groups: ['system:authenticated'], extra: { scopes: ['view'] } });
    const uid = await expectStatusError(
      impersonate({ 'impersonate-user': ['bob'], 'impersonate-uid': ['7'] }, erin, chain),
    );
    expect(uid.message).toBe(
      'uids.authentication.k8s.io "7" is forbidden: User "erin" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope',
    );
    const extra = await expectStatusError(
      impersonate(
        { 'impersonate-user': ['bob'], 'impersonate-extra-scopes': ['view', 'admin'] },
        erin,
        chain,
      ),
    );
    expect(extra.message).toContain(
      'cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io"',
    );
  });

  it('system:masters may impersonate anyone; system:anonymous lands in system:unauthenticated', async () => {
    expect(await impersonate({ 'impersonate-user': ['system:anonymous'] }, root, chain)).toEqual({
      username: 'system:anonymous',
      groups: ['system:unauthenticated'],
    });
    expect(
      await impersonate(
        { 'impersonate-user': ['x'], 'impersonate-group': ['system:unauthenticated'] },
        root,
        chain,
      ),
    ).toEqual({ username: 'x', groups: ['system:unauthenticated'] });
  });

  it('without an authorization chain (an unsecured embedding) impersonation is not checked', async () => {
    expect(await impersonate({ 'impersonate-user': ['bob'] }, frank, undefined)).toEqual({
      username: 'bob',
      groups: ['system:authenticated'],
    });
  });
});
