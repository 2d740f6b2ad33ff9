// SPDX-License-Identifier: Apache-2.0
// The real kubectl 1.32 against the API server over HTTPS, for what the OpenAPI schemas and protobuf
// bodies make possible: server-side field validation (`create -f` with its default --validate=strict,
// and --validate=warn), `kubectl explain`, client-side apply building its patches from the schemas'
// patch extensions, and the `kubectl create <generator>` commands, which POST protobuf.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpsApiServer, startHttpsApiServer } from './support/https-api-server.js';
import { type KubectlSession, kubectlSession } from './support/kubectl.js';

let api: HttpsApiServer;
let dir: string;
let k: KubectlSession;

/** Runs kubectl with the admin kubeconfig and a fresh cache directory. */
const kubectl = (...args: string[]) => k.run(...args);
const ok = (...args: string[]) => k.ok(...args);

/** `kubectl get ... -o json`, parsed (the same fields `-o yaml` shows). */
async function getObject(...args: string[]): Promise<any> {
  return JSON.parse(await ok('get', ...args, '-o', 'json'));
}

async function manifest(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

beforeAll(async () => {
  api = await startHttpsApiServer({ name: 'kubectl-schemas' });
  dir = api.dir;
  k = kubectlSession(api.kubeconfig, dir, { freshCache: true });
});

afterAll(async () => {
  await api?.stop();
});

const deploymentWithTypos = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  foo: bar
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
      - name: web
        image: nginx
        imagePullPolicyy: Always
`;

describe('server-side field validation with kubectl', () => {
  it('create -f with unknown fields fails with the strict decoding error and creates nothing', async () => {
    const file = await manifest('typo.yaml', deploymentWithTypos('typo'));
    const result = await kubectl('create', '-f', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error from server (BadRequest): error when creating');
    expect(result.stderr).toContain(
      'strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].imagePullPolicyy"',
    );
    const get = await kubectl('get', 'deployment', 'typo');
    expect(get.code).toBe(1);
    expect(get.stderr).toContain('NotFound');
  });

  it('--validate=warn prints a warning per unknown field, creates the object and drops the fields', async () => {
    const file = await manifest('warn.yaml', deploymentWithTypos('warned'));
    const result = await kubectl('create', '-f', file, '--validate=warn');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('deployment.apps/warned created');
    expect(result.stderr).toContain('Warning: unknown field "spec.foo"');
    expect(result.stderr).toContain(
      'Warning: unknown field "spec.template.spec.containers[0].imagePullPolicyy"',
    );
    const stored = await getObject('deployment', 'warned');
    expect(stored.spec).not.toHaveProperty('foo');
    expect(stored.spec.template.spec.containers[0]).not.toHaveProperty('imagePullPolicyy');
    expect(stored.spec.template.spec.containers[0].image).toBe('nginx');
  });

  it('apply -f builds its patches from the schemas: a removed container goes, a changed image merges', async () => {
    const two = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: applied
spec:
  selector:
    matchLabels: { app: applied }
  template:
    metadata:
      labels: { app: applied }
    spec:
      containers:
      - { name: a, image: nginx, ports: [{ containerPort: 80 }] }
      - { name: b, image: busybox }
`;
    expect(await ok('apply', '-f', await manifest('apply1.yaml', two))).toContain(
      'deployment.apps/applied created',
    );
    expect(await ok('apply', '-f', await manifest('apply1.yaml', two))).toContain(
      'deployment.apps/applied unchanged',
    );
    const one = two
      .replace('      - { name: b, image: busybox }\n', '')
      .replace('image: nginx', 'image: nginx:1.27');
    expect(await ok('apply', '-f', await manifest('apply2.yaml', one))).toContain(
      'deployment.apps/applied configured',
    );
    const containers = (await getObject('deployment', 'applied')).spec.template.spec.containers;
    expect(containers.map((c: any) => [c.name, c.image])).toEqual([['a', 'nginx:1.27']]);
    expect(containers[0].ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
  });
});

describe('kubectl explain', () => {
  it('explains pods.spec.containers with upstream descriptions and field types', async () => {
    const out = await ok('explain', 'pods.spec.containers');
    expect(out).toContain('KIND:       Pod');
    expect(out).toContain('VERSION:    v1');
    expect(out).toMatch(/FIELD: containers <\[\]Container>/);
    expect(out).toContain('List of containers belonging to the pod.');
    expect(out).toMatch(/^ {2}image\t<string>$/m);
    expect(out).toMatch(/^ {2}name\t<string> -required-$/m);
    expect(out).toMatch(/^ {2}ports\t<\[\]ContainerPort>$/m);
    expect(out).toMatch(/^ {2}resources\t<ResourceRequirements>$/m);
  });

  it('explains deployment.spec', async () => {
    const out = await ok('explain', 'deployment.spec');
    expect(out).toContain('GROUP:      apps');
    expect(out).toContain('KIND:       Deployment');
    expect(out).toMatch(/FIELD: spec <DeploymentSpec>/);
    expect(out).toMatch(/^ {2}replicas\t<integer>$/m);
    expect(out).toMatch(/^ {2}template\t<PodTemplateSpec> -required-$/m);
    expect(out).toMatch(/^ {2}strategy\t<DeploymentStrategy>$/m);
  });

  it('fails for a field that does not exist', async () => {
    const result = await kubectl('explain', 'pods.spec.nope');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('field "nope" does not exist');
  });
});

describe('kubectl create generators (protobuf request bodies)', () => {
  it('create deployment --image --replicas --port', async () => {
    expect(await ok('create', 'deployment', 'web', '--image=nginx', '--replicas=2', '--port=80')).toContain(
      'deployment.apps/web created',
    );
    const yaml = await ok('get', 'deployment', 'web', '-o', 'yaml');
    expect(yaml).toMatch(/^ {2}replicas: 2$/m);
    expect(yaml).toMatch(/^ {8}- containerPort: 80$/m);
    const web = await getObject('deployment', 'web');
    expect(web.metadata.labels).toEqual({ app: 'web' });
    expect(web.spec.replicas).toBe(2);
    expect(web.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(web.spec.template.metadata.labels).toEqual({ app: 'web' });
    const [container] = web.spec.template.spec.containers;
    expect(container).toMatchObject({
      name: 'nginx',
      image: 'nginx',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
    });
  });

  it('create service clusterip and nodeport', async () => {
    expect(await ok('create', 'service', 'clusterip', 'svc', '--tcp=80:8080')).toContain(
      'service/svc created',
    );
    const svc = await getObject('service', 'svc');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.selector).toEqual({ app: 'svc' });
    expect(svc.spec.ports).toEqual([
      expect.objectContaining({ name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' }),
    ]);
    expect(svc.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await ok('create', 'service', 'nodeport', 'np', '--tcp=81:8081')).toContain('service/np created');
    const np = await getObject('service', 'np');
    expect(np.spec.type).toBe('NodePort');
    expect(np.spec.ports[0]).toMatchObject({ port: 81, targetPort: 8081 });
    expect(np.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
  });

  it('create job, cronjob and serviceaccount', async () => {
    expect(await ok('create', 'job', 'j', '--image=busybox')).toContain('job.batch/j created');
    const job = await getObject('job', 'j');
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers[0]).toMatchObject({ name: 'j', image: 'busybox' });

    expect(
      await ok('create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date'),
    ).toContain('cronjob.batch/cj created');
    const cron = await getObject('cronjob', 'cj');
    expect(cron.spec.schedule).toBe('*/5 * * * *');
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0]).toMatchObject({
      name: 'cj',
      image: 'busybox',
      command: ['date'],
    });

    expect(await ok('create', 'serviceaccount', 'sa')).toContain('serviceaccount/sa created');
    expect((await getObject('serviceaccount', 'sa')).metadata.name).toBe('sa');
  });
});
