// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusError } from '@cpkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueClientCertificate } from './client-certificate.js';
import { ensureServingCertificates, type ServingCertificates } from './serving-certificates.js';

let dir: string;
let pki: ServingCertificates;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpkit-client-cert-'));
  pki = await ensureServingCertificates(dir, { hosts: ['localhost'] });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('issueClientCertificate', () => {
  it('issues a clientAuth certificate with CN = user and one O per group, signed by the CA', async () => {
    const { certPem, keyPem } = await issueClientCertificate(pki.ca, {
      commonName: 'admin',
      organizations: ['system:masters', 'team-a'],
      validityDays: 30,
    });
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(pki.caCertPem);
    expect(cert.subject.split('\n')).toEqual(['O=system:masters', 'O=team-a', 'CN=admin']);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeLessThanOrEqual(30 * 86_400_000);
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);

    const certFile = join(dir, 'admin.crt');
    await writeFile(certFile, certPem);
    const out = execFileSync(
      'openssl',
      ['verify', '-CAfile', pki.paths.caCert, '-purpose', 'sslclient', certFile],
      {
        encoding: 'utf8',
      },
    );
    expect(out.trim()).toBe(`${certFile}: OK`);
  });

  it('gives every certificate its own key and serial number', async () => {
    const a = await issueClientCertificate(pki.ca, { commonName: 'alice' });
    const b = await issueClientCertificate(pki.ca, { commonName: 'alice' });
    expect(a.keyPem).not.toBe(b.keyPem);
    expect(new X509Certificate(a.certPem).serialNumber).not.toBe(new X509Certificate(b.certPem).serialNumber);
    expect(new X509Certificate(a.certPem).subject).toBe('CN=alice');
  });

  it.each([
    ['an empty common name', { commonName: '' }, /commonName/],
    ['an empty organization', { commonName: 'x', organizations: ['ok', ''] }, /organizations\[1\]/],
    ['a negative validity', { commonName: 'x', validityDays: -1 }, /validityDays/],
  ])('rejects %s with a BadRequest naming it', async (_name, options, message) => {
    const err = await issueClientCertificate(pki.ca, options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).message).toMatch(message);
  });

  it('rejects a CA whose key does not match, and a leaf certificate used as a CA', async () => {
    const mismatched = { certPem: pki.caCertPem, keyPem: pki.servingKeyPem };
    await expect(issueClientCertificate(mismatched, { commonName: 'x' })).rejects.toThrow(
      /matching private key/,
    );
    const leaf = { certPem: pki.servingCertPem, keyPem: pki.servingKeyPem };
    await expect(issueClientCertificate(leaf, { commonName: 'x' })).rejects.toBeInstanceOf(StatusError);
  });
});
