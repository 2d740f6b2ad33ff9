// SPDX-License-Identifier: Apache-2.0
// The kubectl suites' server: `npm start` (the single-node starter as a child process, in-memory
// store) with its defaults (HTTPS with its own CA, the admin kubeconfig it writes, RBAC), plus a
// static token file so the suites can act as other users.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SingleNode, startSingleNode } from './starter.js';

/** Options of {@link startHttpsApiServer}. */
export interface HttpsApiServerOptions {
  /** Names the temp directory (`cpkit-<name>-...`). */
  name: string;
  /** Lines of a static token file (`token,user,uid,"group1,group2"`); none: no token authentication. */
  tokens?: string;
}

/** A running server and what the suites need of it. */
export interface HttpsApiServer {
  starter: SingleNode;
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

/** Starts the starter on a free port and checks it serves HTTPS. */
export async function startHttpsApiServer(options: HttpsApiServerOptions): Promise<HttpsApiServer> {
  const dir = await mkdtemp(join(tmpdir(), `cpkit-${options.name}-`));
  let tokenFile: string | undefined;
  if (options.tokens !== undefined) {
    tokenFile = join(dir, 'tokens.csv');
    await writeFile(tokenFile, options.tokens, { mode: 0o600 });
  }
  const starter = await startSingleNode({
    dataDir: join(dir, 'data'),
    args: ['--in-memory', ...(tokenFile ? ['--token-auth-file', tokenFile] : [])],
  });
  const { url, kubeconfig } = starter;
  const caCertPem = await readFile(join(starter.dataDir, 'pki', 'ca.crt'), 'utf8').catch(() => '');
  if (!url.startsWith('https://') || !caCertPem) {
    await starter.stop();
    throw new Error('the starter did not report an https address and write its CA');
  }
  return {
    starter,
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
      await starter.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
