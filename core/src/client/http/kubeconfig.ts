// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { errors } from '../../errors/status-error.js';

/**
 * How an {@link HttpApiClient} reaches and authenticates to an API server. Every PEM field takes the
 * PEM text itself (not a path); {@link loadKubeconfig} reads the files a kubeconfig names.
 * @category Client
 */
export interface HttpConnectionOptions {
  /** Base URL of the API server, e.g. `https://127.0.0.1:6443` (a path prefix is kept). */
  server: string;
  /** PEM CA bundle that signs the server's certificate; absent: Node's default trust store. */
  caPem?: string;
  /** PEM client certificate for mutual TLS (with {@link HttpConnectionOptions.clientKeyPem}). */
  clientCertPem?: string;
  /** PEM private key of the client certificate. */
  clientKeyPem?: string;
  /** Bearer token sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Do not verify the server's certificate (development only). */
  insecureSkipTlsVerify?: boolean;
  /** Name to verify the server certificate against, when it differs from the URL's host. */
  tlsServerName?: string;
}

/** Options of {@link loadKubeconfig}. @category Client */
export interface LoadKubeconfigOptions {
  /** Context to use; default: the file's `current-context`. */
  context?: string;
}

interface NamedEntry<T> {
  name?: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

type Fields = Record<string, unknown>;

function entry(list: unknown, field: 'cluster' | 'user' | 'context', name: string, path: string): Fields {
  const found = Array.isArray(list)
    ? (list as NamedEntry<Fields>[]).find((item) => item && item.name === name)
    : undefined;
  const value = found?.[field];
  if (!value || typeof value !== 'object') {
    throw errors.badRequest(`kubeconfig ${path}: no ${field} named "${name}"`);
  }
  return value;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Reads a kubeconfig file (YAML or JSON) and returns the connection of one context: the server URL,
 * the CA, the client certificate and key, or a bearer token (`token` or `tokenFile`). Inline `*-data`
 * fields (base64) win over file paths, and relative paths are resolved against the kubeconfig's
 * directory, as kubectl does.
 *
 * Credential plugins (`exec`, `auth-provider`) and user name/password are not supported; a context
 * using them fails with `BadRequest` rather than connecting unauthenticated.
 * @category Client
 */
export function loadKubeconfig(path: string, options: LoadKubeconfigOptions = {}): HttpConnectionOptions {
  let document: Fields;
  try {
    document = parseYaml(readFileSync(path, 'utf8')) as Fields;
  } catch (error) {
    throw errors.badRequest(
      `cannot read kubeconfig ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!document || typeof document !== 'object') throw errors.badRequest(`kubeconfig ${path} is empty`);
  const contextName = options.context ?? text(document['current-context']);
  if (!contextName) throw errors.badRequest(`kubeconfig ${path}: no current-context and no context given`);
  const context = entry(document.contexts, 'context', contextName, path);
  const cluster = entry(document.clusters, 'cluster', String(context.cluster ?? ''), path);
  const userName = text(context.user);
  const user = userName ? entry(document.users, 'user', userName, path) : {};
  const base = dirname(resolve(path));
  const file = (value: unknown): string | undefined => {
    const name = text(value);
    if (!name) return undefined;
    return readFileSync(isAbsolute(name) ? name : resolve(base, name), 'utf8');
  };
  const data = (value: unknown): string | undefined => {
    const encoded = text(value);
    return encoded ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
  };
  if (user.exec || user['auth-provider'] || user.username) {
    throw errors.badRequest(
      `kubeconfig ${path}: user "${userName}" uses exec, auth-provider or basic auth, which the HTTP ApiClient does not support`,
    );
  }
  const server = text(cluster.server);
  if (!server) throw errors.badRequest(`kubeconfig ${path}: cluster "${context.cluster}" has no server`);
  const connection: HttpConnectionOptions = { server };
  const caPem = data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  if (caPem) connection.caPem = caPem;
  if (cluster['insecure-skip-tls-verify'] === true) connection.insecureSkipTlsVerify = true;
  const tlsServerName = text(cluster['tls-server-name']);
  if (tlsServerName) connection.tlsServerName = tlsServerName;
  const clientCertPem = data(user['client-certificate-data']) ?? file(user['client-certificate']);
  const clientKeyPem = data(user['client-key-data']) ?? file(user['client-key']);
  if (clientCertPem) connection.clientCertPem = clientCertPem;
  if (clientKeyPem) connection.clientKeyPem = clientKeyPem;
  const token = text(user.token) ?? file(user.tokenFile)?.trim();
  if (token) connection.token = token;
  return connection;
}
