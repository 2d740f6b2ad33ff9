// SPDX-License-Identifier: Apache-2.0
// HttpApiClient against small real node:http / node:https servers (the full API semantics are covered
// by the ApiClient contract run against HttpApiServer in test/e2e): transport, errors, watch framing,
// TLS with certificates made by the openssl CLI, and kubeconfig loading.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../contracts/api-client.js';
import { StatusError } from '../../errors/status-error.js';
import { expectStatusError } from '../../testing/status-rejection.js';
import { HttpApiClient } from './http-api-client.js';
import { loadKubeconfig } from './kubeconfig.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const servers: Server[] = [];
const clients: HttpApiClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function serve(handler: Handler, server: Server = createServer()): Promise<{ url: string; server: Server }> {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => handler(req, res, body));
  });
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const scheme = 'setSecureContext' in server ? 'https' : 'http';
      resolve({ url: `${scheme}://127.0.0.1:${port}`, server });
    });
  });
}

function client(options: ConstructorParameters<typeof HttpApiClient>[0]): HttpApiClient {
  const made = new HttpApiClient(options);
  clients.push(made);
  return made;
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

describe('HttpApiClient requests', () => {
  it('builds the Kubernetes URLs, sends JSON with the bearer token and reuses one keep-alive connection', async () => {
    const seen: string[] = [];
    let connections = 0;
    const { url, server } = await serve((req, res, body) => {
      seen.push(
        `${req.method} ${req.url} ${req.headers['content-type'] ?? '-'} ${req.headers.authorization} ${body}`,
      );
      json(res, req.method === 'POST' ? 201 : 200, { kind: 'Anything', metadata: { name: 'x' } });
    });
    server.on('connection', () => connections++);
    const api = client({ server: url, token: 'secret-token' });
    await api.get('deployments.apps', 'web', { namespace: 'prod', resourceVersion: '0' });
    await api.list('Pod', { labelSelector: 'app=web', limit: 5, continue: 'c' });
    await api.list('Node');
    await api.create(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' } },
      {
        dryRun: ['All'],
        fieldManager: 'me',
      },
    );
    await api.patch('ConfigMap', 'c', 'merge', { data: { a: 'b' } }, { namespace: 'ns' });
    await api.patch('Pod', 'p', 'json', [{ op: 'remove', path: '/x' }], { subresource: 'status' });
    await api.updateStatus({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'ns' },
    });
    await api.delete('Namespace', 'gone', { propagationPolicy: 'Foreground', gracePeriodSeconds: 0 });
    await api.bind({ metadata: { name: 'p', namespace: 'ns' }, target: { kind: 'Node', name: 'n1' } });
    const bearer = 'Bearer secret-token';
    expect(seen).toEqual([
      `GET /apis/apps/v1/namespaces/prod/deployments/web?resourceVersion=0 - ${bearer} `,
      `GET /api/v1/pods?labelSelector=app%3Dweb&limit=5&continue=c - ${bearer} `,
      `GET /api/v1/nodes - ${bearer} `,
      `POST /api/v1/namespaces/ns/configmaps?dryRun=All&fieldManager=me application/json ${bearer} {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ns"}}`,
      `PATCH /api/v1/namespaces/ns/configmaps/c application/merge-patch+json ${bearer} {"data":{"a":"b"}}`,
      `PATCH /api/v1/namespaces/default/pods/p/status application/json-patch+json ${bearer} [{"op":"remove","path":"/x"}]`,
      `PUT /apis/apps/v1/namespaces/ns/deployments/d/status application/json ${bearer} {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"ns"}}`,
      `DELETE /api/v1/namespaces/gone application/json ${bearer} {"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Foreground","gracePeriodSeconds":0}`,
      `POST /api/v1/namespaces/ns/pods/p/binding application/json ${bearer} {"apiVersion":"v1","kind":"Binding","metadata":{"name":"p","namespace":"ns"},"target":{"kind":"Node","name":"n1"}}`,
    ]);
    expect(connections).toBe(1);
  });

  it('turns a Status body into its StatusError and other failures into the matching reason', async () => {
    const { url } = await serve((req, res) => {
      if (req.url?.includes('/invalid')) {
        json(res, 422, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          reason: 'Invalid',
          message: 'ConfigMap "invalid" is invalid: data: Required value',
          details: {
            name: 'invalid',
            kind: 'ConfigMap',
            causes: [{ reason: 'FieldValueRequired', field: 'data', message: 'Required value' }],
          },
          code: 422,
        });
      } else if (req.url?.includes('/plain')) {
        res.writeHead(503, { 'Content-Type': 'text/plain' });
        res.end('upstream connect error');
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html>not json</html>');
      }
    });
    const api = client({ server: url });
    const invalid = await expectStatusError(api.get('ConfigMap', 'invalid'));
    expect(invalid.toStatus()).toMatchObject({
      reason: 'Invalid',
      code: 422,
      message: 'ConfigMap "invalid" is invalid: data: Required value',
      details: { causes: [{ reason: 'FieldValueRequired', field: 'data', message: 'Required value' }] },
    });
    const plain = await expectStatusError(api.get('ConfigMap', 'plain'));
    expect([plain.reason, plain.code, plain.message]).toEqual([
      'ServiceUnavailable',
      503,
      'upstream connect error',
    ]);
    const notJson = await expectStatusError(api.get('ConfigMap', 'html'));
    expect([notJson.reason, notJson.code]).toEqual(['InternalError', 500]);
    expect((await expectStatusError(api.get('NoSuchKind', 'x'))).reason).toBe('NotFound');
  });

  it('fails with Timeout past requestTimeoutMs and with ServiceUnavailable when nothing listens', async () => {
    const { url } = await serve(() => {
      // never answers
    });
    const slow = client({ server: url, requestTimeoutMs: 200 });
    const started = Date.now();
    const timedOut = await expectStatusError(slow.get('Namespace', 'x'));
    expect([timedOut.reason, timedOut.code]).toEqual(['Timeout', 504]);
    expect(Date.now() - started).toBeLessThan(5000);
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const refused = await expectStatusError(client({ server: `http://127.0.0.1:${port}` }).list('Pod'));
    expect([refused.reason, refused.code]).toEqual(['ServiceUnavailable', 503]);
    expect(refused.message).toContain('ECONNREFUSED');
  });

  it('rejects bad options at construction', () => {
    expect(() => new HttpApiClient({ server: 'ftp://x' })).toThrow(StatusError);
    expect(() => new HttpApiClient({ server: 'not a url' })).toThrow(/not a URL/);
    expect(() => new HttpApiClient({ server: 'http://x', clientCertPem: 'c' })).toThrow(/together/);
    expect(() => new HttpApiClient({ server: 'http://x', requestTimeoutMs: 0 })).toThrow(/positive/);
  });
});

describe('HttpApiClient watch', () => {
  it('parses events split across chunks, errors with the ERROR event Status and stops on unsubscribe', async () => {
    let closed = false;
    const { url } = await serve((req, res) => {
      expect(req.url).toBe(
        '/api/v1/namespaces/ns/pods?watch=true&resourceVersion=5&allowWatchBookmarks=true',
      );
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      const added = JSON.stringify({
        type: 'ADDED',
        object: { kind: 'Pod', metadata: { name: 'a', resourceVersion: '6' } },
      });
      res.write(added.slice(0, 10));
      setTimeout(() => {
        res.write(
          `${added.slice(10)}\n{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"7"}}}\n`,
        );
        res.write(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 5 (7)' } })}\n`,
        );
      }, 20);
      req.socket.on('close', () => {
        closed = true;
      });
    });
    const api = client({ server: url });
    const events: WatchEvent[] = [];
    const error = await new Promise<unknown>((resolve) => {
      api.watch('Pod', { namespace: 'ns', resourceVersion: '5', allowWatchBookmarks: true }).subscribe({
        next: (event) => events.push(event),
        error: resolve,
        complete: () => resolve('completed'),
      });
    });
    expect(events.map((event) => [event.type, event.object.metadata?.resourceVersion])).toEqual([
      ['ADDED', '6'],
      ['BOOKMARK', '7'],
    ]);
    expect(error).toBeInstanceOf(StatusError);
    expect(error).toMatchObject({ reason: 'Expired', code: 410, message: 'too old resource version: 5 (7)' });
    await expect.poll(() => closed).toBe(true);
  });

  it('completes when the server ends the stream, fails on a non-2xx reply, and closes on unsubscribe', async () => {
    let open = 0;
    const { url } = await serve((req, res) => {
      if (req.url?.includes('labelSelector')) {
        json(res, 400, {
          kind: 'Status',
          status: 'Failure',
          reason: 'BadRequest',
          code: 400,
          message: 'bad selector',
        });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'x' } } })}\n`);
      if (req.url?.includes('timeoutSeconds')) {
        res.end();
        return;
      }
      open++;
      req.socket.on('close', () => open--);
    });
    const api = client({ server: url });
    const ended = await new Promise((resolve, reject) =>
      api
        .watch('Node', { timeoutSeconds: 1 })
        .subscribe({ error: reject, complete: () => resolve('completed') }),
    );
    expect(ended).toBe('completed');
    const rejected = await new Promise((resolve) =>
      api.watch('Node', { labelSelector: 'a in (' }).subscribe({ error: resolve }),
    );
    expect(rejected).toMatchObject({ reason: 'BadRequest', code: 400, message: 'bad selector' });
    const got: string[] = [];
    const subscription = api.watch('Node').subscribe((event) => got.push(event.type));
    await expect.poll(() => got).toEqual(['ADDED']);
    expect(open).toBe(1);
    subscription.unsubscribe();
    await expect.poll(() => open).toBe(0);
  });
});

describe('HttpApiClient over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpkit-http-client-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  // A CA, a serving certificate for 127.0.0.1 and a client certificate (CN=alice, O=devs), by openssl.
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
  );
  for (const [name, subject, ext] of [
    ['server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', '/CN=alice/O=devs', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(file(`${name}.ext`), `${ext}\n`);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
  const read = (name: string): string => readFileSync(file(name), 'utf8');

  async function tlsServer(): Promise<string> {
    const server = createHttpsServer({
      key: read('server.key'),
      cert: read('server.crt'),
      ca: read('ca.crt'),
      requestCert: true,
      rejectUnauthorized: false,
    });
    const { url } = await serve(
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        json(res, 200, { kind: 'Namespace', metadata: { name: peer?.subject?.CN ?? 'anonymous' } });
      },
      server as unknown as Server,
    );
    return url;
  }

  it('verifies the server with the CA and authenticates with the client certificate', async () => {
    const url = await tlsServer();
    const api = client({
      server: url,
      caPem: read('ca.crt'),
      clientCertPem: read('client.crt'),
      clientKeyPem: read('client.key'),
    });
    expect((await api.get('Namespace', 'who')).metadata?.name).toBe('alice');
  });

  it('refuses a server its CA did not sign, unless told to skip verification', async () => {
    const url = await tlsServer();
    const untrusted = await expectStatusError(client({ server: url }).get('Namespace', 'who'));
    expect(untrusted.reason).toBe('ServiceUnavailable');
    expect(untrusted.message).toMatch(/certificate/);
    const skipping = client({ server: url, insecureSkipTlsVerify: true });
    expect((await skipping.get('Namespace', 'who')).metadata?.name).toBe('anonymous');
  });

  it('reads server, CA, client certificate and key from a kubeconfig (inline data or relative files)', async () => {
    const url = await tlsServer();
    const b64 = (name: string): string => Buffer.from(read(name)).toString('base64');
    writeFileSync(
      file('inline.kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: other',
        'clusters:',
        `- {name: c1, cluster: {server: "${url}", certificate-authority-data: ${b64('ca.crt')}}}`,
        'users:',
        `- {name: u1, user: {client-certificate-data: ${b64('client.crt')}, client-key-data: ${b64('client.key')}}}`,
        '- {name: u2, user: {tokenFile: token.txt}}',
        '- {name: u3, user: {exec: {command: get-token}}}',
        'contexts:',
        '- {name: mine, context: {cluster: c1, user: u1}}',
        '- {name: other, context: {cluster: c1, user: u2}}',
        '- {name: plugin, context: {cluster: c1, user: u3}}',
      ].join('\n'),
    );
    writeFileSync(file('token.txt'), 'file-token\n');
    writeFileSync(
      file('files.kubeconfig'),
      JSON.stringify({
        'current-context': 'x',
        clusters: [{ name: 'c', cluster: { server: url, 'certificate-authority': 'ca.crt' } }],
        users: [
          {
            name: 'u',
            user: { 'client-certificate': 'client.crt', 'client-key': file('client.key'), token: 't' },
          },
        ],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      }),
    );
    const mine = loadKubeconfig(file('inline.kubeconfig'), { context: 'mine' });
    expect((await client(mine).get('Namespace', 'who')).metadata?.name).toBe('alice');
    expect(loadKubeconfig(file('inline.kubeconfig'))).toEqual({
      server: url,
      caPem: read('ca.crt'),
      token: 'file-token',
    });
    const fromFiles = loadKubeconfig(file('files.kubeconfig'));
    expect(fromFiles).toMatchObject({ caPem: read('ca.crt'), clientKeyPem: read('client.key'), token: 't' });
    expect((await client(fromFiles).get('Namespace', 'who')).metadata?.name).toBe('alice');
    expect(() => loadKubeconfig(file('inline.kubeconfig'), { context: 'plugin' })).toThrow(/exec/);
    expect(() => loadKubeconfig(file('inline.kubeconfig'), { context: 'nope' })).toThrow(
      /no context named "nope"/,
    );
    expect(() => loadKubeconfig(file('missing.kubeconfig'))).toThrow(/cannot read kubeconfig/);
  });
});
