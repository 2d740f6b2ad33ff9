// SPDX-License-Identifier: Apache-2.0
import type { AuthorizationAttributes, UserInfo } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { forbiddenError } from './authorization.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import {
  evaluateRbac,
  type PolicyRule,
  type RbacBinding,
  type RbacRole,
  ruleAllows,
  staticRbacPolicy,
  subjectMatches,
} from './rbac-rules.js';

const bob: UserInfo = { username: 'bob', groups: ['developers', 'system:authenticated'] };

function resource(
  verb: string,
  resourcePath: string,
  extra: Partial<AuthorizationAttributes> = {},
): AuthorizationAttributes {
  const [resourceName = '', subresource = ''] = resourcePath.split('/');
  return {
    user: bob,
    verb,
    resourceRequest: true,
    namespace: 'team',
    apiGroup: '',
    apiVersion: 'v1',
    resource: resourceName,
    subresource,
    name: '',
    path: '',
    ...extra,
  };
}

function nonResource(verb: string, path: string): AuthorizationAttributes {
  return { ...resource(verb, ''), resourceRequest: false, namespace: '', path };
}

describe('ruleAllows', () => {
  const podsRead: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };
  it.each<[string, PolicyRule, AuthorizationAttributes, boolean]>([
    ['exact verb, group and resource', podsRead, resource('list', 'pods'), true],
    ['another verb', podsRead, resource('delete', 'pods'), false],
    ['another resource', podsRead, resource('list', 'secrets'), false],
    ['another group', podsRead, resource('list', 'pods', { apiGroup: 'apps' }), false],
    ['a subresource is not the resource', podsRead, resource('get', 'pods/log'), false],
    [
      'wildcards',
      { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
      resource('patch', 'deployments/scale', { apiGroup: 'apps' }),
      true,
    ],
    [
      'resource/subresource',
      { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] },
      resource('get', 'pods/log'),
      true,
    ],
    [
      'resource/subresource does not grant the resource',
      { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] },
      resource('get', 'pods'),
      false,
    ],
    [
      '*/subresource',
      { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] },
      resource('update', 'deployments/status', { apiGroup: 'apps' }),
      true,
    ],
    [
      '*/subresource does not grant the resource',
      { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] },
      resource('update', 'deployments', { apiGroup: 'apps' }),
      false,
    ],
    [
      '*/subresource needs that subresource',
      { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] },
      resource('update', 'deployments/scale', { apiGroup: 'apps' }),
      false,
    ],
    [
      'resourceNames: listed name',
      { ...podsRead, resourceNames: ['web'] },
      resource('get', 'pods', { name: 'web' }),
      true,
    ],
    [
      'resourceNames: other name',
      { ...podsRead, resourceNames: ['web'] },
      resource('get', 'pods', { name: 'db' }),
      false,
    ],
    [
      'resourceNames never match a list (no name)',
      { ...podsRead, resourceNames: ['web'] },
      resource('list', 'pods'),
      false,
    ],
    [
      'a rule without apiGroups matches no resource',
      { verbs: ['get'], resources: ['pods'] },
      resource('get', 'pods'),
      false,
    ],
    ['a resource rule does not grant a URL', podsRead, nonResource('get', '/healthz'), false],
    [
      'nonResourceURLs exact',
      { verbs: ['get'], nonResourceURLs: ['/healthz'] },
      nonResource('get', '/healthz'),
      true,
    ],
    [
      'nonResourceURLs exact is not a prefix',
      { verbs: ['get'], nonResourceURLs: ['/healthz'] },
      nonResource('get', '/healthz/etcd'),
      false,
    ],
    [
      'nonResourceURLs prefix/*',
      { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
      nonResource('get', '/apis/apps/v1'),
      true,
    ],
    [
      'nonResourceURLs prefix/* needs the prefix',
      { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
      nonResource('get', '/api/v1'),
      false,
    ],
    ['nonResourceURLs *', { verbs: ['get'], nonResourceURLs: ['*'] }, nonResource('get', '/metrics'), true],
    [
      'nonResourceURLs with another verb',
      { verbs: ['get'], nonResourceURLs: ['*'] },
      nonResource('post', '/metrics'),
      false,
    ],
    [
      'a URL rule does not grant resources',
      { verbs: ['*'], nonResourceURLs: ['*'] },
      resource('get', 'pods'),
      false,
    ],
  ])('%s', (_what, rule, attributes, allowed) => {
    expect(ruleAllows(attributes, rule)).toBe(allowed);
  });
});

describe('subjectMatches', () => {
  const sa: UserInfo = { username: 'system:serviceaccount:team:robot', groups: ['system:serviceaccounts'] };
  it.each<[string, Parameters<typeof subjectMatches>[0], UserInfo, string, boolean]>([
    ['user by name', { kind: 'User', name: 'bob' }, bob, 'team', true],
    ['another user', { kind: 'User', name: 'alice' }, bob, 'team', false],
    ['a group the user is in', { kind: 'Group', name: 'developers' }, bob, '', true],
    ['a group the user is not in', { kind: 'Group', name: 'admins' }, bob, '', false],
    ['a user named like a group is not a member', { kind: 'Group', name: 'bob' }, bob, '', false],
    [
      'service account with namespace',
      { kind: 'ServiceAccount', name: 'robot', namespace: 'team' },
      sa,
      '',
      true,
    ],
    [
      'service account defaults to the binding namespace',
      { kind: 'ServiceAccount', name: 'robot' },
      sa,
      'team',
      true,
    ],
    ['service account of another namespace', { kind: 'ServiceAccount', name: 'robot' }, sa, 'other', false],
    ['service account without any namespace', { kind: 'ServiceAccount', name: 'robot' }, sa, '', false],
    ['unknown kind', { kind: 'Robot', name: 'bob' }, bob, 'team', false],
  ])('%s', (_what, subject, user, namespace, expected) => {
    expect(subjectMatches(subject, user, namespace)).toBe(expected);
  });
});

const role = (namespace: string, name: string, rules: PolicyRule[]): RbacRole => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { namespace, name },
  rules,
});
const binding = (
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  name: string,
  roleRef: RbacBinding['roleRef'],
  subjects: RbacBinding['subjects'],
  namespace?: string,
): RbacBinding => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  roleRef,
  subjects,
});
const ref = (kind: 'Role' | 'ClusterRole', name: string) => ({
  apiGroup: 'rbac.authorization.k8s.io',
  kind,
  name,
});

describe('evaluateRbac', () => {
  const policy = staticRbacPolicy([
    ...bootstrapClusterRoles(),
    ...bootstrapClusterRoleBindings(),
    role('team', 'pod-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]),
    binding('RoleBinding', 'bob-reads', ref('Role', 'pod-reader'), [{ kind: 'User', name: 'bob' }], 'team'),
    binding(
      'RoleBinding',
      'devs-view',
      ref('ClusterRole', 'view'),
      [{ kind: 'Group', name: 'developers' }],
      'shared',
    ),
    binding('RoleBinding', 'dangling', ref('Role', 'missing'), [{ kind: 'User', name: 'bob' }], 'ghost'),
  ]);

  it('allows through a RoleBinding only in its namespace, and says which binding', () => {
    expect(evaluateRbac(policy, resource('list', 'pods'))).toEqual({
      decision: 'Allow',
      reason: 'RBAC: allowed by RoleBinding "bob-reads/team" of Role "pod-reader" to User "bob"',
    });
    expect(evaluateRbac(policy, resource('list', 'pods', { namespace: 'other' })).decision).toBe('NoOpinion');
    expect(evaluateRbac(policy, resource('delete', 'pods', { name: 'web' })).decision).toBe('NoOpinion');
    // A list across all namespaces is cluster-scoped: a RoleBinding never grants it.
    expect(evaluateRbac(policy, resource('list', 'pods', { namespace: '' })).decision).toBe('NoOpinion');
    expect(evaluateRbac(policy, resource('get', 'pods', { namespace: 'ghost', name: 'x' })).decision).toBe(
      'NoOpinion',
    );
  });

  it('a RoleBinding to an aggregated ClusterRole (view) grants its aggregated rules in that namespace', () => {
    expect(
      evaluateRbac(policy, resource('watch', 'deployments', { apiGroup: 'apps', namespace: 'shared' }))
        .decision,
    ).toBe('Allow');
    expect(
      evaluateRbac(policy, resource('get', 'configmaps', { namespace: 'shared', name: 'c' })).decision,
    ).toBe('Allow');
    expect(
      evaluateRbac(policy, resource('get', 'secrets', { namespace: 'shared', name: 's' })).decision,
    ).toBe('NoOpinion');
    expect(evaluateRbac(policy, resource('create', 'configmaps', { namespace: 'shared' })).decision).toBe(
      'NoOpinion',
    );
  });

  it('cluster-admin through system:masters; basic-user and discovery for every authenticated user', () => {
    const admin: UserInfo = {
      username: 'kubernetes-admin',
      groups: ['system:masters', 'system:authenticated'],
    };
    expect(
      evaluateRbac(policy, { ...resource('delete', 'nodes', { namespace: '', name: 'n1' }), user: admin })
        .decision,
    ).toBe('Allow');
    expect(evaluateRbac(policy, { ...nonResource('post', '/anything'), user: admin }).decision).toBe('Allow');
    expect(
      evaluateRbac(
        policy,
        resource('create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io', namespace: '' }),
      ).decision,
    ).toBe('Allow');
    expect(
      evaluateRbac(
        policy,
        resource('create', 'selfsubjectreviews', { apiGroup: 'authentication.k8s.io', namespace: '' }),
      ).decision,
    ).toBe('Allow');
    expect(evaluateRbac(policy, nonResource('get', '/apis/apps/v1')).decision).toBe('Allow');
    expect(evaluateRbac(policy, nonResource('get', '/version')).decision).toBe('Allow');
    expect(evaluateRbac(policy, nonResource('get', '/metrics')).decision).toBe('NoOpinion');
  });

  it('an anonymous caller may read /healthz and /version only', () => {
    const anonymous: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    expect(evaluateRbac(policy, { ...nonResource('get', '/healthz'), user: anonymous }).decision).toBe(
      'Allow',
    );
    expect(evaluateRbac(policy, { ...nonResource('get', '/api'), user: anonymous }).decision).toBe(
      'NoOpinion',
    );
    expect(evaluateRbac(policy, { ...resource('list', 'pods'), user: anonymous }).decision).toBe('NoOpinion');
  });

  it('admin aggregates edit and view; edit may not touch RBAC', () => {
    const lead: UserInfo = { username: 'lead', groups: [] };
    const leadPolicy = staticRbacPolicy([
      ...bootstrapClusterRoles(),
      binding(
        'RoleBinding',
        'lead-admin',
        ref('ClusterRole', 'admin'),
        [{ kind: 'User', name: 'lead' }],
        'team',
      ),
      binding(
        'RoleBinding',
        'lead-edit',
        ref('ClusterRole', 'edit'),
        [{ kind: 'User', name: 'lead' }],
        'edit-only',
      ),
    ]);
    const ask = (verb: string, res: string, ns: string, apiGroup = '') =>
      evaluateRbac(leadPolicy, { ...resource(verb, res, { namespace: ns, apiGroup }), user: lead }).decision;
    expect(ask('create', 'rolebindings', 'team', 'rbac.authorization.k8s.io')).toBe('Allow');
    expect(ask('delete', 'secrets', 'team')).toBe('Allow');
    expect(ask('list', 'pods', 'team')).toBe('Allow');
    expect(ask('create', 'rolebindings', 'edit-only', 'rbac.authorization.k8s.io')).toBe('NoOpinion');
    expect(ask('create', 'deployments', 'edit-only', 'apps')).toBe('Allow');
  });
});

describe('forbiddenError', () => {
  it('words the denial as upstream does', () => {
    expect(forbiddenError(resource('list', 'pods', { namespace: 'default' }), '').message).toBe(
      'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    const named = forbiddenError(
      resource('get', 'deployments/scale', { apiGroup: 'apps', name: 'web', namespace: '' }),
      'no binding',
    );
    expect(named.toStatus()).toMatchObject({
      reason: 'Forbidden',
      code: 403,
      message:
        'deployments.apps "web" is forbidden: User "bob" cannot get resource "deployments/scale" in API group "apps" at the cluster scope: no binding',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
    });
    expect(forbiddenError(nonResource('get', '/metrics'), '').message).toBe(
      'forbidden: User "bob" cannot get path "/metrics"',
    );
  });
});
