// SPDX-License-Identifier: Apache-2.0
import { errors } from '@cpkit/core';
import {
  type CertificateAuthority,
  generateRsaKeyPair,
  leafExtensions,
  loadPair,
  signCertificate,
  validateValidityDays,
} from './pki.js';

/**
 * Options of {@link issueClientCertificate}.
 * @category Certificates
 */
export interface ClientCertificateOptions {
  /** Becomes the Kubernetes user name (e.g. `admin`). */
  commonName: string;
  /** Become the user's groups (e.g. `['system:masters']`). */
  organizations?: readonly string[];
  /** Lifetime in days (default 365). */
  validityDays?: number;
}

/**
 * A client certificate and its key in PEM form.
 * @category Certificates
 */
export interface ClientCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * Issues a TLS client certificate (clientAuth) signed by `ca` with a fresh RSA 2048 key. Kubernetes
 * authenticates such a certificate as user = CN and groups = each O.
 *
 * @throws StatusError BadRequest when the common name is empty, an organization is not a
 *   non-empty string, the validity is malformed, or `ca` is not a CA certificate with its key.
 * @category Certificates
 */
export async function issueClientCertificate(
  ca: CertificateAuthority,
  options: ClientCertificateOptions,
): Promise<ClientCertificate> {
  const caCert =
    ca && typeof ca.certPem === 'string' && typeof ca.keyPem === 'string'
      ? loadPair(ca.certPem, ca.keyPem)
      : undefined;
  if (!caCert?.ca) {
    throw errors.badRequest('ca must hold a CA certificate (certPem) and its matching private key (keyPem)');
  }
  if (typeof options?.commonName !== 'string' || options.commonName.trim() === '') {
    throw errors.badRequest('commonName must be a non-empty string', [
      { reason: 'FieldValueRequired', message: 'must be a non-empty string', field: 'commonName' },
    ]);
  }
  const organizations = options.organizations ?? [];
  organizations.forEach((o, i) => {
    if (typeof o !== 'string' || o === '') {
      throw errors.badRequest(`organizations[${i}] must be a non-empty string`, [
        { reason: 'FieldValueInvalid', message: 'must be a non-empty string', field: `organizations[${i}]` },
      ]);
    }
  });
  const validityDays = validateValidityDays(options.validityDays, 'validityDays') ?? 365;
  const keys = await generateRsaKeyPair();
  const certPem = signCertificate({
    subject: { commonName: options.commonName, organizations },
    publicKeyPem: keys.publicKeyPem,
    validityDays,
    issuer: ca,
    extensions: leafExtensions('clientAuth'),
  });
  return { certPem, keyPem: keys.privateKeyPem };
}
