// SPDX-License-Identifier: Apache-2.0
// pods/binding over HTTP: what the scheduler does when it runs as its own process.
import { beforeAll, describe, expect, it } from 'vitest';
import { usePlainApiServer } from '../testing/api-server.js';

const { call } = usePlainApiServer();

const pods = '/api/v1/namespaces/default/pods';
const binding = (pod: string, node: string, name = pod) => ({
  apiVersion: 'v1',
  kind: 'Binding',
  metadata: { name },
  target: { apiVersion: 'v1', kind: 'Node', name: node },
});

describe('pods/binding', () => {
  beforeAll(async () => {
    expect((await call('POST', '/api/v1/nodes', { metadata: { name: 'node-1' } })).status).toBe(201);
    for (const name of ['p1', 'p2', 'p3']) {
      const created = await call('POST', pods, {
        metadata: { name },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      });
      expect(created.status).toBe(201);
    }
  });

  it('is advertised as create-only with the Binding kind', async () => {
    const list = (await call('GET', '/api/v1')).body;
    expect(list.resources).toContainEqual(
      expect.objectContaining({ name: 'pods/binding', kind: 'Binding', verbs: ['create'] }),
    );
    expect(list.resources).toContainEqual(
      expect.objectContaining({ name: 'pods/status', verbs: ['get', 'patch', 'update'] }),
    );
  });

  it('binds an unbound pod to a node, once', async () => {
    const reply = await call('POST', `${pods}/p1/binding`, binding('p1', 'node-1'));
    expect(reply).toMatchObject({ status: 201, body: { kind: 'Status', status: 'Success' } });
    expect((await call('GET', `${pods}/p1`)).body.spec.nodeName).toBe('node-1');
    const again = await call('POST', `${pods}/p1/binding`, binding('p1', 'node-1'));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ kind: 'Status', reason: 'Conflict' });
  });

  it('rejects a name that differs from the URL, an unnamed node and other verbs; nothing changes', async () => {
    const mismatch = await call('POST', `${pods}/p2/binding`, binding('p2', 'node-1', 'p3'));
    expect(mismatch).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    // As upstream, the node need not exist, but it must be named.
    const noNode = await call('POST', `${pods}/p2/binding`, binding('p2', ''));
    expect(noNode.status).toBeGreaterThanOrEqual(400);
    expect(noNode.status).toBeLessThan(500);
    expect(noNode.body.kind).toBe('Status');
    const get = await call('GET', `${pods}/p2/binding`);
    expect(get).toMatchObject({ status: 405, body: { reason: 'MethodNotAllowed' } });
    expect((await call('GET', `${pods}/p2`)).body.spec.nodeName).toBeUndefined();
    expect((await call('GET', `${pods}/p3`)).body.spec.nodeName).toBeUndefined();
  });

  it('answers 404 for a pod that does not exist', async () => {
    const reply = await call('POST', `${pods}/nope/binding`, binding('nope', 'node-1'));
    expect(reply).toMatchObject({ status: 404, body: { reason: 'NotFound' } });
  });
});
