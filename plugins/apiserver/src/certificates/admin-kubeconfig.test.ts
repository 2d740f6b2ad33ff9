// SPDX-License-Identifier: Apache-2.0
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusError } from '@cpkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeAdminKubeconfig } from './admin-kubeconfig.js';
import { issueClientCertificate } from './client-certificate.js';
import { ensureServingCertificates, type ServingCertificates } from './serving-certificates.js';

let dir: string;
let pki: ServingCertificates;
let admin: { certPem: string; keyPem: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpkit-kubeconfig-'));
  pki = await ensureServingCertificates(join(dir, 'pki'), { hosts: ['127.0.0.1'] });
  admin = await issueClientCertificate(pki.ca, { commonName: 'admin', organizations: ['system:masters'] });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

describe('writeAdminKubeconfig', () => {
  it('writes a 0600 YAML kubeconfig with embedded certificates and a current context', async () => {
    const path = join(dir, 'nested', 'admin.kubeconfig');
    const text = await writeAdminKubeconfig(path, {
      server: 'https://127.0.0.1:6443',
      caCertPem: pki.caCertPem,
      clientCertPem: admin.certPem,
      clientKeyPem: admin.keyPem,
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe(text);
    const config = parse(text);
    expect(config).toMatchObject({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'admin@cpkit',
      clusters: [{ name: 'cpkit', cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [{ name: 'admin' }],
      contexts: [{ name: 'admin@cpkit', context: { cluster: 'cpkit', user: 'admin' } }],
    });
    expect(decode(config.clusters[0].cluster['certificate-authority-data'])).toBe(pki.caCertPem);
    expect(decode(config.users[0].user['client-certificate-data'])).toBe(admin.certPem);
    expect(decode(config.users[0].user['client-key-data'])).toBe(admin.keyPem);
  });

  it('uses the given cluster, user and context names and replaces an existing file', async () => {
    const path = join(dir, 'named.kubeconfig');
    const base = {
      server: 'https://localhost:1',
      caCertPem: pki.caCertPem,
      clientCertPem: admin.certPem,
      clientKeyPem: admin.keyPem,
    };
    await writeAdminKubeconfig(path, base);
    await writeAdminKubeconfig(path, {
      ...base,
      clusterName: 'dev',
      userName: 'root',
      contextName: 'dev-root',
    });
    const config = parse(await readFile(path, 'utf8'));
    expect(config['current-context']).toBe('dev-root');
    expect(config.contexts).toEqual([{ name: 'dev-root', context: { cluster: 'dev', user: 'root' } }]);
    expect(config.users[0].name).toBe('root');
    expect(config.clusters[0].name).toBe('dev');
  });

  it.each([
    ['an http server', { server: 'http://127.0.0.1:6443' }, /server/],
    ['a server that is not a URL', { server: '127.0.0.1:6443' }, /server/],
    ['a missing CA', { caCertPem: '' }, /caCertPem/],
    ['a key that is not PEM', { clientKeyPem: 'secret' }, /clientKeyPem/],
    ['an empty context name', { contextName: '' }, /contextName/],
  ])('rejects %s with a BadRequest naming it and writes nothing', async (_name, override, message) => {
    const path = join(dir, 'never.kubeconfig');
    const options = {
      server: 'https://127.0.0.1:6443',
      caCertPem: pki.caCertPem,
      clientCertPem: admin.certPem,
      clientKeyPem: admin.keyPem,
      ...override,
    };
    const err = await writeAdminKubeconfig(path, options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).message).toMatch(message);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });
});
