// SPDX-License-Identifier: Apache-2.0
// The review APIs: SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview and
// TokenReview over real RBAC rules and a real token authenticator; then the same through the HTTPS
// server (with impersonation and escalation prevention on registry writes).
import { type KubeObject, type UserInfo } from '@cpkit/core';
import { expectStatusError } from '@cpkit/core/testing';
import { describe, expect, it } from 'vitest';
import { useSecureApiServer } from '../testing/api-server.js';
import { type AccessReviewContext, accessReviewEndpoint } from './access-reviews.js';
import { AuthenticationChain } from './authentication.js';
import { AlwaysAllowAuthorizer, AuthorizationChain, PrivilegedGroupAuthorizer } from './authorization.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import { PolicyRbacAuthorizer } from './rbac-authorizer.js';
import { staticRbacPolicy } from './rbac-rules.js';
import { parseTokenFile, TokenFileAuthenticator } from './token-file-authenticator.js';

const rbac = 'rbac.authorization.k8s.io';
const policy = staticRbacPolicy([
  ...bootstrapClusterRoles(),
  ...bootstrapClusterRoleBindings(),
  {
    apiVersion: `${rbac}/v1`,
    kind: 'RoleBinding',
    metadata: { name: 'bob-view', namespace: 'team' },
    roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', apiGroup: rbac, name: 'bob' }],
  } as KubeObject,
]);
const authorization = new AuthorizationChain([
  new PrivilegedGroupAuthorizer(),
  new PolicyRbacAuthorizer(policy),
]);
const authentication = new AuthenticationChain([
  new TokenFileAuthenticator(parseTokenFile('bob-token,bob,1001,"devs"\n')),
]);
const root: UserInfo = { username: 'root', groups: ['system:masters', 'system:authenticated'] };
const context = (extra: Partial<AccessReviewContext> = {}): AccessReviewContext => ({
  user: root,
  namespace: '',
  authorization,
  authentication,
  audiences: ['https://kubernetes.default.svc.cluster.local'],
  ...extra,
});

function endpoint(group: string, resource: string) {
  const found = accessReviewEndpoint(group, 'v1', resource);
  if (!found) throw new Error(`no endpoint for ${group}/${resource}`);
  return found;
}
const sar = endpoint('authorization.k8s.io', 'subjectaccessreviews');
const lsar = endpoint('authorization.k8s.io', 'localsubjectaccessreviews');
const ssrr = endpoint('authorization.k8s.io', 'selfsubjectrulesreviews');
const tokenReview = endpoint('authentication.k8s.io', 'tokenreviews');

const allowedOf = (reply: object): { status: { allowed: boolean } } =>
  reply as { status: { allowed: boolean } };

const review = (kind: string, spec: object, metadata: object = {}): KubeObject =>
  ({ apiVersion: 'authorization.k8s.io/v1', kind, metadata, spec }) as KubeObject;

describe('SubjectAccessReview', () => {
  it('answers for the user and groups of the spec, not for the caller', async () => {
    const pods = { verb: 'list', resource: 'pods', namespace: 'team' };
    const allowed = (await sar.review(
      review('SubjectAccessReview', { user: 'bob', resourceAttributes: pods }),
      context(),
    )) as {
      status: { allowed: boolean; reason?: string };
    };
    expect(allowed.status.allowed).toBe(true);
    expect(allowed.status.reason).toContain('RoleBinding "bob-view/team"');
    const elsewhere = (await sar.review(
      review('SubjectAccessReview', { user: 'bob', resourceAttributes: { ...pods, namespace: 'other' } }),
      context(),
    )) as { kind: string; status: { allowed: boolean } };
    expect(elsewhere).toMatchObject({ kind: 'SubjectAccessReview', status: { allowed: false } });
    // Groups count; the spec's user gets no groups it does not list (not even system:authenticated).
    const discovery = { nonResourceAttributes: { path: '/api', verb: 'get' } };
    const allowedFor = async (spec: object): Promise<boolean> =>
      allowedOf(await sar.review(review('SubjectAccessReview', { ...spec, ...discovery }), context())).status
        .allowed;
    expect(await allowedFor({ user: 'bob' })).toBe(false);
    expect(await allowedFor({ user: 'bob', groups: ['system:authenticated'] })).toBe(true);
    expect(await allowedFor({ groups: ['system:masters'] })).toBe(true);
  });

  it('refuses a spec without user and groups, or without exactly one attribute set (422)', async () => {
    const noUser = await expectStatusError(
      sar.review(review('SubjectAccessReview', { resourceAttributes: { verb: 'get' } }), context()),
    );
    expect([noUser.code, noUser.message]).toEqual([
      422,
      expect.stringContaining('at least one of user or group must be specified'),
    ]);
    const neither = await expectStatusError(
      sar.review(review('SubjectAccessReview', { user: 'bob' }), context()),
    );
    expect(neither.message).toContain(
      'exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
    const both = await expectStatusError(
      sar.review(
        review('SubjectAccessReview', { user: 'bob', resourceAttributes: {}, nonResourceAttributes: {} }),
        context(),
      ),
    );
    expect(both.code).toBe(422);
    const wrongKind = await expectStatusError(
      sar.review(review('SelfSubjectAccessReview', { user: 'bob' }), context()),
    );
    expect(wrongKind.code).toBe(400);
  });
});

describe('LocalSubjectAccessReview', () => {
  it('answers in the namespace of the URL, defaulting the attributes to it', async () => {
    const reply = (await lsar.review(
      review('LocalSubjectAccessReview', {
        user: 'bob',
        resourceAttributes: { verb: 'get', resource: 'pods' },
      }),
      context({ namespace: 'team' }),
    )) as {
      metadata: { namespace: string };
      spec: { resourceAttributes: { namespace: string } };
      status: { allowed: boolean };
    };
    expect(reply.status.allowed).toBe(true);
    expect(reply.spec.resourceAttributes.namespace).toBe('team');
    expect(reply.metadata.namespace).toBe('team');
    const other = (await lsar.review(
      review('LocalSubjectAccessReview', {
        user: 'bob',
        resourceAttributes: { verb: 'get', resource: 'pods' },
      }),
      context({ namespace: 'other' }),
    )) as { status: { allowed: boolean } };
    expect(other.status.allowed).toBe(false);
  });

  it('refuses another namespace in the spec (400) and non-resource attributes (422)', async () => {
    const mismatch = await expectStatusError(
      lsar.review(
        review('LocalSubjectAccessReview', {
          user: 'bob',
          resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'other' },
        }),
        context({ namespace: 'team' }),
      ),
    );
    expect([mismatch.code, mismatch.message]).toEqual([
      400,
      'spec.resourceAttributes.namespace must match namespace: team',
    ]);
    const nonResource = await expectStatusError(
      lsar.review(
        review('LocalSubjectAccessReview', {
          user: 'bob',
          nonResourceAttributes: { path: '/api', verb: 'get' },
        }),
        context({ namespace: 'team' }),
      ),
    );
    expect(nonResource.code).toBe(422);
  });
});

describe('SelfSubjectRulesReview', () => {
  it("lists the caller's RBAC rules in the namespace", async () => {
    const bob: UserInfo = { username: 'bob', groups: ['system:authenticated'] };
    type Rules = {
      status: {
        resourceRules: { resources?: string[]; verbs: string[] }[];
        nonResourceRules: object[];
        incomplete: boolean;
      };
    };
    const team = (await ssrr.review(
      review('SelfSubjectRulesReview', { namespace: 'team' }),
      context({ user: bob }),
    )) as Rules;
    expect(team.status.incomplete).toBe(false);
    expect(
      team.status.resourceRules.some((r) => r.resources?.includes('pods') && r.verbs.includes('list')),
    ).toBe(true);
    expect(team.status.resourceRules.some((r) => r.resources?.includes('selfsubjectaccessreviews'))).toBe(
      true,
    );
    expect(team.status.nonResourceRules).toContainEqual({
      verbs: ['get'],
      nonResourceURLs: expect.arrayContaining(['/api']),
    });
    const other = (await ssrr.review(
      review('SelfSubjectRulesReview', { namespace: 'other' }),
      context({ user: bob }),
    )) as Rules;
    expect(other.status.resourceRules.some((r) => r.resources?.includes('pods'))).toBe(false);
  });

  it('system:masters and AlwaysAllow hold everything; an authorizer that cannot list makes it incomplete', async () => {
    type Rules = { status: { resourceRules: object[]; incomplete: boolean } };
    const masters = (await ssrr.review(
      review('SelfSubjectRulesReview', { namespace: 'x' }),
      context(),
    )) as Rules;
    expect(masters.status.resourceRules).toContainEqual({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    const open = new AuthorizationChain([new AlwaysAllowAuthorizer()]);
    const anyone = (await ssrr.review(
      review('SelfSubjectRulesReview', { namespace: 'x' }),
      context({ user: { username: 'x', groups: [] }, authorization: open }),
    )) as Rules;
    expect(anyone.status).toMatchObject({ incomplete: false, resourceRules: [{ verbs: ['*'] }] });
    const opaque = new AuthorizationChain([
      { name: 'Webhook', authorize: async () => ({ decision: 'NoOpinion', reason: '' }) },
    ]);
    const partial = (await ssrr.review(
      review('SelfSubjectRulesReview', {}),
      context({ authorization: opaque }),
    )) as Rules;
    expect(partial.status).toEqual({ resourceRules: [], nonResourceRules: [], incomplete: true });
  });
});

describe('TokenReview', () => {
  const body = (spec: object): KubeObject =>
    ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec }) as KubeObject;
  type Reply = { status: { authenticated: boolean; user: object; audiences?: string[]; error?: string } };

  it('authenticates a token with the server authenticators', async () => {
    const reply = (await tokenReview.review(body({ token: 'bob-token' }), context())) as Reply;
    expect(reply.status).toEqual({
      authenticated: true,
      user: { username: 'bob', uid: '1001', groups: ['devs', 'system:authenticated'] },
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
  });

  it('an unknown token, or audiences the server does not serve, are not authenticated', async () => {
    expect(((await tokenReview.review(body({ token: 'nope' }), context())) as Reply).status).toEqual({
      authenticated: false,
      user: {},
    });
    const foreign = (await tokenReview.review(
      body({ token: 'bob-token', audiences: ['vault'] }),
      context(),
    )) as Reply;
    expect(foreign.status.authenticated).toBe(false);
    expect(foreign.status.error).toContain('audiences');
  });

  it('a review without a token is a 400', async () => {
    expect((await expectStatusError(tokenReview.review(body({}), context()))).code).toBe(400);
  });
});

// Through the HTTPS server: routing, authorization of the reviews themselves, impersonation and
// escalation prevention on real registry writes.
const { call } = useSecureApiServer(
  'root-token,root,1,"system:masters"\nbob-token,bob,2,""\nann-token,ann,3,""\n',
);

describe('the review APIs, impersonation and escalation prevention over HTTPS', () => {
  it('serves the reviews to those allowed to create them', async () => {
    const asked = review('SubjectAccessReview', {
      user: 'bob',
      resourceAttributes: { verb: 'list', resource: 'pods' },
    });
    const answered = await call(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      'root-token',
      asked,
    );
    expect(answered).toMatchObject({
      code: 201,
      body: { kind: 'SubjectAccessReview', status: { allowed: false } },
    });
    const refused = await call(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      'bob-token',
      asked,
    );
    expect(refused.code).toBe(403);
    const local = await call(
      'POST',
      '/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews',
      'root-token',
      review('LocalSubjectAccessReview', {
        user: 'root',
        groups: ['system:masters'],
        resourceAttributes: { verb: 'delete', resource: 'pods' },
      }),
    );
    expect(local).toMatchObject({ code: 201, body: { status: { allowed: true } } });
    const rules = await call(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      'bob-token',
      review('SelfSubjectRulesReview', { namespace: 'default' }),
    );
    expect(rules.code).toBe(201);
    expect(rules.body.status.resourceRules).toContainEqual(
      expect.objectContaining({ resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }),
    );
    const tokens = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', 'root-token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: 'bob-token' },
    });
    expect(tokens).toMatchObject({
      code: 201,
      body: { status: { authenticated: true, user: { username: 'bob' } } },
    });
    expect(
      (await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', 'bob-token', tokens.body)).code,
    ).toBe(403);
  });

  it('Impersonate-User and Impersonate-Group: allowed for system:masters, 403 for others', async () => {
    const whoami = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    };
    const asBob = await call(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      'root-token',
      whoami,
      {
        'Impersonate-User': 'bob',
        'Impersonate-Group': ['devs', 'ops'],
        'Impersonate-Extra-Scopes': 'view',
      },
    );
    expect(asBob).toMatchObject({
      code: 201,
      body: {
        status: {
          userInfo: {
            username: 'bob',
            groups: ['devs', 'ops', 'system:authenticated'],
            extra: { scopes: ['view'] },
          },
        },
      },
    });
    // The impersonated user's permissions apply: bob may not list namespaces.
    const listed = await call('GET', '/api/v1/namespaces', 'root-token', undefined, {
      'Impersonate-User': 'bob',
    });
    expect([listed.code, listed.body.message]).toEqual([
      403,
      'namespaces is forbidden: User "bob" cannot list resource "namespaces" in API group "" at the cluster scope',
    ]);
    const refused = await call('GET', '/api/v1/namespaces', 'bob-token', undefined, {
      'Impersonate-User': 'root',
    });
    expect([refused.code, refused.body.reason, refused.body.message]).toEqual([
      403,
      'Forbidden',
      'users "root" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope',
    ]);
    const groupOnly = await call('GET', '/api/v1/namespaces', 'root-token', undefined, {
      'Impersonate-Group': 'devs',
    });
    expect(groupOnly.code).toBe(400);
  });

  it('a user allowed to write RoleBindings still cannot grant what they do not hold', async () => {
    const binding = (name: string, role: string, subject: string) => ({
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'User', apiGroup: rbac, name: subject }],
    });
    const path = `/apis/${rbac}/v1/namespaces/default/rolebindings`;
    expect((await call('POST', path, 'root-token', binding('ann-admin', 'admin', 'ann'))).code).toBe(201);
    let escalated = { code: 0, body: {} as { message?: string } };
    // Wait for the RBAC cache to see ann's binding (the authorizer reads it from a watch).
    for (let i = 0; i < 200; i++) {
      escalated = await call('POST', path, 'ann-token', binding('bob-root', 'cluster-admin', 'bob'));
      if (escalated.code !== 403 || String(escalated.body.message).includes('attempting to grant')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(escalated.code).toBe(403);
    expect(escalated.body.message).toBe(
      'rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "ann" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
    );
    expect((await call('GET', `${path}/bob-root`, 'root-token')).code).toBe(404);
    // dryRun is refused the same way; binding view is fine.
    expect(
      (await call('POST', `${path}?dryRun=All`, 'ann-token', binding('bob-root', 'cluster-admin', 'bob')))
        .code,
    ).toBe(403);
    expect((await call('POST', path, 'ann-token', binding('bob-view', 'view', 'bob'))).code).toBe(201);
    // A strategic-merge patch that swaps in more rules on a Role is judged on the result.
    const rolePath = `/apis/${rbac}/v1/namespaces/default/roles`;
    const role = {
      apiVersion: `${rbac}/v1`,
      kind: 'Role',
      metadata: { name: 'r' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
    };
    expect((await call('POST', rolePath, 'ann-token', role)).code).toBe(201);
    const patched = await call(
      'PATCH',
      `${rolePath}/r`,
      'ann-token',
      { rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(patched.code).toBe(403);
    expect(patched.body.message).toContain('{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}');
  });
});
