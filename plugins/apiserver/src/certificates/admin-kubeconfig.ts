// SPDX-License-Identifier: Apache-2.0
import { errors } from '@cpkit/core';
import { stringify } from 'yaml';
import { writeFilesAtomically } from './pki.js';

/**
 * Options of {@link writeAdminKubeconfig}.
 * @category Certificates
 */
export interface AdminKubeconfigOptions {
  /** The API server URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  caCertPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Default `cpkit`. */
  clusterName?: string;
  /** Default `admin`. */
  userName?: string;
  /** Default `<userName>@<clusterName>`. */
  contextName?: string;
}

const PEM = /-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----/;

function base64(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}

/**
 * Builds the kubeconfig object (clusters, users, contexts, current-context) with the certificates
 * embedded as base64 `*-data` fields, so the file works wherever it is copied.
 * @category Certificates
 */
export function buildAdminKubeconfig(options: AdminKubeconfigOptions): Record<string, unknown> {
  let url: URL | undefined;
  try {
    url = new URL(options.server);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:') {
    throw errors.badRequest(`server must be an https:// URL, got ${JSON.stringify(options.server)}`, [
      { reason: 'FieldValueInvalid', message: 'must be an https:// URL', field: 'server' },
    ]);
  }
  for (const field of ['caCertPem', 'clientCertPem', 'clientKeyPem'] as const) {
    if (typeof options[field] !== 'string' || !PEM.test(options[field])) {
      throw errors.badRequest(`${field} must be a PEM block`, [
        { reason: 'FieldValueInvalid', message: 'must be a PEM block', field },
      ]);
    }
  }
  const clusterName = options.clusterName ?? 'cpkit';
  const userName = options.userName ?? 'admin';
  const contextName = options.contextName ?? `${userName}@${clusterName}`;
  for (const [field, value] of [
    ['clusterName', clusterName],
    ['userName', userName],
    ['contextName', contextName],
  ] as const) {
    if (typeof value !== 'string' || value === '') {
      throw errors.badRequest(`${field} must be a non-empty string`, [
        { reason: 'FieldValueInvalid', message: 'must be a non-empty string', field },
      ]);
    }
  }
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: clusterName,
        cluster: { server: options.server, 'certificate-authority-data': base64(options.caCertPem) },
      },
    ],
    users: [
      {
        name: userName,
        user: {
          'client-certificate-data': base64(options.clientCertPem),
          'client-key-data': base64(options.clientKeyPem),
        },
      },
    ],
    contexts: [{ name: contextName, context: { cluster: clusterName, user: userName } }],
    'current-context': contextName,
    preferences: {},
  };
}

/**
 * Writes an admin kubeconfig to `path` (YAML, mode 0600 because it holds a private key; the file
 * is replaced by rename, never left half-written) and returns the YAML text.
 *
 * @throws StatusError BadRequest naming the option when `server` is not an https URL, a PEM is
 *   missing, or a name is empty.
 * @category Certificates
 */
export async function writeAdminKubeconfig(path: string, options: AdminKubeconfigOptions): Promise<string> {
  if (typeof path !== 'string' || path === '') throw errors.badRequest('path must be a non-empty file path');
  const text = stringify(buildAdminKubeconfig(options), { lineWidth: 0 });
  await writeFilesAtomically([{ path, content: text, mode: 0o600 }]);
  return text;
}
