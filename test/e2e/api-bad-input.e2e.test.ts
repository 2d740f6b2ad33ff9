// SPDX-License-Identifier: Apache-2.0
// Bad input thrown at a running HttpApiServer over real HTTP: every request gets the right 4xx
// Status, nothing is written (the store's revision and a pod list are unchanged), and the server keeps
// serving on the same keep-alive connection. Ends with fast-check runs of random bodies and queries.
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { apiServerModule, HttpApiServer } from '@cpkit/apiserver';
import type { Store } from '@cpkit/core';
import { podFixture, startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let cp: TestControlPlane;
let store: Store;
let host: string;
let port: number;
// One keep-alive connection for everything, so a request that broke the connection would show.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

const podsPath = '/api/v1/namespaces/default/pods';
const cmPath = '/api/v1/namespaces/default/configmaps';

beforeAll(async () => {
  store = await openEmbeddedStore();
  cp = await startTestControlPlane({
    store,
    modules: [apiServerModule({ port: 0, tls: false, anonymous: true, authorization: 'AlwaysAllow' })],
  });
  const address = cp.controlPlane.get<HttpApiServer>(HttpApiServer).address();
  if (!address) throw new Error('the API server has no address');
  ({ host, port } = address);
  // Something to read (and to be sure a bad request does not change): one pod and one config map.
  await cp.client.create(podFixture({ name: 'existing', labels: { app: 'web' } }));
  await cp.client.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'existing', namespace: 'default' },
  });
});

afterAll(async () => {
  agent.destroy();
  await cp?.stop();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** One request with the path sent byte for byte (no URL normalisation, unlike fetch). */
function call(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // An explicit Content-Length: Node sends a DELETE body without one (nor chunking) otherwise.
    const length = body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(body)) };
    const req = request({ host, port, method, path, agent, headers: { ...length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A GET whose 200 reply is a stream (a watch): resolves with the status as soon as the headers
 * arrive and drops the stream; an error reply is read whole.
 */
function callStream(path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path }, (res) => {
      if (res.statusCode === 200) {
        res.destroy();
        resolve({ status: 200, headers: res.headers, text: '', body: undefined });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const json = (value: unknown): string => JSON.stringify(value);
const jsonHeaders = { 'Content-Type': 'application/json' };
const validPod = () => podFixture({ name: 'fresh' });

/** A list of pods and config maps, and the store's revision: none of them may move. */
async function snapshot(): Promise<unknown> {
  const pods = await call('GET', podsPath);
  const maps = await call('GET', cmPath);
  expect(pods.status).toBe(200);
  return {
    revision: await store.currentRevision(),
    pods: pods.body.metadata.resourceVersion,
    podNames: pods.body.items.map((p: any) => p.metadata.name),
    maps: maps.body.items.map((m: any) => `${m.metadata.name}@${m.metadata.resourceVersion}`),
  };
}

/** Sends a bad request and checks the reply is the given Status, that nothing was written, and that a GET still works. */
async function rejects(attempt: () => Promise<Reply>, code: number, reason: string): Promise<Reply> {
  const before = await snapshot();
  const reply = await attempt();
  expect({ status: reply.status, text: reply.text }).toMatchObject({ status: code });
  expect(reply.headers['content-type']).toContain('application/json');
  expect(reply.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason });
  expect(typeof reply.body.message).toBe('string');
  expect(await snapshot()).toEqual(before);
  const get = await call('GET', `${podsPath}/existing`);
  expect(get.status).toBe(200);
  expect(get.body.metadata.name).toBe('existing');
  return reply;
}

const causeFields = (reply: Reply): string[] =>
  [...new Set<string>((reply.body.details?.causes ?? []).map((c: any) => c.field))].sort();

describe('malformed bodies', () => {
  it.each([
    ['truncated JSON', '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"'],
    ['not JSON at all', 'hello'],
    ['a JSON array', '[1,2,3]'],
    ['JSON null', 'null'],
    ['a JSON string', '"pod"'],
    ['an empty body', ''],
    ['trailing garbage', '{"metadata":{"name":"x"}} {}'],
  ])('%s in a create is 400 BadRequest', async (_what, body) => {
    await rejects(() => call('POST', podsPath, body, jsonHeaders), 400, 'BadRequest');
  });

  it('non-UTF-8 bytes in a JSON body are 400 BadRequest', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"k":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}}'),
    ]);
    await rejects(() => call('POST', cmPath, bytes, jsonHeaders), 400, 'BadRequest');
  });

  it('malformed JSON in an update and in each JSON patch type is 400 BadRequest', async () => {
    await rejects(() => call('PUT', `${cmPath}/existing`, '{"metadata":', jsonHeaders), 400, 'BadRequest');
    for (const type of [
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]) {
      await rejects(
        () => call('PATCH', `${cmPath}/existing`, '{"data": {', { 'Content-Type': type }),
        400,
        'BadRequest',
      );
    }
    // A JSON patch that is not a list of operations, or whose operation is broken.
    await rejects(
      () =>
        call('PATCH', `${cmPath}/existing`, '{"op":"add"}', {
          'Content-Type': 'application/json-patch+json',
        }),
      400,
      'BadRequest',
    );
    await rejects(
      () =>
        call('PATCH', `${cmPath}/existing`, json([{ op: 'frobnicate', path: '/data' }]), {
          'Content-Type': 'application/json-patch+json',
        }),
      400,
      'BadRequest',
    );
  });

  it('malformed YAML in a server-side apply is 400 BadRequest', async () => {
    const apply = { 'Content-Type': 'application/apply-patch+yaml' };
    await rejects(
      () =>
        call('PATCH', `${cmPath}/applied?fieldManager=t`, 'apiVersion: v1\nkind: [ConfigMap\n  : :', apply),
      400,
      'BadRequest',
    );
    await rejects(
      () => call('PATCH', `${cmPath}/applied?fieldManager=t`, '- a\n- b\n', apply),
      400,
      'BadRequest',
    );
    await rejects(
      () =>
        call(
          'PATCH',
          `${cmPath}/applied?fieldManager=t`,
          'apiVersion: v1\nkind: Secret\nmetadata: {name: applied}\n',
          apply,
        ),
      400,
      'BadRequest',
    );
  });

  it('a delete with malformed DeleteOptions is 400 and deletes nothing', async () => {
    await rejects(
      () => call('DELETE', `${podsPath}/existing`, '{"propagationPolicy":', jsonHeaders),
      400,
      'BadRequest',
    );
    await rejects(
      () => call('DELETE', `${podsPath}/existing`, json({ propagationPolicy: 'Sometimes' }), jsonHeaders),
      400,
      'BadRequest',
    );
    await rejects(
      () => call('DELETE', `${podsPath}/existing`, json({ gracePeriodSeconds: -3 }), jsonHeaders),
      400,
      'BadRequest',
    );
  });
});

describe('wrong content types', () => {
  it.each([
    ['POST', podsPath, 'text/plain'],
    ['POST', podsPath, 'application/xml'],
    ['PUT', `${podsPath}/existing`, 'text/yaml'],
    ['PATCH', `${podsPath}/existing`, 'application/json'],
    ['PATCH', `${podsPath}/existing`, 'text/plain'],
    ['PATCH', `${podsPath}/existing/status`, 'application/x-www-form-urlencoded'],
  ])('%s %s with %s is 415 UnsupportedMediaType listing what is accepted', async (method, path, type) => {
    const reply = await rejects(
      () => call(method, path, json(validPod()), { 'Content-Type': type }),
      415,
      'UnsupportedMediaType',
    );
    expect(reply.body.message).toMatch(/accepted media types include: .*application\//);
  });

  it('a protobuf body of a kind without a decoder is 415, not a crash', async () => {
    await rejects(
      () =>
        call('POST', podsPath, Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x03, 0x0a, 0x01, 0x76]), {
          'Content-Type': 'application/vnd.kubernetes.protobuf',
        }),
      415,
      'UnsupportedMediaType',
    );
  });
});

describe('huge bodies', () => {
  const huge = Buffer.alloc(4 * 1024 * 1024, 'a');

  it('a body over 3 MiB with a Content-Length is 413 RequestEntityTooLarge, and the server keeps serving', async () => {
    const body = Buffer.concat([
      Buffer.from('{"metadata":{"name":"big"},"data":{"k":"'),
      huge,
      Buffer.from('"}}'),
    ]);
    await rejects(() => call('POST', cmPath, body, jsonHeaders), 413, 'RequestEntityTooLarge');
    await rejects(() => call('PUT', `${cmPath}/existing`, body, jsonHeaders), 413, 'RequestEntityTooLarge');
  });

  it('a chunked body that grows past 3 MiB is 413 too', async () => {
    const before = await snapshot();
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = request(
        { host, port, method: 'POST', path: cmPath, agent, headers: jsonHeaders },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: JSON.parse(text) });
          });
        },
      );
      req.on('error', reject);
      req.write('{"metadata":{"name":"big"},"data":{"k":"');
      // 16 x 256 KiB = 4 MiB, sent chunked (no Content-Length).
      let sent = 0;
      const more = (): void => {
        while (sent < 16) {
          sent++;
          if (!req.write(Buffer.alloc(256 * 1024, 'b'))) {
            req.once('drain', more);
            return;
          }
        }
        req.end('"}}');
      };
      more();
    });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
    expect(await snapshot()).toEqual(before);
    expect((await call('GET', `${podsPath}/existing`)).status).toBe(200);
  });
});

describe('invalid objects', () => {
  it.each<[string, () => unknown, string[]]>([
    ['an invalid name', () => podFixture({ name: 'Bad_Name!' }), ['metadata.name']],
    ['an over-long name', () => podFixture({ name: 'x'.repeat(300) }), ['metadata.name']],
    [
      'an invalid label key',
      () => podFixture({ name: 'a', labels: { 'bad key!': 'x' } }),
      ['metadata.labels'],
    ],
    [
      'an invalid label value',
      () => podFixture({ name: 'a', labels: { app: 'no spaces' } }),
      ['metadata.labels'],
    ],
  ])('a pod with %s is 422 Invalid naming the field', async (_what, pod, fields) => {
    const reply = await rejects(() => call('POST', podsPath, json(pod()), jsonHeaders), 422, 'Invalid');
    expect(reply.body.details.kind).toBe('Pod');
    expect(causeFields(reply)).toEqual(fields);
  });

  it('unknown fields under fieldValidation=Strict are 400 BadRequest naming them', async () => {
    const pod = { ...validPod(), bogusTopLevel: 1, spec: { ...validPod().spec, notAField: true } };
    const reply = await rejects(
      () => call('POST', `${podsPath}?fieldValidation=Strict`, json(pod), jsonHeaders),
      400,
      'BadRequest',
    );
    expect(reply.body.message).toContain('bogusTopLevel');
    expect(reply.body.message).toContain('notAField');
    await rejects(
      () => call('POST', `${podsPath}?fieldValidation=Paranoid`, json(validPod()), jsonHeaders),
      400,
      'BadRequest',
    );
  });

  it('a body whose kind or apiVersion does not match the URL is 400 BadRequest', async () => {
    await rejects(
      () => call('POST', podsPath, json({ ...validPod(), kind: 'ConfigMap' }), jsonHeaders),
      400,
      'BadRequest',
    );
    await rejects(
      () => call('POST', podsPath, json({ ...validPod(), apiVersion: 'apps/v1' }), jsonHeaders),
      400,
      'BadRequest',
    );
    await rejects(
      () =>
        call(
          'PUT',
          `${cmPath}/existing`,
          json({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'existing' } }),
          jsonHeaders,
        ),
      400,
      'BadRequest',
    );
  });

  it('a namespace or name differing from the URL is 400 BadRequest', async () => {
    const pod = podFixture({ name: 'fresh', namespace: 'kube-system' });
    await rejects(() => call('POST', podsPath, json(pod), jsonHeaders), 400, 'BadRequest');
    await rejects(
      () =>
        call(
          'PUT',
          `${cmPath}/existing`,
          json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } }),
          jsonHeaders,
        ),
      400,
      'BadRequest',
    );
    await rejects(
      () =>
        call(
          'PUT',
          `${cmPath}/existing`,
          json({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'existing', namespace: 'elsewhere' },
          }),
          jsonHeaders,
        ),
      400,
      'BadRequest',
    );
  });
});

describe('bad query values', () => {
  it.each([
    ['labelSelector=app%20in%20(', 'an unfinished set'],
    ['labelSelector=%3D%3D%3D', 'operators only'],
    ['labelSelector=bad%20key!%3Dx', 'an invalid key'],
    ['fieldSelector=spec.notAField%3Dx', 'an unsupported field'],
    ['fieldSelector=metadata.name', 'no operator'],
    ['fieldSelector=status.phase%3E3', 'an unknown operator'],
    ['limit=-1', 'a negative limit'],
    ['limit=abc', 'a non-numeric limit'],
    ['limit=1.5', 'a fractional limit'],
    ['resourceVersion=garbage', 'a garbage resourceVersion'],
    ['resourceVersion=-7&resourceVersionMatch=Exact', 'a negative resourceVersion'],
    ['resourceVersionMatch=Sometimes&resourceVersion=1', 'an unknown resourceVersionMatch'],
    ['continue=not-a-token', 'a forged continue token'],
    ['timeout=soon', 'a malformed timeout'],
  ])('a list with %s (%s) is 400 BadRequest', async (query) => {
    await rejects(() => call('GET', `${podsPath}?${query}`), 400, 'BadRequest');
  });

  it('resourceVersionMatch without a resourceVersion is 422 Invalid ListOptions, as upstream', async () => {
    const reply = await rejects(
      () => call('GET', `${podsPath}?resourceVersionMatch=NotOlderThan`),
      422,
      'Invalid',
    );
    expect(reply.body.details.kind).toBe('ListOptions');
    expect(causeFields(reply)).toEqual(['resourceVersionMatch']);
  });

  it('a write with a bad dryRun or fieldManager is 400 and writes nothing', async () => {
    await rejects(
      () => call('POST', `${podsPath}?dryRun=Some`, json(validPod()), jsonHeaders),
      400,
      'BadRequest',
    );
    await rejects(
      () => call('POST', `${podsPath}?fieldManager=${'m'.repeat(200)}`, json(validPod()), jsonHeaders),
      400,
      'BadRequest',
    );
  });
});

describe('broken watch parameters', () => {
  it.each([
    ['watch=true&timeoutSeconds=-5'],
    ['watch=true&timeoutSeconds=abc'],
    ['watch=true&resourceVersion=garbage'],
    ['watch=true&labelSelector=a%20in%20('],
    ['watch=true&fieldSelector=spec.bogus%3Dx'],
    ['watch=true&timeout=forever'],
    ['watch=true&allowWatchBookmarks=perhaps'],
  ])('%s is 400 BadRequest before any stream starts', async (query) => {
    await rejects(() => call('GET', `${podsPath}?${query}`), 400, 'BadRequest');
  });

  it('a watch resourceVersion from the future or long gone ends with an ERROR event, not a hang', async () => {
    const reply = await callStream(`${podsPath}?watch=true&resourceVersion=999999999&timeoutSeconds=1`);
    // Either refused outright or streamed; in both cases the server answered in time and keeps serving.
    expect(reply.status).toBeLessThan(500);
    expect((await call('GET', `${podsPath}/existing`)).status).toBe(200);
  });
});

describe('paths and methods', () => {
  it.each([
    [`${podsPath}/../../secrets`, 'a traversal'],
    [`${podsPath}/..`, 'a name of ..'],
    [`${podsPath}/.`, 'a name of .'],
    [`${podsPath}/a%2Fb`, 'an encoded slash in the name'],
    [`${podsPath}/%ff`, 'a non-UTF-8 escape'],
    [`${podsPath}/%zz`, 'a broken escape'],
    ['/api/v1/namespaces//pods', 'an empty namespace'],
    ['/api/v1/namespaces/default/pods/a/status/extra', 'too many segments'],
  ])('%s (%s) is 400 BadRequest', async (path) => {
    await rejects(() => call('GET', path), 400, 'BadRequest');
  });

  it.each([
    ['/api/v1/namespaces/default/widgets', 'an unknown resource'],
    ['/apis/nonexistent.example.com/v1/things', 'an unknown group'],
    ['/api/v9/pods', 'an unknown version'],
    [`${podsPath}/existing/bogus`, 'an unknown subresource'],
    ['/api/v1/namespaces/default/namespaces/x', 'a cluster-scoped resource under a namespace'],
  ])('%s (%s) is 404 NotFound', async (path) => {
    await rejects(() => call('GET', path), 404, 'NotFound');
  });

  it.each([
    ['PROPFIND', podsPath],
    ['OPTIONS', `${podsPath}/existing`],
    ['POST', `${podsPath}/existing`],
    ['PUT', podsPath],
    ['POST', '/version'],
    ['DELETE', '/healthz'],
  ])('%s %s is 405 MethodNotAllowed', async (method, path) => {
    await rejects(
      () =>
        call(method, path, method === 'POST' || method === 'PUT' ? json(validPod()) : undefined, jsonHeaders),
      405,
      'MethodNotAllowed',
    );
  });

  it('a request Node cannot even parse gets a 400 Status and the server keeps serving', async () => {
    const before = await snapshot();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, host, () => socket.end('BREW /api/v1/pods HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(await snapshot()).toEqual(before);
  });
});

describe('random input (fast-check)', () => {
  it('random JSON bodies to create, update and patch never write garbage, crash or answer 5xx', async () => {
    const before = await snapshot();
    const targets = [
      ['POST', podsPath, 'application/json'],
      ['POST', cmPath, 'application/json'],
      ['PUT', `${podsPath}/existing`, 'application/json'],
      ['PATCH', `${podsPath}/existing`, 'application/merge-patch+json'],
      ['PATCH', `${podsPath}/existing`, 'application/strategic-merge-patch+json'],
      ['PATCH', `${podsPath}/existing`, 'application/json-patch+json'],
    ] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets),
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify({ metadata: v })),
        ),
        async ([method, path, type], body) => {
          const reply = await call(method, path, body, { 'Content-Type': type });
          expect(reply.status).toBeLessThan(500);
          if (reply.status >= 400) {
            expect(reply.body).toMatchObject({ kind: 'Status', code: reply.status });
          }
        },
      ),
      { numRuns: 150 },
    );
    // Random bodies essentially never form a valid pod; whatever was accepted, the existing pod is intact.
    const after = await call('GET', `${podsPath}/existing`);
    expect(after.status).toBe(200);
    expect(after.body.spec.containers.length).toBeGreaterThan(0);
    expect(((await snapshot()) as any).podNames).toEqual((before as any).podNames);
  });

  it('random list and watch query strings are answered below 500 and never write', async () => {
    const before = await snapshot();
    const keys = fc.constantFrom(
      'labelSelector',
      'fieldSelector',
      'limit',
      'continue',
      'resourceVersion',
      'resourceVersionMatch',
      'timeoutSeconds',
      'timeout',
      'allowWatchBookmarks',
      'includeObject',
      'dryRun',
      'x',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(keys, fc.string({ maxLength: 12 })), { maxLength: 4 }),
        fc.boolean(),
        async (pairs, watch) => {
          const query = new URLSearchParams(pairs);
          if (watch) query.set('watch', 'true');
          const path = `${podsPath}?${query.toString()}`;
          const reply = watch ? await callStream(path) : await call('GET', path);
          expect(reply.status).toBeLessThan(500);
          if (reply.status >= 400) expect(reply.body).toMatchObject({ kind: 'Status', code: reply.status });
        },
      ),
      { numRuns: 100 },
    );
    expect(await snapshot()).toEqual(before);
  }, 120_000);
});
