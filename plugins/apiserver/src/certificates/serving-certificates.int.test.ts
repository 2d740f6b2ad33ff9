// SPDX-License-Identifier: Apache-2.0
// Real infrastructure: the Debian openssl binary and a real TLS handshake over node:https.
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { StatusError } from '@cpkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAdminKubeconfig } from './admin-kubeconfig.js';
import { issueClientCertificate } from './client-certificate.js';
import { ensureServingCertificates, type ServingCertificates } from './serving-certificates.js';

const HOSTS = ['127.0.0.1', 'localhost', '::1', 'cpkit.example.test'];

let dir: string;
let first: ServingCertificates;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpkit-certs-'));
  first = await ensureServingCertificates(join(dir, 'pki'), { hosts: HOSTS });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('ensureServingCertificates: first start', () => {
  it('creates a CA with CA:true and keyCertSign that signs itself', () => {
    const ca = new X509Certificate(first.caCertPem);
    expect(first.generated).toEqual({ ca: true, servingCertificate: true });
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const text = openssl('x509', '-noout', '-text', '-in', first.paths.caCert);
    expect(text).toMatch(/CA:TRUE/);
    expect(text).toMatch(/Certificate Sign/);
  });

  it('issues a serving certificate from the CA with serverAuth and every host as SAN', () => {
    const ca = new X509Certificate(first.caCertPem);
    const serving = new X509Certificate(first.servingCertPem);
    expect(serving.ca).toBe(false);
    expect(serving.checkIssued(ca)).toBe(true);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.subjectAltName).toBe(
      'IP Address:127.0.0.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1, DNS:cpkit.example.test',
    );
    expect(serving.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const validFrom = new Date(serving.validFrom).getTime();
    const validTo = new Date(serving.validTo).getTime();
    expect(validFrom).toBeLessThanOrEqual(Date.now());
    expect(validTo - Date.now()).toBeGreaterThan(364 * 86_400_000);
    expect(validTo - Date.now()).toBeLessThan(366 * 86_400_000);
  });

  it('passes openssl verify for the serving purpose, host name and IP', () => {
    const out = openssl(
      'verify',
      '-CAfile',
      first.paths.caCert,
      '-purpose',
      'sslserver',
      '-verify_hostname',
      'localhost',
      first.paths.servingCert,
    );
    expect(out.trim()).toBe(`${first.paths.servingCert}: OK`);
    expect(
      openssl('verify', '-CAfile', first.paths.caCert, '-verify_ip', '127.0.0.1', first.paths.servingCert),
    ).toMatch(/: OK/);
    expect(() =>
      openssl(
        'verify',
        '-CAfile',
        first.paths.caCert,
        '-verify_hostname',
        'other.example',
        first.paths.servingCert,
      ),
    ).toThrow();
  });

  it('writes keys 0600, certificates 0644 and the directory 0700, matching the returned PEMs', async () => {
    expect((await stat(first.paths.caKey)).mode & 0o777).toBe(0o600);
    expect((await stat(first.paths.servingKey)).mode & 0o777).toBe(0o600);
    expect((await stat(first.paths.caCert)).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'pki'))).mode & 0o777).toBe(0o700);
    expect(await readFile(first.paths.caCert, 'utf8')).toBe(first.caCertPem);
    expect(await readFile(first.paths.servingKey, 'utf8')).toBe(first.servingKeyPem);
  });
});

describe('ensureServingCertificates: later starts', () => {
  it('reuses the CA and the serving certificate when nothing changed', async () => {
    const again = await ensureServingCertificates(join(dir, 'pki'), { hosts: ['localhost', '127.0.0.1'] });
    expect(again.generated).toEqual({ ca: false, servingCertificate: false });
    expect(new X509Certificate(again.caCertPem).fingerprint256).toBe(
      new X509Certificate(first.caCertPem).fingerprint256,
    );
    expect(again.servingCertPem).toBe(first.servingCertPem);
  });

  it('reissues only the serving certificate when the hosts are no longer covered', async () => {
    const sub = join(dir, 'hosts-change');
    const a = await ensureServingCertificates(sub, { hosts: ['127.0.0.1'] });
    const b = await ensureServingCertificates(sub, { hosts: ['127.0.0.1', '10.1.2.3', 'api.example.test'] });
    expect(b.generated).toEqual({ ca: false, servingCertificate: true });
    expect(new X509Certificate(b.caCertPem).fingerprint256).toBe(
      new X509Certificate(a.caCertPem).fingerprint256,
    );
    const serving = new X509Certificate(b.servingCertPem);
    expect(serving.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(serving.checkHost('api.example.test')).toBe('api.example.test');
    expect(serving.verify(new X509Certificate(a.caCertPem).publicKey)).toBe(true);
    expect(await readFile(b.paths.servingCert, 'utf8')).toBe(b.servingCertPem);
  });

  it('reissues a serving certificate that expires within 30 days', async () => {
    const sub = join(dir, 'expiring');
    const a = await ensureServingCertificates(sub, { hosts: ['localhost'], validityDays: 20 });
    const b = await ensureServingCertificates(sub, { hosts: ['localhost'] });
    expect(b.generated).toEqual({ ca: false, servingCertificate: true });
    expect(b.servingCertPem).not.toBe(a.servingCertPem);
    expect(new Date(new X509Certificate(b.servingCertPem).validTo).getTime() - Date.now()).toBeGreaterThan(
      300 * 86_400_000,
    );
  });

  it('reissues a serving certificate whose key file was replaced', async () => {
    const sub = join(dir, 'bad-key');
    const a = await ensureServingCertificates(sub, { hosts: ['localhost'] });
    await writeFile(a.paths.servingKey, a.caKeyPem);
    const b = await ensureServingCertificates(sub, { hosts: ['localhost'] });
    expect(b.generated.servingCertificate).toBe(true);
    expect(openssl('verify', '-CAfile', b.paths.caCert, b.paths.servingCert)).toMatch(/: OK/);
  });

  it('refuses a CA certificate without its key instead of replacing it', async () => {
    const sub = join(dir, 'half-ca');
    const a = await ensureServingCertificates(sub, { hosts: ['localhost'] });
    await rm(a.paths.caKey);
    await expect(ensureServingCertificates(sub, { hosts: ['localhost'] })).rejects.toThrow(/ca\.key/);
    expect(await readFile(a.paths.caCert, 'utf8')).toBe(a.caCertPem);
  });
});

describe('ensureServingCertificates: bad input', () => {
  it.each([
    ['no hosts', { hosts: [] }, /hosts/],
    ['a host with a space', { hosts: ['bad host'] }, /hosts\[0\]/],
    ['a non-string host', { hosts: ['localhost', 7] }, /hosts\[1\]/],
    ['zero validity', { hosts: ['localhost'], validityDays: 0 }, /validityDays/],
    ['fractional validity', { hosts: ['localhost'], validityDays: 1.5 }, /validityDays/],
  ])('%s is a BadRequest naming the option', async (_name, options, message) => {
    const sub = join(dir, 'never-written');
    const err = await ensureServingCertificates(sub, options as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).message).toMatch(message);
    await expect(stat(sub)).rejects.toThrow(/ENOENT/);
  });
});

describe('TLS with the serving certificate and an admin client certificate', () => {
  let server: Server;
  let port: number;
  /** Requests that reached the handler: a rejected client must not add to it. */
  let served = 0;

  beforeAll(async () => {
    server = createServer(
      {
        cert: first.servingCertPem,
        key: first.servingKeyPem,
        ca: first.caCertPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        served += 1;
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ cn: peer.subject?.CN, o: peer.subject?.O }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function get(tls: { cert?: string; key?: string }): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', ca: first.caCertPem, agent: false, ...tls },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('accepts the admin certificate and sees CN admin, O system:masters', async () => {
    const admin = await issueClientCertificate(first.ca, {
      commonName: 'admin',
      organizations: ['system:masters'],
    });
    const res = await get({ cert: admin.certPem, key: admin.keyPem });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ cn: 'admin', o: 'system:masters' });
  });

  it('rejects a connection without a client certificate', async () => {
    // TLS 1.3 ends the handshake before the server checks; its alert or the close reaches the client as the request error.
    const before = served;
    await expect(get({})).rejects.toThrow(/alert certificate required|socket hang up|ECONNRESET/);
    expect(served).toBe(before);
  });

  it('rejects a client certificate from another CA', async () => {
    const other = await ensureServingCertificates(join(dir, 'other-ca'), { hosts: ['localhost'] });
    const stranger = await issueClientCertificate(other.ca, {
      commonName: 'admin',
      organizations: ['system:masters'],
    });
    const before = served;
    await expect(get({ cert: stranger.certPem, key: stranger.keyPem })).rejects.toThrow(
      /alert unknown ca|socket hang up|ECONNRESET/,
    );
    expect(served).toBe(before);
  });

  it('lets the real kubectl reach the server with the admin kubeconfig', async () => {
    const admin = await issueClientCertificate(first.ca, {
      commonName: 'admin',
      organizations: ['system:masters'],
    });
    const kubeconfig = join(dir, 'admin.kubeconfig');
    await writeAdminKubeconfig(kubeconfig, {
      server: `https://127.0.0.1:${port}`,
      caCertPem: first.caCertPem,
      clientCertPem: admin.certPem,
      clientKeyPem: admin.keyPem,
    });
    // Async: the server answering kubectl runs in this process.
    const { stdout } = await promisify(execFile)('kubectl', [
      '--kubeconfig',
      kubeconfig,
      '--cache-dir',
      join(dir, 'kubectl-cache'),
      'get',
      '--raw',
      '/whoami',
    ]);
    expect(JSON.parse(stdout)).toEqual({ cn: 'admin', o: 'system:masters' });
  });
});
