// SPDX-License-Identifier: Apache-2.0
// End to end with the REAL kubectl (Debian package `kubectl`, whose /usr/bin/kubectl dispatches to
// kubectl 1.32 because the server reports v1.32.4) against `npm start` (the single-node starter as a
// child process, in-memory store) over HTTPS on loopback. kubectl uses the admin kubeconfig the
// server writes (client certificate in system:masters); the auth cases add token users and RBAC.
import { writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpsApiServer, startHttpsApiServer } from './support/https-api-server.js';
import { type KubectlSession, kubectlSession } from './support/kubectl.js';

let api: HttpsApiServer;
let dir: string;
let k: KubectlSession;

beforeAll(async () => {
  api = await startHttpsApiServer({
    name: 'kubectl',
    tokens: 'bob-secret-token,bob,1001,"developers,testers"\n',
  });
  dir = api.dir;
  // A fresh cache directory for every run: each run does its own discovery.
  k = kubectlSession(api.kubeconfig, dir, { freshCache: true });
});

afterAll(async () => {
  await api?.stop();
});

const kubectl = (...args: string[]) => k.run(...args);
const ok = (...args: string[]) => k.ok(...args);
/** kubectl with another kubeconfig. */
const kubectlAs = (config: string, ...args: string[]) => k.as(config).run(...args);

describe('real kubectl 1.32 against the HTTPS API server', () => {
  it('kubectl version reports the server as v1.32.4', async () => {
    const out = await ok('version');
    expect(out).toMatch(/Client Version: v1\.32\./);
    expect(out).toContain('Server Version: v1.32.4');
  });

  it('kubectl get namespaces prints a table with NAME STATUS AGE', async () => {
    const out = await ok('get', 'namespaces');
    const [header, ...rows] = out.trim().split('\n');
    expect(header?.split(/\s+/)).toEqual(['NAME', 'STATUS', 'AGE']);
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(
      expect.arrayContaining(['default', 'kube-system']),
    );
    expect(rows.find((row) => row.startsWith('default'))).toMatch(/^default\s+Active\s+\d+s$/);
  });

  it('kubectl get -A, -o wide, --show-labels and -o yaml', async () => {
    expect(await ok('get', 'namespaces', '--show-labels')).toMatch(
      /^default\s+Active\s+\d+s\s+kubernetes\.io\/metadata\.name=default$/m,
    );
    expect(await ok('get', 'namespaces', '-o', 'wide')).toMatch(/^NAME\s+STATUS\s+AGE$/m);
    expect(await ok('get', 'namespace', 'default', '-o', 'yaml')).toMatch(/^kind: Namespace$/m);
  });

  it('kubectl create namespace|configmap|secret (protobuf request bodies)', async () => {
    expect(await ok('create', 'namespace', 'proto')).toContain('namespace/proto created');
    expect(
      await ok('create', 'configmap', 'pcm', '-n', 'proto', '--from-literal=a=1', '--from-literal=empty='),
    ).toContain('configmap/pcm created');
    expect(JSON.parse(await ok('get', 'cm', 'pcm', '-n', 'proto', '-o', 'json')).data).toEqual({
      a: '1',
      empty: '',
    });
    expect(
      await ok('create', 'secret', 'generic', 'psec', '-n', 'proto', '--from-literal=pw=s3cret'),
    ).toContain('secret/psec created');
    const secret = JSON.parse(await ok('get', 'secret', 'psec', '-n', 'proto', '-o', 'json'));
    expect(secret.type).toBe('Opaque');
    expect(Buffer.from(secret.data.pw, 'base64').toString()).toBe('s3cret');
    expect(await ok('get', 'namespace', 'proto', '-o', 'jsonpath={.status.phase}')).toBe('Active');
  });

  it('kubectl delete namespace waits until the namespace is emptied and gone', async () => {
    await ok('create', 'namespace', 'doomed');
    await ok('create', 'configmap', 'inside', '-n', 'doomed', '--from-literal=a=1');
    // kubectl waits for the namespace to disappear: the namespace finalizer must empty and finalize it.
    expect(await ok('delete', 'namespace', 'doomed', '--timeout=30s')).toContain(
      'namespace "doomed" deleted',
    );
    const gone = await kubectl('get', 'namespace', 'doomed');
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('namespaces "doomed" not found');
  });

  it('kubectl auth whoami shows the admin of the written kubeconfig; auth can-i says yes', async () => {
    const whoami = await ok('auth', 'whoami');
    expect(whoami).toMatch(/Username\s+kubernetes-admin/);
    expect(whoami).toMatch(/Groups\s+\[system:masters system:authenticated\]/);
    expect((await ok('auth', 'can-i', 'create', 'deployments', '-n', 'default')).trim()).toBe('yes');
    expect((await ok('auth', 'can-i', 'get', '/metrics')).trim()).toBe('yes');
  });

  it('kubectl api-resources lists the served kinds from aggregated discovery', async () => {
    const out = await ok('api-resources');
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
  });

  it('kubectl apply -f twice: created, then unchanged; a changed manifest is configured', async () => {
    const manifest = join(dir, 'applied.yaml');
    const write = (value: string): Promise<void> =>
      writeFile(
        manifest,
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: ${value}\n`,
      );
    await write('one');
    expect(await ok('apply', '-f', manifest)).toContain('configmap/applied created');
    expect(await ok('apply', '-f', manifest)).toContain('configmap/applied unchanged');
    await write('two');
    expect(await ok('apply', '-f', manifest)).toContain('configmap/applied configured');
    expect(await ok('get', 'cm', 'applied', '-o', 'jsonpath={.data.k}')).toBe('two');
    expect(await ok('get', 'configmaps', '-A')).toMatch(
      /^NAMESPACE\s+NAME\s+DATA\s+AGE\ndefault\s+applied\s+1\s+\d+s$/m,
    );
    // Server-side apply (simplified: no field ownership yet) creates, then updates.
    const ssa = join(dir, 'ssa.yaml');
    await writeFile(ssa, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: one\n');
    expect(await ok('apply', '--server-side', '-f', ssa)).toContain('configmap/ssa serverside-applied');
    await writeFile(ssa, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: two\n');
    expect(await ok('apply', '--server-side', '-f', ssa)).toContain('configmap/ssa serverside-applied');
    expect(await ok('get', 'cm', 'ssa', '-o', 'jsonpath={.data.k}')).toBe('two');
  });

  it('kubectl get -w prints the table, then later changes', async () => {
    await ok('create', 'configmap', 'watched-0', '--dry-run=client', '-o', 'json').then((json) =>
      writeFile(join(dir, 'watched-0.json'), json),
    );
    await ok('create', '-f', join(dir, 'watched-0.json'));
    const watching = kubectl('get', 'configmaps', '-w', '--request-timeout=4s');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await ok('label', 'configmap', 'watched-0', 'seen=yes');
    const result = await watching;
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual(['NAME', 'DATA', 'AGE']);
    expect(lines.filter((line) => line.startsWith('watched-0 '))).toHaveLength(2);
  });

  it('create -f, get -o json, label, patch (merge and strategic), delete, then NotFound', async () => {
    // Default validation: kubectl finds fieldValidation in the OpenAPI v3 documents and trusts the server.
    const manifest = join(dir, 'objects.yaml');
    await writeFile(
      manifest,
      `apiVersion: v1
kind: ConfigMap
metadata:
  name: x
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
      - name: sidecar
        image: busybox:1.36
`,
    );
    const created = await kubectl('create', '-f', manifest);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('configmap/x created');
    expect(created.stdout).toContain('deployment.apps/web created');
    // Checked against the schemas (fieldValidation=Strict): a clean manifest draws no warning.
    expect(created.stderr).not.toContain('Warning');

    const cm = JSON.parse(await ok('get', 'configmap', 'x', '-o', 'json'));
    expect(cm).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { greeting: 'hello' } });
    expect(cm.metadata).toMatchObject({ name: 'x', namespace: 'default' });
    expect(cm.metadata.uid).toEqual(expect.any(String));

    expect(await ok('get', 'cm', 'x')).toMatch(/^NAME\s+DATA\s+AGE\nx\s+1\s+\d+s\n$/);

    expect(await ok('label', 'configmap', 'x', 'tier=frontend')).toContain('configmap/x labeled');
    expect(await ok('get', 'cm', 'x', '-o', 'jsonpath={.metadata.labels.tier}')).toBe('frontend');

    expect(
      await ok('patch', 'configmap', 'x', '--type=merge', '-p', '{"data":{"greeting":"hi","extra":"1"}}'),
    ).toContain('configmap/x patched');
    expect(JSON.parse(await ok('get', 'cm', 'x', '-o', 'json')).data).toEqual({ greeting: 'hi', extra: '1' });

    // Strategic merge: the containers list merges by name, so the sidecar stays.
    const patch = '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}';
    expect(await ok('patch', 'deployment', 'web', '--type=strategic', '-p', patch)).toContain(
      'deployment.apps/web patched',
    );
    const deployment = JSON.parse(await ok('get', 'deploy', 'web', '-o', 'json'));
    expect(deployment.spec.template.spec.containers).toEqual([
      expect.objectContaining({ name: 'web', image: 'nginx:1.28' }),
      expect.objectContaining({ name: 'sidecar', image: 'busybox:1.36' }),
    ]);

    expect(await ok('scale', 'deployment', 'web', '--replicas=3')).toContain('deployment.apps/web scaled');
    expect(await ok('scale', 'deployment', 'web', '--current-replicas=3', '--replicas=2')).toContain(
      'deployment.apps/web scaled',
    );
    expect(await ok('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}')).toBe('2');

    expect(await ok('delete', 'configmap', 'x')).toContain('configmap "x" deleted');
    const missing = await kubectl('get', 'cm', 'x');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error from server (NotFound): configmaps "x" not found');
  });
});

describe('authentication and RBAC with the real kubectl', () => {
  async function applyManifest(name: string, yaml: string): Promise<void> {
    const path = join(dir, name);
    await writeFile(path, yaml);
    await ok('apply', '-f', path);
  }

  it('a token-file user bound to a Role can list pods in its namespace only', async () => {
    await ok('create', 'namespace', 'team');
    await ok('create', 'namespace', 'other');
    await ok('run', 'web', '--image=nginx:1.27', '-n', 'team');
    // kubectl create role|rolebinding send protobuf bodies; apply sends JSON.
    await applyManifest(
      'bob-rbac.yaml',
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-reads-pods, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
`,
    );
    const bob = await api.tokenKubeconfig('bob', 'bob-secret-token');

    const whoami = await kubectlAs(bob, 'auth', 'whoami');
    expect(whoami.stdout).toMatch(/Username\s+bob/);
    expect(whoami.stdout).toMatch(/UID\s+1001/);
    expect(whoami.stdout).toMatch(/Groups\s+\[developers testers system:authenticated\]/);

    const canList = await kubectlAs(bob, 'auth', 'can-i', 'list', 'pods', '-n', 'team');
    expect([canList.code, canList.stdout.trim()]).toEqual([0, 'yes']);
    const canListOther = await kubectlAs(bob, 'auth', 'can-i', 'list', 'pods', '-n', 'other');
    expect([canListOther.code, canListOther.stdout.trim()]).toEqual([1, 'no']);
    const canDelete = await kubectlAs(bob, 'auth', 'can-i', 'delete', 'pods', '-n', 'team');
    expect([canDelete.code, canDelete.stdout.trim()]).toEqual([1, 'no']);

    const allowed = await kubectlAs(bob, 'get', 'pods', '-n', 'team', '-o', 'name');
    expect([allowed.code, allowed.stdout.trim()]).toEqual([0, 'pod/web']);
    const denied = await kubectlAs(bob, 'get', 'pods', '-n', 'other');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      'Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "other"',
    );
    const deleteDenied = await kubectlAs(bob, 'delete', 'pod', 'web', '-n', 'team');
    expect(deleteDenied.stderr).toContain(
      'pods "web" is forbidden: User "bob" cannot delete resource "pods" in API group "" in the namespace "team"',
    );
    expect(await ok('get', 'pod', 'web', '-n', 'team', '-o', 'name')).toBe('pod/web\n');
  });

  it('no credentials and unknown tokens get 401 Unauthorized', async () => {
    // kubectl itself prompts for a user name when a kubeconfig has no credentials, so the bare
    // request goes through node:https (trusting the CA, presenting nothing).
    const bare = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${api.url}/api/v1/namespaces/default/pods`, { ca: api.caCertPem }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(bare.code).toBe(401);
    expect(JSON.parse(bare.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const forged = await kubectlAs(await api.tokenKubeconfig('forged', 'not-a-known-token'), 'get', 'pods');
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain('error: You must be logged in to the server');
  });

  it('a service-account token works until the ServiceAccount is deleted', async () => {
    await ok('create', 'namespace', 'robots');
    await ok('create', 'serviceaccount', 'robot', '-n', 'robots');
    await applyManifest(
      'robot-rbac.yaml',
      `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: robot-views, namespace: robots}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: robot, namespace: robots}
`,
    );
    await ok('create', 'configmap', 'settings', '-n', 'robots', '--from-literal=a=1');
    // kubectl create token POSTs a protobuf TokenRequest to serviceaccounts/robot/token.
    const token = (await ok('create', 'token', 'robot', '-n', 'robots', '--duration=20m')).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'system:serviceaccount:robots:robot' });
    expect(claims.exp - claims.iat).toBe(1200);
    const bound = await kubectl(
      'create',
      'token',
      'robot',
      '-n',
      'robots',
      '--bound-object-kind=Secret',
      '--bound-object-name=x',
    );
    expect(bound.stderr).toContain('bound service-account tokens are not supported yet');
    const robot = await api.tokenKubeconfig('robot', token);

    expect((await kubectlAs(robot, 'auth', 'whoami')).stdout).toMatch(
      /Username\s+system:serviceaccount:robots:robot/,
    );
    const read = await kubectlAs(robot, 'get', 'configmaps', '-n', 'robots', '-o', 'name');
    expect([read.code, read.stdout.trim()]).toEqual([0, 'configmap/settings']);
    // view may not write.
    const write = await kubectlAs(robot, 'delete', 'configmap', 'settings', '-n', 'robots');
    expect(write.stderr).toContain('(Forbidden)');

    await ok('delete', 'serviceaccount', 'robot', '-n', 'robots');
    const revoked = await kubectlAs(robot, 'get', 'configmaps', '-n', 'robots');
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('error: You must be logged in to the server');
  });
});
