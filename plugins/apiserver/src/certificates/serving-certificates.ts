// SPDX-License-Identifier: Apache-2.0
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { errors } from '@cpkit/core';
import {
  type CertificateAuthority,
  caExtensions,
  expiresWithin,
  type FileToWrite,
  generateRsaKeyPair,
  leafExtensions,
  loadPair,
  RENEW_BEFORE_MS,
  signCertificate,
  validateValidityDays,
  writeFilesAtomically,
} from './pki.js';

/**
 * Options of {@link ensureServingCertificates}.
 * @category Certificates
 */
export interface ServingCertificateOptions {
  /** IP addresses and DNS names the server is reached by; each becomes a subjectAltName. */
  hosts: readonly string[];
  /** Lifetime of a newly issued serving certificate in days (default 365). */
  validityDays?: number;
  /** Lifetime of a newly created CA in days (default 3650, as kubeadm). */
  caValidityDays?: number;
  /** Common name of a newly created CA (default `cpkit-ca`). */
  caCommonName?: string;
}

/**
 * Where {@link ensureServingCertificates} keeps its files (kubeadm's names).
 * @category Certificates
 */
export interface ServingCertificatePaths {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
}

/**
 * The CA and serving certificate of an API server, in PEM form.
 * @category Certificates
 */
export interface ServingCertificates {
  caCertPem: string;
  caKeyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
  /** The CA as {@link issueClientCertificate} takes it. */
  ca: CertificateAuthority;
  paths: ServingCertificatePaths;
  /** What this call created rather than reused (for a log line on start). */
  generated: { ca: boolean; servingCertificate: boolean };
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

function validateHosts(hosts: unknown): string[] {
  if (!Array.isArray(hosts) || hosts.length === 0) {
    throw errors.badRequest('hosts must be a non-empty array of IP addresses and DNS names', [
      {
        reason: 'FieldValueRequired',
        message: 'at least one IP address or DNS name is required',
        field: 'hosts',
      },
    ]);
  }
  return hosts.map((h: unknown, i) => {
    if (typeof h !== 'string' || (isIP(h) === 0 && (h.length > 253 || !DNS_NAME.test(h)))) {
      throw errors.badRequest(`hosts[${i}] must be an IP address or a DNS name, got ${JSON.stringify(h)}`, [
        { reason: 'FieldValueInvalid', message: 'must be an IP address or a DNS name', field: `hosts[${i}]` },
      ]);
    }
    return h;
  });
}

/** True when every host is in the certificate's subjectAltNames (the CN is not consulted, as Go's TLS does not). */
function coversHosts(cert: X509Certificate, hosts: readonly string[]): boolean {
  return hosts.every((h) =>
    isIP(h) !== 0 ? cert.checkIP(h) !== undefined : cert.checkHost(h, { subject: 'never' }) !== undefined,
  );
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function issuedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/**
 * Returns the API server's CA and serving certificate from `dir`, creating them on first start.
 *
 * - The CA (`ca.crt`, `ca.key`) is created when absent and kept afterwards, so kubeconfigs written
 *   earlier stay valid. It is replaced only when it expires within 30 days; then the serving
 *   certificate is reissued too. A CA certificate without its key (or with a key that does not
 *   match) is an error rather than silently replaced, because other clients may trust it.
 * - The serving certificate (`apiserver.crt`, `apiserver.key`, serverAuth, SANs = `hosts`) is
 *   reissued when missing, unreadable, not signed by the CA, expiring within 30 days, or when its
 *   SANs no longer cover every entry of `hosts`.
 *
 * Keys are written with mode 0600, certificates 0644, the directory 0700; files are replaced by
 * rename, so a failure leaves the previous set intact.
 *
 * @throws StatusError BadRequest naming the option when `hosts` or a validity is malformed, or
 *   when the stored CA certificate and key are incomplete or do not belong together.
 * @category Certificates
 */
export async function ensureServingCertificates(
  dir: string,
  options: ServingCertificateOptions,
): Promise<ServingCertificates> {
  if (typeof dir !== 'string' || dir === '') {
    throw errors.badRequest('dir must be a non-empty path');
  }
  if (typeof options !== 'object' || options === null) {
    throw errors.badRequest('options must be an object with hosts');
  }
  const hosts = validateHosts(options.hosts);
  const validityDays = validateValidityDays(options.validityDays, 'validityDays') ?? 365;
  const caValidityDays = validateValidityDays(options.caValidityDays, 'caValidityDays') ?? 3650;
  const paths: ServingCertificatePaths = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
  };
  const [caCertText, caKeyText, servingCertText, servingKeyText] = await Promise.all(
    [paths.caCert, paths.caKey, paths.servingCert, paths.servingKey].map(readIfPresent),
  );

  const toWrite: FileToWrite[] = [];
  let caCertPem: string;
  let caKeyPem: string;
  let caCert: X509Certificate | undefined;
  if (caCertText !== undefined || caKeyText !== undefined) {
    caCert =
      caCertText !== undefined && caKeyText !== undefined ? loadPair(caCertText, caKeyText) : undefined;
    if (!caCert?.ca) {
      throw errors.badRequest(
        `the CA in ${dir} is unusable: ${paths.caCert} and ${paths.caKey} must both exist, hold a CA certificate and its matching key; remove both to have a new CA generated`,
      );
    }
  }
  if (
    caCert &&
    caCertText !== undefined &&
    caKeyText !== undefined &&
    !expiresWithin(caCert, RENEW_BEFORE_MS)
  ) {
    caCertPem = caCertText;
    caKeyPem = caKeyText;
  } else {
    const keys = await generateRsaKeyPair();
    caKeyPem = keys.privateKeyPem;
    caCertPem = signCertificate({
      subject: { commonName: options.caCommonName ?? 'cpkit-ca' },
      publicKeyPem: keys.publicKeyPem,
      selfKeyPem: keys.privateKeyPem,
      validityDays: caValidityDays,
      extensions: caExtensions(),
    });
    caCert = new X509Certificate(caCertPem);
    toWrite.push(
      { path: paths.caKey, content: caKeyPem, mode: 0o600 },
      { path: paths.caCert, content: caCertPem, mode: 0o644 },
    );
  }
  const ca: CertificateAuthority = { certPem: caCertPem, keyPem: caKeyPem };

  let servingCertPem = servingCertText;
  let servingKeyPem = servingKeyText;
  const serving =
    servingCertText !== undefined && servingKeyText !== undefined
      ? loadPair(servingCertText, servingKeyText)
      : undefined;
  const reuseServing =
    serving !== undefined &&
    toWrite.length === 0 &&
    issuedBy(serving, caCert) &&
    !expiresWithin(serving, RENEW_BEFORE_MS) &&
    coversHosts(serving, hosts);
  if (!reuseServing || servingCertPem === undefined || servingKeyPem === undefined) {
    const keys = await generateRsaKeyPair();
    servingKeyPem = keys.privateKeyPem;
    servingCertPem = signCertificate({
      // kube-apiserver's self-signed certificate uses the first host as CN; clients only look at SANs.
      subject: { commonName: hosts[0] ?? 'cpkit-apiserver' },
      publicKeyPem: keys.publicKeyPem,
      validityDays,
      issuer: ca,
      extensions: [
        ...leafExtensions('serverAuth'),
        {
          name: 'subjectAltName',
          altNames: hosts.map((h) => (isIP(h) !== 0 ? { type: 7, ip: h } : { type: 2, value: h })),
        },
      ],
    });
    toWrite.push(
      { path: paths.servingKey, content: servingKeyPem, mode: 0o600 },
      { path: paths.servingCert, content: servingCertPem, mode: 0o644 },
    );
  }
  const generatedCa = toWrite.some((f) => f.path === paths.caCert);
  await writeFilesAtomically(toWrite);
  return {
    caCertPem,
    caKeyPem,
    servingCertPem,
    servingKeyPem,
    ca,
    paths,
    generated: { ca: generatedCa, servingCertificate: toWrite.some((f) => f.path === paths.servingCert) },
  };
}
