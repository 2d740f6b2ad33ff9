// SPDX-License-Identifier: Apache-2.0
// The API server in this process with its defaults (HTTPS with its own CA, the admin kubeconfig it
// writes, RBAC) on the in-process registry and the embedded store, for the suites that drive it with
// the real kubectl and need to reach inside (the control plane, the CA, token users).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiServerModule, HttpApiServer } from '@cpkit/apiserver';
import { startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';

/** Options of {@link startHttpsApiServer}. */
export interface HttpsApiServerOptions {
  /** Names the temp directory (`cpkit-<name>-...`). */
  name: string;
  /** Lines of a static token file (`token,user,uid,"group1,group2"`); none: no token authentication. */
  tokens?: string;
}

/** A running server and what the suites need of it. */
export interface HttpsApiServer {
  cp: TestControlPlane;
  /** A private directory (data, kubeconfigs, manifests), removed on stop. */
  dir: string;
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** The admin kubeconfig the server wrote (client certificate in system:masters). */
  kubeconfig: string;
  /** The CA certificate (PEM) of the serving certificate. */
  caCertPem: string;
  /**
   * Writes a kubeconfig for this server with a bearer token (none: no credentials at all) and,
   * optionally, a default namespace; returns its path.
   */
  tokenKubeconfig(name: string, token?: string, namespace?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the control plane with the API server on a free port and checks it serves HTTPS. */
export async function startHttpsApiServer(options: HttpsApiServerOptions): Promise<HttpsApiServer> {
  const dir = await mkdtemp(join(tmpdir(), `cpkit-${options.name}-`));
  let tokenFile: string | undefined;
  if (options.tokens !== undefined) {
    tokenFile = join(dir, 'tokens.csv');
    await writeFile(tokenFile, options.tokens, { mode: 0o600 });
  }
  const cp = await startTestControlPlane({
    store: await openEmbeddedStore(),
    modules: [
      apiServerModule({
        port: 0,
        dataDir: join(dir, 'apiserver'),
        kubeconfigPath: join(dir, 'kubeconfig'),
        ...(tokenFile ? { tokenFile } : {}),
      }),
    ],
  });
  const server = cp.controlPlane.get<HttpApiServer>(HttpApiServer);
  const url = server.address()?.url;
  const kubeconfig = server.kubeconfigPath;
  const caCertPem = server.pki?.caCertPem;
  if (!url?.startsWith('https://') || !kubeconfig || !caCertPem) {
    await cp.stop();
    throw new Error('the API server did not report an https address, its kubeconfig and its PKI');
  }
  return {
    cp,
    dir,
    url,
    kubeconfig,
    caCertPem,
    async tokenKubeconfig(name, token, namespace) {
      const path = join(dir, `${name}.kubeconfig`);
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'cpkit',
            cluster: { server: url, 'certificate-authority-data': Buffer.from(caCertPem).toString('base64') },
          },
        ],
        users: [{ name, user: token ? { token } : {} }],
        contexts: [{ name, context: { cluster: 'cpkit', user: name, ...(namespace ? { namespace } : {}) } }],
        'current-context': name,
      };
      await writeFile(path, JSON.stringify(config), { mode: 0o600 });
      return path;
    },
    async stop() {
      await cp.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
