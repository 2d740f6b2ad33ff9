// SPDX-License-Identifier: Apache-2.0
// The ApiClient contract over HTTP: HttpApiClient talking to a real HttpApiServer (registry on the
// embedded store) through real sockets, and HttpApiClient wired by httpApiClientModule from a kubeconfig.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiServerModule, HttpApiServer } from '@cpkit/apiserver';
import { ApiClient, Container, HttpApiClient, httpApiClientModule } from '@cpkit/core';
import { describeApiClientContract, startTestControlPlane } from '@cpkit/core/testing';
import { EmbeddedStore } from '@cpkit/store-embedded';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

async function startServer() {
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  const cp = await startTestControlPlane({ store, modules: [apiServerModule({ port: 0 })] });
  const address = cp.controlPlane.get<HttpApiServer>(HttpApiServer).address();
  if (!address) throw new Error('the API server did not report its address');
  return { store, cp, url: address.url };
}

describeApiClientContract('HttpApiClient against HttpApiServer', {
  async create() {
    const { store, cp, url } = await startServer();
    const client = new HttpApiClient({ server: url });
    return {
      client,
      compact: async () => store.compact(await store.currentRevision()),
      close: async () => {
        client.close();
        await cp.stop();
      },
    };
  },
});

describe('httpApiClientModule', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let dir: string;
  beforeAll(async () => {
    server = await startServer();
    dir = await mkdtemp(join(tmpdir(), 'cpkit-http-client-'));
  });
  afterAll(async () => {
    await server?.cp.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('binds ApiClient to an HttpApiClient configured from a kubeconfig', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: here',
        'clusters:',
        '- name: local',
        `  cluster: {server: "${server.url}"}`,
        'users: [{name: nobody, user: {}}]',
        'contexts: [{name: here, context: {cluster: local, user: nobody}}]',
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
});
