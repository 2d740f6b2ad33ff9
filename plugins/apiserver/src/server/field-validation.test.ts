// SPDX-License-Identifier: Apache-2.0
// fieldValidation and the OpenAPI v3 documents over HTTP, against the real registry and embedded store.
import { describe, expect, it } from 'vitest';
import { usePlainApiServer } from '../testing/api-server.js';

const { call } = usePlainApiServer();

const deployments = '/apis/apps/v1/namespaces/default/deployments';

function deployment(name: string, extra: { spec?: object; container?: object } = {}): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'nginx', ...extra.container }] },
      },
      ...extra.spec,
    },
  };
}

describe('fieldValidation over HTTP', () => {
  it('Strict: a create with unknown fields is a 400 naming all of them, and nothing is stored', async () => {
    const reply = await call(
      'POST',
      `${deployments}?fieldValidation=Strict`,
      deployment('strict', { spec: { foo: 1 }, container: { bar: true } }),
    );
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(reply.body.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].bar", unknown field "spec.foo"',
    );
    expect((await call('GET', `${deployments}/strict`)).status).toBe(404);
  });

  it('Warn (and no parameter): one Warning per field, the write succeeds and the fields are dropped', async () => {
    for (const [name, query] of [
      ['warn', '?fieldValidation=Warn'],
      ['absent', ''],
    ] as const) {
      const reply = await call(
        'POST',
        `${deployments}${query}`,
        deployment(name, { spec: { foo: 1 }, container: { bar: true } }),
      );
      expect(reply.status).toBe(201);
      // In document order (the template comes before `foo` in this body).
      expect(reply.warnings).toEqual([
        'unknown field "spec.template.spec.containers[0].bar"',
        'unknown field "spec.foo"',
      ]);
      const stored = (await call('GET', `${deployments}/${name}`)).body;
      expect(stored.spec).not.toHaveProperty('foo');
      expect(stored.spec.template.spec.containers[0]).not.toHaveProperty('bar');
      expect(stored.spec.template.spec.containers[0].image).toBe('nginx');
    }
  });

  it('Ignore: silent success, and the unknown fields are still not stored', async () => {
    const reply = await call(
      'POST',
      `${deployments}?fieldValidation=Ignore`,
      deployment('ignore', { spec: { foo: 1 } }),
    );
    expect(reply.status).toBe(201);
    expect(reply.warnings).toEqual([]);
    expect(reply.body.spec).not.toHaveProperty('foo');
  });

  it('update (PUT) checks the whole body', async () => {
    const current = (await call('GET', `${deployments}/ignore`)).body;
    current.spec.replicas = 3;
    current.spec.typo = 'x';
    const strict = await call('PUT', `${deployments}/ignore?fieldValidation=Strict`, current);
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('strict decoding error: unknown field "spec.typo"');
    const warn = await call('PUT', `${deployments}/ignore?fieldValidation=Warn`, current);
    expect(warn.status).toBe(200);
    expect(warn.warnings).toEqual(['unknown field "spec.typo"']);
    expect(warn.body.spec.replicas).toBe(3);
    expect(warn.body.spec).not.toHaveProperty('typo');
  });

  it('merge, strategic merge and JSON patches: unknown fields are found in what the patch writes', async () => {
    const path = `${deployments}/warn`;
    const merge = await call(
      'PATCH',
      `${path}?fieldValidation=Strict`,
      { spec: { paused: true, zzz: 1, template: { metadata: { annotations: { a: 'b' } } } } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(merge.status).toBe(400);
    expect(merge.body.message).toBe('strict decoding error: unknown field "spec.zzz"');
    expect((await call('GET', path)).body.spec.paused).toBeUndefined();

    const strategic = await call(
      'PATCH',
      `${path}?fieldValidation=Warn`,
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'web' }],
              containers: [{ name: 'web', image: 'nginx:2', imagePullPolicyy: 'Always' }],
            },
          },
        },
      },
      { 'Content-Type': 'application/strategic-merge-patch+json' },
    );
    expect(strategic.status).toBe(200);
    expect(strategic.warnings).toEqual(['unknown field "spec.template.spec.containers[0].imagePullPolicyy"']);
    expect(strategic.body.spec.template.spec.containers[0]).toMatchObject({ name: 'web', image: 'nginx:2' });
    expect(strategic.body.spec.template.spec.containers[0]).not.toHaveProperty('imagePullPolicyy');

    const json = await call(
      'PATCH',
      `${path}?fieldValidation=Strict`,
      [
        { op: 'replace', path: '/spec/replicas', value: 4 },
        { op: 'add', path: '/spec/nope', value: 1 },
      ],
      { 'Content-Type': 'application/json-patch+json' },
    );
    expect(json.status).toBe(400);
    expect(json.body.message).toBe('strict decoding error: unknown field "spec.nope"');
    const jsonWarn = await call(
      'PATCH',
      `${path}?fieldValidation=Warn`,
      [
        { op: 'replace', path: '/spec/replicas', value: 4 },
        { op: 'add', path: '/spec/nope', value: 1 },
      ],
      { 'Content-Type': 'application/json-patch+json' },
    );
    expect(jsonWarn).toMatchObject({ status: 200, warnings: ['unknown field "spec.nope"'] });
    expect(jsonWarn.body.spec.replicas).toBe(4);
    expect(jsonWarn.body.spec).not.toHaveProperty('nope');
  });

  it('server-side apply checks the applied configuration', async () => {
    const body = JSON.stringify(deployment('applied', { spec: { replicaz: 2 } }));
    const strict = await call(
      'PATCH',
      `${deployments}/applied?fieldManager=test&fieldValidation=Strict`,
      body,
      { 'Content-Type': 'application/apply-patch+yaml' },
    );
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('unknown field "spec.replicaz"');
    const warn = await call('PATCH', `${deployments}/applied?fieldManager=test&fieldValidation=Warn`, body, {
      'Content-Type': 'application/apply-patch+yaml',
    });
    expect(warn).toMatchObject({ status: 201, warnings: ['unknown field "spec.replicaz"'] });
    expect(warn.body.spec).not.toHaveProperty('replicaz');
  });

  it('keeps free-form maps (labels, annotations, data) whole', async () => {
    const reply = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', {
      metadata: { name: 'cm', annotations: { 'x.example/anything': 'v' } },
      data: { 'any.key': 'v' },
    });
    expect(reply).toMatchObject({ status: 201, warnings: [] });
    expect(reply.body.data).toEqual({ 'any.key': 'v' });
  });
});

describe('OpenAPI v3 over HTTP', () => {
  it('serves components with GVKs and descriptions, and paths announcing fieldValidation', async () => {
    const index = (await call('GET', '/openapi/v3')).body;
    const core = (await call('GET', index.paths['api/v1'].serverRelativeURL)).body;
    const pod = core.components.schemas['io.k8s.api.core.v1.Pod'];
    expect(pod['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
    expect(pod.properties.spec.description).toMatch(/Specification of the desired behavior of the pod/);
    expect(core.components.schemas).toHaveProperty(['io.k8s.api.core.v1.Container']);
    const podPath = core.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    expect(podPath.patch.parameters).toContainEqual(
      expect.objectContaining({ name: 'fieldValidation', in: 'query' }),
    );
    expect(podPath.patch['x-kubernetes-group-version-kind']).toEqual({
      group: '',
      version: 'v1',
      kind: 'Pod',
    });
    // Every reference in a document resolves inside it.
    const text = JSON.stringify(core);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      expect(core.components.schemas).toHaveProperty([name!]);
    }
    const apps = (await call('GET', index.paths['apis/apps/v1'].serverRelativeURL)).body;
    expect(Object.keys(apps.components.schemas)).toContain('io.k8s.api.apps.v1.Deployment');
    expect(Object.keys(apps.components.schemas)).not.toContain('io.k8s.api.core.v1.Pod');
    const rbac = (await call('GET', index.paths['apis/rbac.authorization.k8s.io/v1'].serverRelativeURL)).body;
    expect(
      rbac.components.schemas['io.k8s.api.rbac.v1.ClusterRole']['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', version: 'v1' }]);
    // The same document keeps the same hash.
    expect((await call('GET', '/openapi/v3')).body).toEqual(index);
    expect((await call('GET', '/openapi/v2')).body).toMatchObject({ kind: 'Status', code: 404 });
  });
});
