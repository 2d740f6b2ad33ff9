// SPDX-License-Identifier: Apache-2.0
// Test support (not exported, not built): the API server over the real registry and the embedded store
// for the HTTP tests of this package, either plain HTTP with AlwaysAllow (to test REST semantics) or
// with its defaults (HTTPS, a token file, RBAC) to test the security layers, and a request helper each.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '@cpkit/core';
import {
  startTestControlPlane,
  type TestControlPlane,
  type TestControlPlaneOptions,
} from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import { afterAll, beforeAll } from 'vitest';
import { apiServerModule, HttpApiServer } from '../server/http-api-server.js';

/** What a plain-HTTP request got back. */
export interface ApiReply {
  status: number;
  contentType: string;
  headers: Headers;
  /** The texts of the `Warning: 299 - "..."` headers. */
  warnings: string[];
  /** Parsed JSON for JSON content types (undefined when empty), the text otherwise. */
  // biome-ignore lint/suspicious/noExplicitAny: JSON replies, checked by the assertions
  body: any;
}

/** The API server on plain HTTP, anonymous and AlwaysAllow, with `call` against its address. */
export interface PlainApiServer {
  readonly cp: TestControlPlane;
  readonly server: HttpApiServer;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /**
   * Sends `body` (a string as is, anything else as JSON; Content-Type `application/json` unless
   * `headers` set another) and reads the whole reply.
   */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiReply>;
  stop(): Promise<void>;
}

/** Options of {@link startPlainApiServer}. */
export interface PlainApiServerOptions {
  /** The store; default a fresh in-memory embedded store. */
  store?: () => Promise<Store>;
  registry?: TestControlPlaneOptions['registry'];
}

/** Sends one request to `${base}${path}` with fetch and reads the reply (see {@link PlainApiServer.call}). */
export async function callApi(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiReply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  const warning = response.headers.get('warning');
  return {
    status: response.status,
    contentType,
    headers: response.headers,
    // fetch joins repeated headers with ", "; each value is `299 - "<quoted>"`.
    warnings: warning
      ? [...warning.matchAll(/299 - ("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!))
      : [],
    body: contentType.includes('json') ? (text ? JSON.parse(text) : undefined) : text,
  };
}

/** Starts a control plane with the API server on a free port over plain HTTP, anyone allowed everything. */
export async function startPlainApiServer(options: PlainApiServerOptions = {}): Promise<PlainApiServer> {
  const cp = await startTestControlPlane({
    store: await (options.store ?? (() => openEmbeddedStore()))(),
    modules: [apiServerModule({ port: 0, tls: false, anonymous: true, authorization: 'AlwaysAllow' })],
    ...(options.registry ? { registry: options.registry } : {}),
  });
  const server = cp.controlPlane.get<HttpApiServer>(HttpApiServer);
  const address = server.address();
  if (!address) throw new Error('the API server reports no address');
  return {
    cp,
    server,
    base: address.url,
    call: (method, path, body, headers) => callApi(address.url, method, path, body, headers),
    stop: () => cp.stop(),
  };
}

/**
 * {@link startPlainApiServer} once for the calling test file (beforeAll, stopped in afterAll). `call`
 * may be taken at once (`const { call } = usePlainApiServer()`); every member works from the tests
 * and from the hooks that run after that beforeAll.
 */
export function usePlainApiServer(options: PlainApiServerOptions = {}): PlainApiServer {
  return perFile(() => startPlainApiServer(options), ['cp', 'server', 'base'], ['call', 'stop']);
}

/** What an HTTPS request got back. */
export interface SecureReply {
  code: number;
  /** Parsed JSON for JSON content types (`{}` when empty), the text otherwise. */
  // biome-ignore lint/suspicious/noExplicitAny: JSON replies, checked by the assertions
  body: any;
}

/** The API server with its defaults (HTTPS with its own CA, token file, RBAC) and `call` over HTTPS. */
export interface SecureApiServer {
  readonly cp: TestControlPlane;
  readonly server: HttpApiServer;
  /** A private directory (data dir and token file), removed on stop. */
  readonly dir: string;
  /** `https://127.0.0.1:<port>`. */
  readonly base: string;
  /** The CA certificate (PEM) the serving certificate chains to. */
  readonly ca: string;
  /** One request as the bearer of `token` (none: anonymous); a body is sent as JSON. */
  call(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    headers?: Record<string, string | string[]>,
  ): Promise<SecureReply>;
  stop(): Promise<void>;
}

/** Starts a control plane with the API server on defaults, its token file holding `tokens` (CSV lines). */
export async function startSecureApiServer(tokens: string): Promise<SecureApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'cpkit-secure-'));
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(tokenFile, tokens);
  const cp = await startTestControlPlane({
    store: await openEmbeddedStore(),
    modules: [apiServerModule({ port: 0, dataDir: join(dir, 'data'), tokenFile })],
  });
  const server = cp.controlPlane.get<HttpApiServer>(HttpApiServer);
  const base = server.address()?.url ?? '';
  const ca = server.pki?.caCertPem ?? '';
  return {
    cp,
    server,
    dir,
    base,
    ca,
    call: (method, path, token, body, headers = {}) =>
      new Promise((resolve, reject) => {
        const req = request(
          `${base}${path}`,
          {
            method,
            ca,
            headers: {
              ...(token ? { Authorization: `Bearer ${token}` } : {}),
              ...(body ? { 'Content-Type': 'application/json' } : {}),
              ...headers,
            },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => {
              text += chunk.toString();
            });
            res.on('end', () => {
              const json = (res.headers['content-type'] ?? '').includes('json');
              resolve({ code: res.statusCode ?? 0, body: json ? JSON.parse(text || '{}') : text });
            });
          },
        );
        req.on('error', reject);
        req.end(body ? JSON.stringify(body) : undefined);
      }),
    async stop() {
      await cp.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** {@link startSecureApiServer} once for the calling test file (beforeAll, stopped in afterAll). */
export function useSecureApiServer(tokens: string): SecureApiServer {
  return perFile(() => startSecureApiServer(tokens), ['cp', 'server', 'dir', 'base', 'ca'], ['call', 'stop']);
}

/**
 * Starts in beforeAll and stops in afterAll; the handle reads `fields` of the started value and
 * forwards `methods` to it (so methods may be taken from the handle before it starts).
 */
function perFile<T extends { stop(): Promise<void> }>(
  start: () => Promise<T>,
  fields: (keyof T & string)[],
  methods: (keyof T & string)[],
): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const need = (member: string): T => {
    if (!started) throw new Error(`the test API server starts in beforeAll; ${member} was used before`);
    return started;
  };
  const handle = {} as T;
  for (const field of fields) {
    Object.defineProperty(handle, field, { enumerable: true, get: () => need(field)[field] });
  }
  for (const method of methods) {
    const forward = (...args: unknown[]): unknown =>
      (need(method)[method] as (...args: unknown[]) => unknown)(...args);
    Object.defineProperty(handle, method, { enumerable: true, value: forward });
  }
  return handle;
}
