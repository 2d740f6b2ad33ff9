// SPDX-License-Identifier: Apache-2.0
// The ApiClient contract over HTTPS: HttpApiClient talking to a real HttpApiServer (registry on the
// embedded store; certificates, authentication and RBAC as the server defaults to) with the admin
// kubeconfig the server writes, and HttpApiClient wired by httpApiClientModule from a kubeconfig.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiServerModule, HttpApiServer } from '@cpkit/apiserver';
import { ApiClient, Container, HttpApiClient, httpApiClientModule, loadKubeconfig } from '@cpkit/core';
import { describeApiClientContract, startTestControlPlane } from '@cpkit/core/testing';
import { EmbeddedStore } from '@cpkit/store-embedded';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A control plane serving the API over HTTPS (certificates generated on start, RBAC, no anonymous),
 * with an admin kubeconfig (client certificate in system:masters) and a token file for `alice`.
 */
async function startServer() {
  const dir = await mkdtemp(join(tmpdir(), 'cpkit-http-client-'));
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(tokenFile, 'alice-token,alice,alice-uid,"system:masters"\nbob-token,bob,bob-uid,""\n');
  const kubeconfig = join(dir, 'admin.kubeconfig');
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  const cp = await startTestControlPlane({
    store,
    modules: [
      apiServerModule({ port: 0, dataDir: join(dir, 'server'), kubeconfigPath: kubeconfig, tokenFile }),
    ],
  });
  const address = cp.controlPlane.get<HttpApiServer>(HttpApiServer).address();
  if (!address) throw new Error('the API server did not report its address');
  return {
    store,
    cp,
    url: address.url,
    dir,
    kubeconfig,
    async stop() {
      await cp.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeApiClientContract('HttpApiClient against HttpApiServer', {
  async create() {
    const server = await startServer();
    // HTTPS, verified against the server's CA, authenticated by the admin client certificate.
    const connection = loadKubeconfig(server.kubeconfig);
    expect(connection.server).toMatch(/^https:/);
    expect(connection.clientCertPem).toContain('BEGIN CERTIFICATE');
    const client = new HttpApiClient(connection);
    return {
      client,
      compact: async () => server.store.compact(await server.store.currentRevision()),
      close: async () => {
        client.close();
        await server.stop();
      },
    };
  },
});

describe('httpApiClientModule', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('binds ApiClient to an HttpApiClient configured from a kubeconfig (CA file + bearer token)', async () => {
    const kubeconfig = join(server.dir, 'alice.kubeconfig');
    await writeFile(join(server.dir, 'ca.crt'), loadKubeconfig(server.kubeconfig).caPem ?? '');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: here',
        'clusters:',
        '- name: local',
        `  cluster: {server: "${server.url}", certificate-authority: ca.crt}`,
        'users: [{name: alice, user: {token: alice-token}}]',
        'contexts: [{name: here, context: {cluster: local, user: alice}}]',
      ].join('\n'),
    );
    const container = new Container();
    container.load(httpApiClientModule({ kubeconfig, requestTimeoutMs: 5000 }));
    const client = container.get<ApiClient>(ApiClient);
    expect(client).toBeInstanceOf(HttpApiClient);
    expect(container.get(ApiClient)).toBe(client);
    const namespaces = await client.list('Namespace');
    expect(namespaces.items.map((ns) => ns.metadata?.name)).toContain('kube-system');
    (client as HttpApiClient).close();
  });

  it("reports the server's 401 and 403 as Unauthorized and Forbidden StatusErrors", async () => {
    const { caPem } = loadKubeconfig(server.kubeconfig);
    const stranger = new HttpApiClient({ server: server.url, caPem, token: 'not-a-token' });
    const bob = new HttpApiClient({ server: server.url, caPem, token: 'bob-token' });
    try {
      await expect(stranger.list('Pod')).rejects.toMatchObject({
        name: 'StatusError',
        reason: 'Unauthorized',
        code: 401,
      });
      const forbidden = await bob
        .get('Secret', 'x', { namespace: 'default' })
        .catch((error: unknown) => error);
      expect(forbidden).toMatchObject({ name: 'StatusError', reason: 'Forbidden', code: 403 });
      expect((forbidden as Error).message).toContain('secrets');
    } finally {
      stranger.close();
      bob.close();
    }
  });
});
