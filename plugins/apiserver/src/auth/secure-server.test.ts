// SPDX-License-Identifier: Apache-2.0
// The API server with its defaults (HTTPS, authentication, RBAC) over the real registry, driven
// with node:https: RBAC follows binding changes through its watch, reviews answer for the caller,
// TokenRequest issues working tokens, and registry writes carry the user.
import { join } from 'node:path';
import { Registry, type UserInfo } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { HttpApiServer } from '../server/http-api-server.js';
import { useSecureApiServer } from '../testing/api-server.js';

const api = useSecureApiServer('carol-token,carol,7,"qa"\n');
const { call } = api;

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const ssar = (verb: string, resource: string, namespace: string) => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SelfSubjectAccessReview',
  spec: { resourceAttributes: { verb, resource, namespace } },
});

describe('the API server with its secure defaults', () => {
  it('serves HTTPS with its CA; anonymous requests get 401 even for /healthz', async () => {
    expect(api.base).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await call('GET', '/healthz')).toMatchObject({ code: 401, body: { reason: 'Unauthorized' } });
    expect((await call('GET', '/healthz', 'carol-token')).code).toBe(200);
  });

  it('RBAC follows bindings as they are created and deleted; reviews say the same', async () => {
    const listPods = () => call('GET', '/api/v1/namespaces/default/pods', 'carol-token');
    const denied = await listPods();
    expect(denied).toMatchObject({
      code: 403,
      body: {
        reason: 'Forbidden',
        message:
          'pods is forbidden: User "carol" cannot list resource "pods" in API group "" in the namespace "default"',
      },
    });
    const review = await call(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      'carol-token',
      ssar('list', 'pods', 'default'),
    );
    expect(review).toMatchObject({ code: 201, body: { status: { allowed: false } } });

    const registry = api.cp.client;
    await registry.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'qa-view', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'Group', name: 'qa' }],
    });
    await eventually(async () => (await listPods()).code === 200);
    const allowed = await call(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      'carol-token',
      ssar('list', 'pods', 'default'),
    );
    expect(allowed.body.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "qa-view/default" of ClusterRole "view" to Group "qa"',
    });
    const whoami = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', 'carol-token', {});
    expect(whoami.body.status.userInfo).toEqual({
      username: 'carol',
      uid: '7',
      groups: ['qa', 'system:authenticated'],
    });

    await registry.delete('RoleBinding', 'qa-view', { namespace: 'default' });
    await eventually(async () => (await listPods()).code === 403);
  });

  it('issues service-account tokens through TokenRequest, usable as bearer tokens', async () => {
    await api.cp.client.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'builder', namespace: 'default' },
    });
    await api.cp.client.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'builder-edit', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'ServiceAccount', name: 'builder' }],
    });
    // carol may not ask for a token of the service account...
    const path = '/api/v1/namespaces/default/serviceaccounts/builder/token';
    expect((await call('POST', path, 'carol-token', { spec: {} })).code).toBe(403);
    // ... the service account itself may (edit grants serviceaccounts/token), for a service account of its namespace.
    const server = api.cp.controlPlane.get<HttpApiServer>(HttpApiServer);
    const sa = await api.cp.client.get('ServiceAccount', 'builder', { namespace: 'default' });
    const first = await server.serviceAccountTokens?.issue({
      namespace: 'default',
      name: 'builder',
      uid: String(sa.metadata?.uid),
    });
    const issued = await call('POST', path, first?.token, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 1200 },
    });
    expect(issued).toMatchObject({
      code: 201,
      body: {
        kind: 'TokenRequest',
        spec: { expirationSeconds: 1200, audiences: ['https://kubernetes.default.svc.cluster.local'] },
      },
    });
    const token = issued.body.status.token as string;
    const created = await call('POST', '/api/v1/namespaces/default/configmaps', token, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'built' },
    });
    expect(created.code).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/kube-system/configmaps', token)).code).toBe(403);
    expect(
      (await call('POST', '/api/v1/namespaces/default/serviceaccounts/missing/token', token, {})).code,
    ).toBe(404);
    expect((await call('POST', path, token, { spec: { expirationSeconds: 5 } })).body).toMatchObject({
      reason: 'Invalid',
    });
  });
});

describe('registry writes carry the authenticated user', () => {
  it('passes the user on create, update, patch and delete', async () => {
    const real = api.cp.controlPlane.get<Registry>(Registry);
    const seen: Array<[string, UserInfo | undefined]> = [];
    const recording = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (['create', 'update', 'patch', 'delete'].includes(String(property))) {
            const options = args.at(-1) as { user?: UserInfo } | undefined;
            seen.push([String(property), options?.user]);
          }
          return value.apply(target, args);
        };
      },
    });
    const server = new HttpApiServer({
      registry: recording,
      scheme: real.scheme,
      tls: false,
      authorization: 'AlwaysAllow',
      tokenFile: join(api.dir, 'tokens.csv'),
    });
    const controller = new AbortController();
    await server.start(controller.signal);
    try {
      const url = `${server.address()?.url}/api/v1/namespaces/default/configmaps`;
      const send = (method: string, path: string, body?: unknown, type = 'application/json') =>
        fetch(`${url}${path}`, {
          method,
          headers: { Authorization: 'Bearer carol-token', 'Content-Type': type },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      expect((await send('POST', '', { metadata: { name: 'audited' } })).status).toBe(201);
      expect(
        (await send('PUT', '/audited', { metadata: { name: 'audited' }, data: { a: '1' } })).status,
      ).toBe(200);
      expect(
        (await send('PATCH', '/audited', { data: { b: '2' } }, 'application/merge-patch+json')).status,
      ).toBe(200);
      expect((await send('DELETE', '/audited')).status).toBe(200);
      expect((await fetch(url)).status).toBe(401);
    } finally {
      controller.abort();
      await server.stopped();
    }
    const carol = { username: 'carol', uid: '7', groups: ['qa', 'system:authenticated'] };
    expect(seen).toEqual([
      ['create', carol],
      ['update', carol],
      ['patch', carol],
      ['delete', carol],
    ]);
  });
});
