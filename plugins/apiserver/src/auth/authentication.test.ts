// SPDX-License-Identifier: Apache-2.0
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuthenticationRequest,
  type Authenticator,
  Registry,
  StatusError,
  type UserInfo,
} from '@cpkit/core';
import { expectStatusError, startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueClientCertificate } from '../certificates/client-certificate.js';
import { ensureServingCertificates } from '../certificates/serving-certificates.js';
import { AuthenticationChain, authenticationRequestOf } from './authentication.js';
import { ServiceAccountTokens } from './service-account-tokens.js';
import { parseTokenFile, TokenFileAuthenticator } from './token-file-authenticator.js';
import { X509Authenticator } from './x509-authenticator.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpkit-authn-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('token file', () => {
  it('parses the upstream CSV format: quoted group lists, optional groups, comments, later lines win', () => {
    const users = parseTokenFile(
      [
        '# comment',
        'abc,alice,1,"admins,devs"',
        '',
        'def,bob,2',
        'ghi,"carol, the third",3,ops',
        'abc,alice2,11,"x"',
        'q,"say ""hi""",4,""',
      ].join('\n'),
    );
    expect(Object.fromEntries(users)).toEqual({
      abc: { username: 'alice2', uid: '11', groups: ['x'] },
      def: { username: 'bob', uid: '2', groups: [] },
      ghi: { username: 'carol, the third', uid: '3', groups: ['ops'] },
      q: { username: 'say "hi"', uid: '4', groups: [] },
    });
  });

  it.each([
    ['too few columns', 'abc,alice', /line 1: needs at least 3 columns/],
    ['empty token', ',alice,1', /line 1: the token is empty/],
    ['empty user', 'abc,,1', /line 1: the user name is empty/],
    ['unterminated quote', 'ok,u,1\nabc,alice,1,"a,b', /line 2: unterminated quote/],
    ['text after a quote', 'abc,"alice"x,1', /line 1: unexpected text/],
  ])('rejects %s naming the line', (_what, text, message) => {
    expect(() => parseTokenFile(text)).toThrow(message);
  });

  it('authenticates known tokens, leaves unknown ones and requests without a token to others', async () => {
    const path = join(dir, 'tokens.csv');
    await writeFile(path, 'secret,alice,1,"admins"\n');
    const authenticator = await TokenFileAuthenticator.fromFile(path);
    expect(await authenticator.authenticate({ headers: {}, bearerToken: 'secret' })).toEqual({
      username: 'alice',
      uid: '1',
      groups: ['admins'],
    });
    expect(await authenticator.authenticate({ headers: {}, bearerToken: 'other' })).toBeUndefined();
    expect(await authenticator.authenticate({ headers: {} })).toBeUndefined();
    expect(
      (await expectStatusError(TokenFileAuthenticator.fromFile(join(dir, 'missing.csv')))).message,
    ).toMatch(/cannot read the token file/);
  });
});

describe('AuthenticationChain', () => {
  const fixed = (name: string, user?: UserInfo, error?: Error): Authenticator => ({
    name,
    async authenticate() {
      if (error) throw error;
      return user;
    },
  });
  const alice: UserInfo = { username: 'alice', groups: ['devs'] };
  const request: AuthenticationRequest = { headers: {}, bearerToken: 't' };

  it('takes the first user found and adds system:authenticated', async () => {
    const chain = new AuthenticationChain([
      fixed('a'),
      fixed('b', alice),
      fixed('c', { username: 'x', groups: [] }),
    ]);
    expect(await chain.authenticateRequest(request)).toEqual({
      username: 'alice',
      groups: ['devs', 'system:authenticated'],
    });
  });

  it('is 401 when a token is not recognized, even with anonymous enabled', async () => {
    const chain = new AuthenticationChain([fixed('a')], { anonymous: true });
    expect((await expectStatusError(chain.authenticateRequest(request))).code).toBe(401);
  });

  it('is 401 without credentials unless anonymous is enabled', async () => {
    expect(
      (
        await expectStatusError(new AuthenticationChain([fixed('a')]).authenticateRequest({ headers: {} }))
      ).toStatus(),
    ).toMatchObject({
      reason: 'Unauthorized',
      message: 'Unauthorized',
      code: 401,
    });
    expect(
      await new AuthenticationChain([fixed('a')], { anonymous: true }).authenticateRequest({ headers: {} }),
    ).toEqual({
      username: 'system:anonymous',
      groups: ['system:unauthenticated'],
    });
  });

  it('an invalid credential stops the chain with a bare 401 (the reason is not sent to the client)', async () => {
    const chain = new AuthenticationChain([
      fixed('a', undefined, new StatusError('Unauthorized', 'token expired at noon', undefined, 401)),
      fixed('b', alice),
    ]);
    const error = await expectStatusError(chain.authenticateRequest(request));
    expect([error.code, error.message]).toEqual([401, 'Unauthorized']);
  });
});

describe('x509 client certificates over real TLS', () => {
  it('CN is the user and each O a group, only when the certificate verifies against the CA', async () => {
    const pki = await ensureServingCertificates(join(dir, 'pki'), { hosts: ['127.0.0.1'] });
    const otherPki = await ensureServingCertificates(join(dir, 'other-pki'), { hosts: ['127.0.0.1'] });
    const chain = new AuthenticationChain([new X509Authenticator()]);
    const server = createServer(
      {
        key: pki.servingKeyPem,
        cert: pki.servingCertPem,
        ca: pki.caCertPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        chain.authenticate(req).then(
          (user) => res.end(JSON.stringify(user)),
          (error: StatusError) => {
            res.statusCode = error.code;
            res.end(JSON.stringify(authenticationRequestOf(req)));
          },
        );
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const get = (cert?: { certPem: string; keyPem: string }, token?: string) =>
      new Promise<{ code: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/',
            ca: pki.caCertPem,
            ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
            ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
          },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => {
              body += chunk.toString();
            });
            res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      const admin = await issueClientCertificate(pki.ca, {
        commonName: 'jane',
        organizations: ['system:masters', 'ops'],
      });
      const ok = await get(admin);
      expect(JSON.parse(ok.body)).toEqual({
        username: 'jane',
        groups: ['system:masters', 'ops', 'system:authenticated'],
      });
      // Signed by another CA: the connection is accepted, the certificate ignored.
      const stranger = await issueClientCertificate(otherPki.ca, {
        commonName: 'mallory',
        organizations: ['system:masters'],
      });
      const rejected = await get(stranger);
      expect(rejected.code).toBe(401);
      expect(JSON.parse(rejected.body).clientCertificate).toBeUndefined();
      const none = await get(undefined, 'abc');
      expect(none.code).toBe(401);
      expect(JSON.parse(none.body)).toMatchObject({ bearerToken: 'abc' });
    } finally {
      server.close();
    }
  });
});

describe('service-account tokens', () => {
  let cp: TestControlPlane;
  let registry: Registry;
  let tokens: ServiceAccountTokens;
  let uid: string;
  const bearer = (token: string): AuthenticationRequest => ({ headers: {}, bearerToken: token });

  beforeAll(async () => {
    cp = await startTestControlPlane({ store: await openEmbeddedStore() });
    registry = cp.controlPlane.get<Registry>(Registry);
    const sa = await registry.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'robot', namespace: 'default' },
    });
    uid = String(sa.metadata?.uid);
    tokens = new ServiceAccountTokens(registry, { dir: join(dir, 'sa') });
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('issues tokens that authenticate as the service account', async () => {
    const { token, expirationTimestamp } = await tokens.issue({ namespace: 'default', name: 'robot', uid });
    expect(Date.parse(expirationTimestamp) - Date.now()).toBeGreaterThan(3590_000);
    const user = await tokens.authenticate(bearer(token));
    expect(user).toMatchObject({
      username: 'system:serviceaccount:default:robot',
      uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default'],
    });
    expect(user?.extra?.['authentication.kubernetes.io/credential-id']?.[0]).toMatch(/^JTI=/);
  });

  it('keeps its signing key in the directory: another instance verifies the same tokens', async () => {
    const { token } = await tokens.issue({ namespace: 'default', name: 'robot', uid });
    expect((await stat(join(dir, 'sa', 'sa.key'))).mode & 0o777).toBe(0o600);
    const again = new ServiceAccountTokens(registry, { dir: join(dir, 'sa') });
    expect((await again.authenticate(bearer(token)))?.username).toBe('system:serviceaccount:default:robot');
    const elsewhere = new ServiceAccountTokens(registry, { dir: join(dir, 'sa-other') });
    expect((await expectStatusError(elsewhere.authenticate(bearer(token)))).code).toBe(401);
    expect(await readFile(join(dir, 'sa', 'sa.pub'), 'utf8')).toContain('BEGIN PUBLIC KEY');
  });

  it('leaves tokens that are not its JWTs to other authenticators', async () => {
    expect(await tokens.authenticate(bearer('plain-token'))).toBeUndefined();
    expect(await tokens.authenticate({ headers: {} })).toBeUndefined();
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://elsewhere')
      .sign(new Uint8Array(32));
    expect(await tokens.authenticate(bearer(foreign))).toBeUndefined();
  });

  it('rejects wrong audience, expired and tampered tokens with 401', async () => {
    const wrongAudience = await tokens.issue(
      { namespace: 'default', name: 'robot', uid },
      { audiences: ['vault'] },
    );
    expect((await expectStatusError(tokens.authenticate(bearer(wrongAudience.token)))).message).toMatch(
      /aud/,
    );
    const old = await tokens.issue(
      { namespace: 'default', name: 'robot', uid },
      { expirationSeconds: 600, now: new Date(Date.now() - 3600_000) },
    );
    expect((await expectStatusError(tokens.authenticate(bearer(old.token)))).message).toMatch(/exp/);
    const { token } = await tokens.issue({ namespace: 'default', name: 'robot', uid });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
    claims.sub = 'system:serviceaccount:default:admin';
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect((await expectStatusError(tokens.authenticate(bearer(forged)))).code).toBe(401);
  });

  it('validates requested lifetimes', async () => {
    const error = await expectStatusError(
      tokens.issue({ namespace: 'default', name: 'robot', uid }, { expirationSeconds: 60 }),
    );
    expect(error.toStatus()).toMatchObject({ reason: 'Invalid', code: 422 });
  });

  it('stops accepting a token once its ServiceAccount is deleted or recreated', async () => {
    const { token } = await tokens.issue({ namespace: 'default', name: 'robot', uid });
    await registry.delete('ServiceAccount', 'robot', { namespace: 'default' });
    expect((await expectStatusError(tokens.authenticate(bearer(token)))).message).toBe(
      'service account default/robot has been deleted',
    );
    await registry.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'robot', namespace: 'default' },
    });
    expect((await expectStatusError(tokens.authenticate(bearer(token)))).message).toMatch(/was recreated/);
  });
});
