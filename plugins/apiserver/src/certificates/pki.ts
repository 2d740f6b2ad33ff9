// SPDX-License-Identifier: Apache-2.0
// Shared certificate plumbing. Keys come from Node's native RSA generator (node-forge's pure-JS
// generator takes seconds per key on a busy machine); certificates are built and signed with
// node-forge, so no ASN.1 is written by hand here.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { errors } from '@cpkit/core';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

/** Allowance for clocks that run slightly behind ours, as kubeadm and client-go's cert util do. */
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A certificate authority in PEM form: what {@link issueClientCertificate} signs with.
 * @category Certificates
 */
export interface CertificateAuthority {
  /** The CA certificate (PEM). */
  certPem: string;
  /** The CA private key (PEM, RSA). */
  keyPem: string;
}

export interface KeyPairPem {
  publicKeyPem: string;
  privateKeyPem: string;
}

export async function generateRsaKeyPair(): Promise<KeyPairPem> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** A positive 127-bit serial number (RFC 5280 asks for positive and at most 20 octets). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes.toString('hex');
}

export interface SubjectSpec {
  commonName: string;
  organizations?: readonly string[];
}

function subjectAttributes(subject: SubjectSpec): forge.pki.CertificateField[] {
  return [
    ...(subject.organizations ?? []).map((o) => ({ name: 'organizationName', value: o })),
    { name: 'commonName', value: subject.commonName },
  ];
}

export interface SignSpec {
  subject: SubjectSpec;
  publicKeyPem: string;
  validityDays: number;
  extensions: unknown[];
  /** Omitted for a self-signed certificate. */
  issuer?: CertificateAuthority;
  /** Private key of a self-signed certificate. */
  selfKeyPem?: string;
  now?: Date;
}

/** Builds and signs one X.509 v3 certificate (SHA-256 with RSA), returning its PEM. */
export function signCertificate(spec: SignSpec): string {
  const now = spec.now ?? new Date();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(spec.publicKeyPem);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + spec.validityDays * DAY_MS);
  cert.setSubject(subjectAttributes(spec.subject));
  const extensions = [...spec.extensions, { name: 'subjectKeyIdentifier' }];
  let signingKeyPem: string;
  if (spec.issuer) {
    const caCert = forge.pki.certificateFromPem(spec.issuer.certPem);
    cert.setIssuer(caCert.subject.attributes);
    extensions.push({
      name: 'authorityKeyIdentifier',
      keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes(),
    });
    signingKeyPem = spec.issuer.keyPem;
  } else {
    cert.setIssuer(subjectAttributes(spec.subject));
    signingKeyPem = spec.selfKeyPem ?? '';
  }
  cert.setExtensions(extensions);
  cert.sign(toForgeRsaKey(signingKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** Accepts PKCS#1 or PKCS#8 RSA keys (what openssl and kubeadm write); forge wants PKCS#1. */
function toForgeRsaKey(keyPem: string): forge.pki.rsa.PrivateKey {
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== 'rsa') {
    throw errors.badRequest(
      `the CA private key must be an RSA key, got ${key.asymmetricKeyType ?? 'an unknown type'}`,
    );
  }
  const pkcs1 = key.export({ type: 'pkcs1', format: 'pem' }).toString();
  return forge.pki.privateKeyFromPem(pkcs1) as forge.pki.rsa.PrivateKey;
}

export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
}

export function caExtensions(): unknown[] {
  return [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true, digitalSignature: true },
  ];
}

export function leafExtensions(usage: 'serverAuth' | 'clientAuth'): unknown[] {
  return [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', [usage]: true },
  ];
}

/**
 * Parses a certificate and its key and checks they belong together; undefined when either is
 * unreadable or they do not match (the caller then decides whether to regenerate or fail).
 */
export function loadPair(certPem: string, keyPem: string): X509Certificate | undefined {
  try {
    const cert = new X509Certificate(certPem);
    return cert.checkPrivateKey(createPrivateKey(keyPem)) ? cert : undefined;
  } catch {
    return undefined;
  }
}

export function expiresWithin(cert: X509Certificate, ms: number, now = new Date()): boolean {
  return new Date(cert.validTo).getTime() - now.getTime() < ms;
}

export const RENEW_BEFORE_MS = 30 * DAY_MS;

export interface FileToWrite {
  path: string;
  content: string;
  mode: number;
}

/**
 * Writes every file to a temporary sibling first and renames only when all were written, so a
 * crash or a full disk never leaves a certificate beside a key it does not belong to.
 */
export async function writeFilesAtomically(files: readonly FileToWrite[]): Promise<void> {
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const written: string[] = [];
  try {
    for (const f of files) {
      await mkdir(dirname(f.path), { recursive: true, mode: 0o700 });
      const tmp = f.path + suffix;
      // `mode` applies only on creation; the temp file is always new, so the final file gets it.
      await writeFile(tmp, f.content, { mode: f.mode, flag: 'wx' });
      written.push(tmp);
    }
    for (const f of files) await rename(f.path + suffix, f.path);
  } catch (err) {
    await Promise.all(written.map((tmp) => rm(tmp, { force: true })));
    throw err;
  }
}

export function validateValidityDays(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 36500) {
    throw errors.badRequest(`${field} must be an integer between 1 and 36500, got ${String(value)}`, [
      { reason: 'FieldValueInvalid', message: 'must be an integer between 1 and 36500', field },
    ]);
  }
  return value;
}
