// SPDX-License-Identifier: Apache-2.0
// End to end with the REAL kubectl 1.32 against the HTTPS API server: RBAC privilege-escalation
// prevention (a namespace admin may bind `view` but not `cluster-admin`), impersonation (`--as`,
// `--as-group`) and the review APIs behind `kubectl auth can-i --list` and `auth can-i --as`.
// `kubectl create role|rolebinding` send protobuf bodies, so those are exercised too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { type HttpsApiServer, startHttpsApiServer } from './support/https-api-server.js';
import { type KubectlSession, kubectlSession } from './support/kubectl.js';

let api: HttpsApiServer;
let k: KubectlSession;
let admin: string;
let alice: string;
let bob: string;

/** kubectl with a kubeconfig and a fresh cache directory. */
const kubectlAs = (config: string, ...args: string[]) => k.as(config).run(...args);
const ok = (config: string, ...args: string[]) => k.as(config).ok(...args);

beforeAll(async () => {
  api = await startHttpsApiServer({
    name: 'kubectl-rbac',
    tokens: 'alice-token,alice,2001,"team-admins"\nbob-token,bob,2002,\n',
  });
  admin = api.kubeconfig;
  k = kubectlSession(admin, api.dir, { freshCache: true });
  alice = await api.tokenKubeconfig('alice', 'alice-token', 'team');
  bob = await api.tokenKubeconfig('bob', 'bob-token', 'team');
  await ok(admin, 'create', 'namespace', 'team');
  await ok(admin, 'create', 'namespace', 'other');
  await ok(admin, 'run', 'web', '--image=nginx:1.27', '-n', 'team');
  // alice administers the team namespace (the default `admin` ClusterRole, bound there).
  await ok(
    admin,
    'create',
    'rolebinding',
    'alice-admin',
    '--clusterrole=admin',
    '--user=alice',
    '-n',
    'team',
  );
  await eventually(
    async () => (await kubectlAs(alice, 'auth', 'can-i', 'create', 'rolebindings', '-n', 'team')).code === 0,
    'alice may create rolebindings in team',
  );
}, 120_000);

afterAll(async () => {
  await api?.stop();
});

describe('RBAC escalation prevention, impersonation and reviews with the real kubectl 1.32', () => {
  it('a namespace admin cannot bind cluster-admin: 403 naming the permissions not held', async () => {
    const denied = await kubectlAs(
      alice,
      'create',
      'rolebinding',
      'bob-root',
      '--clusterrole=cluster-admin',
      '--user=bob',
      '-n',
      'team',
    );
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "alice" (groups=["team-admins" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n',
    );
    expect(denied.stderr).toContain('{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
    expect(denied.stderr).toContain('{NonResourceURLs:["*"], Verbs:["*"]}');
    const cluster = await kubectlAs(
      alice,
      'create',
      'clusterrolebinding',
      'bob-root',
      '--clusterrole=view',
      '--user=bob',
    );
    expect(cluster.code).toBe(1);
    expect(cluster.stderr).toContain('User "alice" cannot create resource "clusterrolebindings"');
    // Nothing was written.
    const left = await kubectlAs(admin, 'get', 'rolebinding', 'bob-root', '-n', 'team');
    expect(left.stderr).toContain('NotFound');
  });

  it('a namespace admin can bind view in their namespace, and bob then reads there only', async () => {
    const before = await kubectlAs(bob, 'get', 'pods', '-n', 'team');
    expect(before.code).toBe(1);
    await ok(alice, 'create', 'rolebinding', 'bob-view', '--clusterrole=view', '--user=bob', '-n', 'team');
    // But not in a namespace where alice holds nothing.
    const elsewhere = await kubectlAs(
      alice,
      'create',
      'rolebinding',
      'bob-view',
      '--clusterrole=view',
      '--user=bob',
      '-n',
      'other',
    );
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain(
      'rolebindings.rbac.authorization.k8s.io is forbidden: User "alice" cannot create resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "other"',
    );
    await eventually(
      async () =>
        (await kubectlAs(bob, 'get', 'pods', '-n', 'team', '-o', 'name')).stdout.trim() === 'pod/web',
      'bob can list pods in team',
    );
  });

  it('a namespace admin may create Roles with rules they hold, not with others', async () => {
    await ok(alice, 'create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods', '-n', 'team');
    const denied = await kubectlAs(
      alice,
      'create',
      'role',
      'node-reader',
      '--verb=get',
      '--resource=nodes',
      '-n',
      'team',
    );
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "alice" (groups=["team-admins" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}',
    );
    // The cluster administrator (system:masters) may grant anything.
    await ok(admin, 'create', 'role', 'node-reader', '--verb=get', '--resource=nodes', '-n', 'team');
  });

  it('kubectl --as runs the request as the impersonated user for an administrator', async () => {
    const whoami = await ok(admin, '--as=bob', '--as-group=devs', 'auth', 'whoami');
    expect(whoami).toMatch(/Username\s+bob/);
    expect(whoami).toMatch(/Groups\s+\[devs system:authenticated\]/);
    const plain = await ok(admin, '--as=bob', 'auth', 'whoami');
    expect(plain).toMatch(/Groups\s+\[system:authenticated\]/);
    const denied = await kubectlAs(admin, '--as=bob', 'get', 'pods', '-n', 'other');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "other"',
    );
    expect(await ok(admin, '--as=bob', 'get', 'pods', '-n', 'team', '-o', 'name')).toBe('pod/web\n');
  });

  it('kubectl --as fails for a user without the impersonate verb', async () => {
    // get --raw skips discovery, so kubectl prints the server's message verbatim.
    const raw = await kubectlAs(alice, '--as=bob', 'get', '--raw', '/api/v1/namespaces/team/pods');
    expect(raw.code).toBe(1);
    expect(raw.stderr).toContain(
      'Error from server (Forbidden): users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
    // get starts with discovery, which is refused as well (kubectl reports the discovery failure).
    const denied = await kubectlAs(alice, '--as=bob', 'get', 'pods', '-n', 'team');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('Error from server (Forbidden)');
    expect(denied.stdout).toBe('');
    // Impersonating yourself still needs the verb, and a group is checked on its own.
    const groups = await kubectlAs(
      alice,
      '--as=alice',
      '--as-group=system:masters',
      'get',
      '--raw',
      '/api/v1/nodes',
    );
    expect(groups.code).toBe(1);
    expect(groups.stderr).toContain(
      'users "alice" is forbidden: User "alice" cannot impersonate resource "users"',
    );
  });

  it('kubectl auth can-i --list prints the rules of the caller in the namespace', async () => {
    const aliceRules = await ok(alice, 'auth', 'can-i', '--list', '-n', 'team');
    const header = aliceRules
      .split('\n')[0]
      ?.trim()
      .split(/\s{2,}/);
    expect(header).toEqual(['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']);
    expect(aliceRules).toMatch(/^rolebindings\.rbac\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[.*create.*\]/m);
    expect(aliceRules).toMatch(/^pods\s+\[\]\s+\[\]\s+\[.*get.*\]/m);
    expect(aliceRules).toMatch(
      /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/m,
    );
    expect(aliceRules).toMatch(/^\s+\[\/healthz\]\s+\[\]\s+\[get\]/m);
    // In another namespace alice holds only the cluster-wide basics.
    const otherRules = await ok(alice, 'auth', 'can-i', '--list', '-n', 'other');
    expect(otherRules).not.toMatch(/^pods\s/m);
    const adminRules = await ok(admin, 'auth', 'can-i', '--list');
    expect(adminRules).toMatch(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/m);
  });

  it('kubectl auth can-i list pods --as=bob answers for bob', async () => {
    const yes = await kubectlAs(admin, 'auth', 'can-i', 'list', 'pods', '--as=bob', '-n', 'team');
    expect([yes.code, yes.stdout.trim()]).toEqual([0, 'yes']);
    const no = await kubectlAs(admin, 'auth', 'can-i', 'list', 'pods', '--as=bob', '-n', 'other');
    expect([no.code, no.stdout.trim()]).toEqual([1, 'no']);
    const noDelete = await kubectlAs(admin, 'auth', 'can-i', 'delete', 'pods', '--as=bob', '-n', 'team');
    expect([noDelete.code, noDelete.stdout.trim()]).toEqual([1, 'no']);
  });
});
