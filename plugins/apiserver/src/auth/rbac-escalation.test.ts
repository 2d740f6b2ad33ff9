// SPDX-License-Identifier: Apache-2.0
// RBAC privilege-escalation prevention: the rule-coverage table (with negative cases), upstream's
// message, and the admission plugin over the default policy plus test roles and bindings.
import {
  type AdmissionAttributes,
  controlPlaneUser,
  errors,
  type KubeObject,
  StatusError,
  type UserInfo,
} from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { AuthorizationChain, PrivilegedGroupAuthorizer } from './authorization.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import { PolicyRbacAuthorizer } from './rbac-authorizer.js';
import {
  compactRuleString,
  coversRules,
  escalationMessage,
  fullAuthorityRules,
  RbacEscalationCheck,
  rbacRulesFor,
} from './rbac-escalation.js';
import { type PolicyRule, staticRbacPolicy } from './rbac-rules.js';

const rbac = 'rbac.authorization.k8s.io';
const r = (
  verbs: string[],
  apiGroups: string[],
  resources: string[],
  resourceNames?: string[],
): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
  ...(resourceNames ? { resourceNames } : {}),
});
const u = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

describe('coversRules', () => {
  const cases: [string, PolicyRule[], PolicyRule[], boolean][] = [
    ['same rule', [r(['get'], [''], ['pods'])], [r(['get'], [''], ['pods'])], true],
    ['more verbs held', [r(['get', 'list'], [''], ['pods'])], [r(['list'], [''], ['pods'])], true],
    ['a verb not held', [r(['get'], [''], ['pods'])], [r(['get', 'delete'], [''], ['pods'])], false],
    ['verb * held covers any verb', [r(['*'], [''], ['pods'])], [r(['escalate'], [''], ['pods'])], true],
    [
      'verb * granted needs verb * held',
      [r(['get', 'list', 'delete'], [''], ['pods'])],
      [r(['*'], [''], ['pods'])],
      false,
    ],
    ['group * held', [r(['get'], ['*'], ['deployments'])], [r(['get'], ['apps'], ['deployments'])], true],
    ['another group', [r(['get'], [''], ['deployments'])], [r(['get'], ['apps'], ['deployments'])], false],
    ['resource * held', [r(['get'], [''], ['*'])], [r(['get'], [''], ['pods', 'secrets'])], true],
    [
      'resource * granted needs * held',
      [r(['get'], [''], ['pods', 'secrets'])],
      [r(['get'], [''], ['*'])],
      false,
    ],
    [
      'split across owner rules',
      [r(['get'], [''], ['pods']), r(['list'], [''], ['pods'])],
      [r(['get', 'list'], [''], ['pods'])],
      true,
    ],
    [
      'a subresource is not its resource',
      [r(['get'], [''], ['pods'])],
      [r(['get'], [''], ['pods/log'])],
      false,
    ],
    [
      '*/status covers pods/status',
      [r(['get'], [''], ['*/status'])],
      [r(['get'], [''], ['pods/status'])],
      true,
    ],
    ['*/status does not cover pods', [r(['get'], [''], ['*/status'])], [r(['get'], [''], ['pods'])], false],
    [
      'any names held covers one name',
      [r(['get'], [''], ['secrets'])],
      [r(['get'], [''], ['secrets'], ['a'])],
      true,
    ],
    [
      'the same names',
      [r(['get'], [''], ['secrets'], ['a', 'b'])],
      [r(['get'], [''], ['secrets'], ['b'])],
      true,
    ],
    ['another name', [r(['get'], [''], ['secrets'], ['a'])], [r(['get'], [''], ['secrets'], ['c'])], false],
    [
      'names held never cover all names',
      [r(['get'], [''], ['secrets'], ['a'])],
      [r(['get'], [''], ['secrets'])],
      false,
    ],
    ['exact URL', [u(['get'], ['/healthz'])], [u(['get'], ['/healthz'])], true],
    ['URL prefix covers a path', [u(['get'], ['/logs/*'])], [u(['get'], ['/logs/app'])], true],
    ['URL prefix covers a narrower prefix', [u(['get'], ['/logs/*'])], [u(['get'], ['/logs/app/*'])], true],
    [
      'narrower prefix does not cover a wider one',
      [u(['get'], ['/logs/app/*'])],
      [u(['get'], ['/logs/*'])],
      false,
    ],
    ['URL * covers every URL', [u(['*'], ['*'])], [u(['post'], ['/metrics'])], true],
    ['a resource rule does not cover a URL', [r(['*'], ['*'], ['*'])], [u(['get'], ['/metrics'])], false],
    ['a URL rule does not cover a resource', [u(['*'], ['*'])], [r(['get'], [''], ['pods'])], false],
    ['nothing held', [], [r(['get'], [''], ['pods'])], false],
    ['nothing granted', [], [], true],
    ['full authority covers full authority', [...fullAuthorityRules], [...fullAuthorityRules], true],
  ];
  it.each(cases)('%s', (_name, owner, servant, expected) => {
    expect(coversRules(owner, servant).covered).toBe(expected);
  });

  it('lists each missing permission once per verb, group, resource and name', () => {
    const { missing } = coversRules(
      [r(['get'], [''], ['pods'])],
      [r(['get', 'delete'], ['', 'apps'], ['pods'], ['a']), u(['get'], ['/metrics'])],
    );
    expect(missing.map(compactRuleString)).toEqual([
      '{APIGroups:[""], Resources:["pods"], ResourceNames:["a"], Verbs:["delete"]}',
      '{APIGroups:["apps"], Resources:["pods"], ResourceNames:["a"], Verbs:["get"]}',
      '{APIGroups:["apps"], Resources:["pods"], ResourceNames:["a"], Verbs:["delete"]}',
      '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
    ]);
  });
});

describe('escalationMessage', () => {
  it("is upstream's: user, groups, then the missing rules compacted and sorted, one per line", () => {
    const user: UserInfo = { username: 'alice', groups: ['team-admins', 'system:authenticated'] };
    const { missing } = coversRules([], [r(['list', 'get'], [''], ['pods']), ...fullAuthorityRules]);
    expect(escalationMessage(user, missing)).toBe(
      'user "alice" (groups=["team-admins" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["pods"], Verbs:["list" "get"]}\n' +
        '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n' +
        '{NonResourceURLs:["*"], Verbs:["*"]}',
    );
  });
});

// The default policy, alice as admin of namespace "team", carol with cluster-wide pod reading,
// dave allowed to escalate roles in "team" and to bind cluster-admin there.
const alice: UserInfo = { username: 'alice', groups: ['system:authenticated'] };
const carol: UserInfo = { username: 'carol', groups: ['system:authenticated'] };
const dave: UserInfo = { username: 'dave', groups: ['system:authenticated'] };
const userSubject = (name: string) => [{ kind: 'User', apiGroup: rbac, name }];
const roleBinding = (
  name: string,
  namespace: string,
  roleKind: string,
  role: string,
  subject: string,
): KubeObject =>
  ({
    apiVersion: `${rbac}/v1`,
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: rbac, kind: roleKind, name: role },
    subjects: userSubject(subject),
  }) as KubeObject;
const clusterRoleBinding = (name: string, role: string, subject: string): KubeObject =>
  ({
    apiVersion: `${rbac}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: role },
    subjects: userSubject(subject),
  }) as KubeObject;
const role = (name: string, namespace: string, rules: PolicyRule[]): KubeObject =>
  ({ apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name, namespace }, rules }) as KubeObject;
const clusterRole = (name: string, rules: PolicyRule[], extra: object = {}): KubeObject =>
  ({ apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name }, rules, ...extra }) as KubeObject;

const objects: KubeObject[] = [
  ...bootstrapClusterRoles(),
  ...bootstrapClusterRoleBindings(),
  roleBinding('alice-admin', 'team', 'ClusterRole', 'admin', 'alice'),
  clusterRole('pod-reader', [r(['get', 'list'], [''], ['pods'])]),
  clusterRoleBinding('carol-pods', 'pod-reader', 'carol'),
  role('escalator', 'team', [
    r(['escalate'], [rbac], ['roles']),
    r(['bind'], [rbac], ['clusterroles'], ['cluster-admin']),
    r(['create', 'update'], [rbac], ['roles', 'rolebindings']),
  ]),
  roleBinding('dave-escalates', 'team', 'Role', 'escalator', 'dave'),
  role('secret-reader', 'team', [r(['get'], [''], ['secrets'])]),
];
const policy = staticRbacPolicy(objects);
const authorization = new AuthorizationChain([
  new PrivilegedGroupAuthorizer(),
  new PolicyRbacAuthorizer(policy),
]);
const registry = {
  async get(kind: unknown, name: string, options: { namespace?: string } = {}) {
    const { kind: wanted } = kind as { kind: string };
    const found = objects.find(
      (o) =>
        o.kind === wanted &&
        o.metadata?.name === name &&
        (o.metadata?.namespace ?? '') === (options.namespace ?? ''),
    );
    if (!found)
      throw errors.notFound({ kind: wanted, name, group: rbac, resource: `${wanted.toLowerCase()}s` });
    return found;
  },
} as never;

function check(): RbacEscalationCheck {
  const plugin = new RbacEscalationCheck();
  plugin.attach({ authorization, policy, registry });
  return plugin;
}

function write(
  user: UserInfo,
  object: KubeObject,
  operation: 'CREATE' | 'UPDATE' = 'CREATE',
  oldObject?: KubeObject,
): AdmissionAttributes {
  const kind = String(object.kind);
  return {
    operation,
    kind: { group: rbac, version: 'v1', kind },
    resource: { group: rbac, version: 'v1', resource: `${kind.toLowerCase()}s` },
    subresource: '',
    namespace: String(object.metadata?.namespace ?? ''),
    name: String(object.metadata?.name ?? ''),
    object,
    ...(oldObject ? { oldObject } : {}),
    userInfo: user,
    dryRun: false,
  };
}

async function refusal(promise: Promise<void>): Promise<StatusError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof StatusError)) throw new Error(`expected a StatusError, got ${String(error)}`);
  return error;
}

describe('RbacEscalationCheck', () => {
  it("collects a user's rules from cluster bindings and the namespace's bindings", () => {
    expect(rbacRulesFor(policy, alice, 'team').some((rule) => rule.resources?.includes('rolebindings'))).toBe(
      true,
    );
    expect(
      rbacRulesFor(policy, alice, 'other').some((rule) => rule.resources?.includes('rolebindings')),
    ).toBe(false);
    expect(rbacRulesFor(policy, carol, '')).toContainEqual(r(['get', 'list'], [''], ['pods']));
  });

  it('a namespace admin may bind view in the namespace', async () => {
    await check().validate(write(alice, roleBinding('bob-view', 'team', 'ClusterRole', 'view', 'bob')));
    await check().validate(write(alice, roleBinding('bob-edit', 'team', 'ClusterRole', 'edit', 'bob')));
  });

  it('a namespace admin may not bind cluster-admin: 403 with the missing permissions', async () => {
    const error = await refusal(
      check().validate(write(alice, roleBinding('bob-root', 'team', 'ClusterRole', 'cluster-admin', 'bob'))),
    );
    expect(error.code).toBe(403);
    expect(error.reason).toBe('Forbidden');
    expect(error.message).toBe(
      'rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
    );
    expect(error.toStatus().details).toEqual({ name: 'bob-root', group: rbac, kind: 'rolebindings' });
  });

  it('what a user holds in one namespace does not let them bind it in another', async () => {
    const error = await refusal(
      check().validate(write(alice, roleBinding('bob-view', 'other', 'ClusterRole', 'view', 'bob'))),
    );
    expect(error.message).toContain('{APIGroups:[""], Resources:["pods"], Verbs:["get" "list" "watch"]}');
  });

  it('a RoleBinding grants the rules of a Role of its namespace', async () => {
    // alice holds secret reading in "team" (admin aggregates edit's secrets); carol does not.
    await check().validate(write(alice, roleBinding('b', 'team', 'Role', 'secret-reader', 'bob')));
    const error = await refusal(
      check().validate(write(carol, roleBinding('b', 'team', 'Role', 'secret-reader', 'bob'))),
    );
    expect(error.message).toContain('{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}');
  });

  it('a ClusterRoleBinding needs the rules cluster-wide: namespace grants do not count', async () => {
    await check().validate(write(carol, clusterRoleBinding('b', 'pod-reader', 'bob')));
    const error = await refusal(check().validate(write(alice, clusterRoleBinding('b', 'pod-reader', 'bob'))));
    expect(error.message).toMatch(
      /^clusterrolebindings\.rbac\.authorization\.k8s\.io "b" is forbidden: user "alice"/,
    );
  });

  it('the bind verb on the referenced role allows the binding, for that role name only', async () => {
    await check().validate(write(dave, roleBinding('b', 'team', 'ClusterRole', 'cluster-admin', 'bob')));
    await refusal(check().validate(write(dave, roleBinding('b', 'team', 'ClusterRole', 'admin', 'bob'))));
    await refusal(
      check().validate(write(dave, roleBinding('b', 'other', 'ClusterRole', 'cluster-admin', 'bob'))),
    );
  });

  it('a binding to a missing role is NotFound', async () => {
    const error = await refusal(
      check().validate(write(alice, roleBinding('b', 'team', 'Role', 'missing', 'bob'))),
    );
    expect(error.reason).toBe('NotFound');
  });

  it('Roles: rules held are allowed, others refused; escalate allows anything', async () => {
    await check().validate(write(alice, role('pods', 'team', [r(['get', 'list'], [''], ['pods'])])));
    const error = await refusal(
      check().validate(write(alice, role('nodes', 'team', [r(['get'], [''], ['nodes'])]))),
    );
    expect(error.message).toBe(
      'roles.rbac.authorization.k8s.io "nodes" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}',
    );
    await check().validate(write(dave, role('anything', 'team', [...fullAuthorityRules])));
    await refusal(check().validate(write(dave, role('anything', 'other', [r(['get'], [''], ['pods'])]))));
  });

  it('ClusterRoles need the rules cluster-wide, and an aggregationRule needs full authority', async () => {
    await check().validate(write(carol, clusterRole('mine', [r(['get'], [''], ['pods'])])));
    await refusal(check().validate(write(carol, clusterRole('mine', [r(['delete'], [''], ['pods'])]))));
    const aggregating = clusterRole('agg', [], {
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] },
    });
    const error = await refusal(check().validate(write(carol, aggregating)));
    expect(error.message).toBe(
      'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    );
    // An update that keeps the aggregation rule as it was is judged on its rules only.
    await check().validate(write(carol, aggregating, 'UPDATE', aggregating));
  });

  it('updates are checked too, except those that change only owner references and finalizers', async () => {
    const old = role('nodes', 'team', [r(['get'], [''], ['nodes'])]);
    const gcOnly = {
      ...old,
      metadata: {
        ...old.metadata,
        finalizers: ['x'],
        ownerReferences: [{ name: 'o' }],
        resourceVersion: '9',
      },
    } as KubeObject;
    await check().validate(write(alice, gcOnly, 'UPDATE', old));
    const labelled = { ...old, metadata: { ...old.metadata, labels: { a: 'b' } } } as KubeObject;
    await refusal(check().validate(write(alice, labelled, 'UPDATE', old)));
  });

  it('system:masters and the in-process control plane bypass the check', async () => {
    const master: UserInfo = { username: 'root', groups: ['system:masters'] };
    await check().validate(write(master, roleBinding('b', 'team', 'ClusterRole', 'cluster-admin', 'bob')));
    await check().validate(
      write(controlPlaneUser, clusterRole('agg', [...fullAuthorityRules], { aggregationRule: {} })),
    );
  });

  it('ignores other kinds, subresources and deletes, and passes while no server is attached', async () => {
    const plugin = check();
    expect(plugin.handles('DELETE')).toBe(false);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team' } } as KubeObject;
    await plugin.validate({ ...write(alice, pod), kind: { group: '', version: 'v1', kind: 'Pod' } });
    const binding = roleBinding('b', 'team', 'ClusterRole', 'cluster-admin', 'bob');
    await plugin.validate({ ...write(alice, binding), subresource: 'status' });
    plugin.detach();
    await plugin.validate(write(alice, binding));
  });
});
