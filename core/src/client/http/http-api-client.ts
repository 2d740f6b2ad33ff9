// SPDX-License-Identifier: Apache-2.0
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import jsonPatch from 'fast-json-patch';
import jsonMergePatch from 'json-merge-patch';
import type { Binding } from 'kubernetes-types/core/v1.js';
import { Observable } from 'rxjs';
import { registerBuiltinKinds } from '../../api/builtin-kinds.js';
import type { KindReference, KubeList, KubeObject } from '../../api/object.js';
import { DefaultScheme, type RegisteredKind, type Scheme } from '../../api/scheme.js';
import type {
  ApiClient,
  CreateOptions,
  DeleteOptions,
  GetOptions,
  ListOptions,
  PatchOptions,
  PatchType,
  UpdateOptions,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../../contracts/api-client.js';
import {
  errors,
  isStatusError,
  type Status,
  StatusError,
  type StatusReason,
  statusCodeForReason,
} from '../../errors/status-error.js';
import type { HttpConnectionOptions } from './kubeconfig.js';

/**
 * Options of an {@link HttpApiClient}: where the server is, how to authenticate, and how to behave.
 * @category Client
 */
export interface HttpApiClientOptions extends HttpConnectionOptions {
  /**
   * The kinds the client can address, for the kind → resource mapping (no discovery round-trip).
   * Default: a scheme with cpkit's built-in kinds. Register custom kinds in it to use them.
   */
  scheme?: Scheme;
  /** Milliseconds a non-watch call may take before it fails with `Timeout` (504). Default 30000. */
  requestTimeoutMs?: number;
  /** Milliseconds a watch may wait for its response headers. Default: `requestTimeoutMs`. */
  watchConnectTimeoutMs?: number;
  /** Idle keep-alive connections kept open per host. Default 16. */
  maxFreeSockets?: number;
  /** Attempts of a `finalize` patch (read, patch, replace) before a `Conflict` is returned. Default 5. */
  maxConflictRetries?: number;
  /** `User-Agent` header. Default `cpkit-http-api-client`. */
  userAgent?: string;
}

const statusReasonByCode = new Map<number, StatusReason>(
  (Object.entries(statusCodeForReason) as [StatusReason, number][])
    // The first reason per code is the generic one (409 → AlreadyExists is not generic, Conflict is).
    .filter(([reason]) => !['AlreadyExists', 'Gone', 'Unknown'].includes(reason))
    .map(([reason, code]) => [code, reason]),
);

/** The StatusError of a non-2xx reply: the Status body when there is one, else one built from the code. */
function errorFromReply(code: number, body: string): StatusError {
  try {
    const parsed = JSON.parse(body) as Partial<Status>;
    if (parsed && parsed.kind === 'Status') {
      return StatusError.fromStatus({
        reason: parsed.reason,
        message: parsed.message,
        details: parsed.details,
        code: typeof parsed.code === 'number' && parsed.code > 0 ? parsed.code : code,
      });
    }
  } catch {
    // not JSON: fall through
  }
  const reason = statusReasonByCode.get(code) ?? (code >= 500 ? 'InternalError' : 'BadRequest');
  const message = body.trim().slice(0, 1000) || `the server responded with HTTP ${code}`;
  return new StatusError(reason, message, undefined, code);
}

interface Reply {
  code: number;
  body: string;
}

interface RequestSpec {
  method: string;
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  contentType?: string;
}

function writeQuery(options: WriteOptions | undefined, query = new URLSearchParams()): URLSearchParams {
  if (options?.dryRun?.length) query.set('dryRun', 'All');
  if (options?.fieldManager) query.set('fieldManager', options.fieldManager);
  return query;
}

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
};

/**
 * The HTTP transport of the {@link ApiClient}: the same calls as the in-process client, made against
 * any Kubernetes-compatible API server (cpkit's `HttpApiServer` or a real kube-apiserver) over HTTP or
 * HTTPS. This is what lets the scheduler and controllers run in their own processes.
 *
 * - Connections are kept alive and reused (one `node:http`/`node:https` agent per client); call
 *   {@link HttpApiClient.close} to drop them.
 * - TLS: a CA bundle, a client certificate and key (mutual TLS), a bearer token, or no verification
 *   (`insecureSkipTlsVerify`); {@link loadKubeconfig} reads all of it from a kubeconfig.
 * - Kinds map to URLs through the {@link Scheme} (built-in kinds by default), so no discovery call is made.
 * - Every non-2xx reply rejects with the {@link StatusError} of the server's `Status` (reason, code,
 *   causes); connection failures are `ServiceUnavailable`, calls over `requestTimeoutMs` are `Timeout`.
 * - Watches stream one JSON event per line; an `ERROR` event (e.g. 410 `Expired` when the
 *   resourceVersion was compacted) errors the Observable with its StatusError; the server closing the
 *   stream completes it.
 * @category Client
 */
export class HttpApiClient implements ApiClient {
  private readonly scheme: Scheme;
  private readonly base: URL;
  private readonly agent: HttpAgent;
  private readonly secure: boolean;
  private readonly requestTimeoutMs: number;
  private readonly watchConnectTimeoutMs: number;
  private readonly maxConflictRetries: number;
  private readonly headers: Record<string, string>;

  constructor(options: HttpApiClientOptions) {
    let base: URL;
    try {
      base = new URL(options.server);
    } catch {
      throw errors.badRequest(`server: not a URL: ${JSON.stringify(options.server)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw errors.badRequest(`server: expected an http:// or https:// URL, got ${options.server}`);
    }
    if (Boolean(options.clientCertPem) !== Boolean(options.clientKeyPem)) {
      throw errors.badRequest('clientCertPem and clientKeyPem must be given together');
    }
    this.base = base;
    this.secure = base.protocol === 'https:';
    this.requestTimeoutMs = positive(options.requestTimeoutMs, 30_000, 'requestTimeoutMs');
    this.watchConnectTimeoutMs = positive(
      options.watchConnectTimeoutMs,
      this.requestTimeoutMs,
      'watchConnectTimeoutMs',
    );
    this.maxConflictRetries = positive(options.maxConflictRetries, 5, 'maxConflictRetries');
    const agentOptions = { keepAlive: true, maxFreeSockets: options.maxFreeSockets ?? 16 };
    this.agent = this.secure
      ? new HttpsAgent({
          ...agentOptions,
          ca: options.caPem,
          cert: options.clientCertPem,
          key: options.clientKeyPem,
          rejectUnauthorized: !options.insecureSkipTlsVerify,
          servername: options.tlsServerName,
        })
      : new HttpAgent(agentOptions);
    this.headers = {
      Accept: 'application/json',
      'User-Agent': options.userAgent ?? 'cpkit-http-api-client',
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
    };
    if (options.scheme) {
      this.scheme = options.scheme;
    } else {
      this.scheme = new DefaultScheme();
      registerBuiltinKinds(this.scheme);
    }
  }

  /** The server's base URL. */
  get server(): string {
    return this.base.toString();
  }

  /** Closes idle keep-alive connections and every later connection the agent would keep. */
  close(): void {
    this.agent.destroy();
  }

  async get<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: GetOptions,
  ): Promise<T> {
    const resolved = this.scheme.resolve(kind);
    const query = new URLSearchParams();
    if (options?.resourceVersion !== undefined) query.set('resourceVersion', options.resourceVersion);
    return this.json<T>({
      method: 'GET',
      path: this.path(resolved, options?.namespace ?? 'default', name),
      query,
    });
  }

  async list<T extends KubeObject = KubeObject>(
    kind: KindReference,
    options?: ListOptions,
  ): Promise<KubeList<T>> {
    const resolved = this.scheme.resolve(kind);
    const query = new URLSearchParams();
    if (options?.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options?.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    if (options?.limit !== undefined) query.set('limit', String(options.limit));
    if (options?.continue) query.set('continue', options.continue);
    if (options?.resourceVersion !== undefined) query.set('resourceVersion', options.resourceVersion);
    if (options?.resourceVersionMatch) query.set('resourceVersionMatch', options.resourceVersionMatch);
    return this.json<KubeList<T>>({ method: 'GET', path: this.path(resolved, options?.namespace), query });
  }

  async create<T extends KubeObject>(object: T, options?: CreateOptions): Promise<T> {
    const kind = this.scheme.kindOfObject(object);
    const namespace = options?.namespace ?? object.metadata?.namespace ?? 'default';
    return this.json<T>({
      method: 'POST',
      path: this.path(kind, namespace),
      query: writeQuery(options),
      body: object,
    });
  }

  async update<T extends KubeObject>(object: T, options?: UpdateOptions): Promise<T> {
    return this.replace(object, undefined, options);
  }

  async updateStatus<T extends KubeObject>(object: T, options?: UpdateOptions): Promise<T> {
    return this.replace(object, 'status', options);
  }

  async patch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    type: PatchType,
    patch: unknown,
    options?: PatchOptions,
  ): Promise<T> {
    const resolved = this.scheme.resolve(kind);
    if (!(type in patchContentTypes)) {
      throw errors.unsupportedMediaType(`patch type ${JSON.stringify(type)}: supported types: merge, json`);
    }
    const namespace = options?.namespace ?? 'default';
    if (options?.subresource === 'finalize')
      return this.patchFinalize<T>(resolved, name, type, patch, options);
    return this.json<T>({
      method: 'PATCH',
      path: this.path(resolved, namespace, name, options?.subresource),
      query: writeQuery(options),
      body: patch,
      contentType: patchContentTypes[type],
    });
  }

  async bind(binding: Binding, options?: CreateOptions): Promise<void> {
    const namespace = options?.namespace ?? binding.metadata?.namespace ?? 'default';
    const name = binding.metadata?.name;
    if (!name) {
      throw errors.invalid('Binding', '', [
        { reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value' },
      ]);
    }
    const pods = this.scheme.resolve({ group: '', version: 'v1', kind: 'Pod' });
    await this.json({
      method: 'POST',
      path: this.path(pods, namespace, name, 'binding'),
      query: writeQuery(options),
      body: { apiVersion: 'v1', kind: 'Binding', ...binding },
    });
  }

  async delete<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: DeleteOptions,
  ): Promise<T> {
    const resolved = this.scheme.resolve(kind);
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options?.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options?.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    if (options?.preconditions) body.preconditions = options.preconditions;
    if (options?.dryRun?.length) body.dryRun = ['All'];
    return this.json<T>({
      method: 'DELETE',
      path: this.path(resolved, options?.namespace ?? 'default', name),
      query: writeQuery(options?.fieldManager ? { fieldManager: options.fieldManager } : undefined),
      body,
    });
  }

  watch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    options?: WatchOptions,
  ): Observable<WatchEvent<T>> {
    return new Observable<WatchEvent<T>>((subscriber) => {
      let request: ClientRequest | undefined;
      let finished = false;
      const fail = (error: unknown): void => {
        if (finished) return;
        finished = true;
        subscriber.error(isStatusError(error) ? error : StatusError.from(error));
      };
      try {
        const resolved = this.scheme.resolve(kind);
        const query = new URLSearchParams({ watch: 'true' });
        if (options?.labelSelector) query.set('labelSelector', options.labelSelector);
        if (options?.fieldSelector) query.set('fieldSelector', options.fieldSelector);
        if (options?.resourceVersion !== undefined) query.set('resourceVersion', options.resourceVersion);
        if (options?.allowWatchBookmarks) query.set('allowWatchBookmarks', 'true');
        if (options?.timeoutSeconds !== undefined)
          query.set('timeoutSeconds', String(options.timeoutSeconds));
        const path = this.path(resolved, options?.namespace);
        request = this.open({ method: 'GET', path, query }, this.watchConnectTimeoutMs, (response) => {
          if ((response.statusCode ?? 0) >= 300) {
            readAll(response).then((body) => fail(errorFromReply(response.statusCode ?? 500, body)), fail);
            return;
          }
          response.setEncoding('utf8');
          let buffered = '';
          const onLine = (line: string): void => {
            if (finished || line.trim() === '') return;
            let event: { type?: string; object?: unknown };
            try {
              event = JSON.parse(line) as typeof event;
            } catch {
              fail(errors.internal(`the watch sent a line that is not JSON: ${line.slice(0, 200)}`));
              request?.destroy();
              return;
            }
            if (event.type === 'ERROR') {
              const status = (event.object ?? {}) as Partial<Status>;
              fail(
                StatusError.fromStatus({
                  reason: status.reason,
                  message: status.message,
                  details: status.details,
                  code: status.code ?? 500,
                }),
              );
              request?.destroy();
              return;
            }
            subscriber.next(event as WatchEvent<T>);
          };
          response.on('data', (chunk: string) => {
            buffered += chunk;
            let newline = buffered.indexOf('\n');
            while (newline >= 0 && !finished) {
              onLine(buffered.slice(0, newline));
              buffered = buffered.slice(newline + 1);
              newline = buffered.indexOf('\n');
            }
          });
          response.on('end', () => {
            if (buffered) onLine(buffered);
            if (!finished) {
              finished = true;
              subscriber.complete();
            }
          });
          response.on('error', fail);
          response.on('aborted', () => fail(errors.serviceUnavailable('the watch connection was cut')));
        });
        request.on('error', (error) => fail(connectionError(this.base, error)));
      } catch (error) {
        fail(error);
      }
      return () => {
        finished = true;
        request?.destroy();
      };
    });
  }

  // -----------------------------------------------------------------------------------------------

  private async replace<T extends KubeObject>(
    object: T,
    subresource: string | undefined,
    options: UpdateOptions | undefined,
  ): Promise<T> {
    const kind = this.scheme.kindOfObject(object);
    const name = object.metadata?.name;
    if (!name) {
      throw errors.invalid(kind.kind, '', [
        { reason: 'FieldValueRequired', field: 'metadata.name', message: 'name or generateName is required' },
      ]);
    }
    return this.json<T>({
      method: 'PUT',
      path: this.path(kind, object.metadata?.namespace ?? 'default', name, subresource),
      query: writeQuery(options),
      body: object,
    });
  }

  /**
   * `namespaces/{name}/finalize` accepts only PUT (upstream serves no PATCH there), so the patch is
   * applied here to the current object and written back under its resourceVersion, retried on conflict.
   */
  private async patchFinalize<T extends KubeObject>(
    kind: RegisteredKind,
    name: string,
    type: PatchType,
    patch: unknown,
    options: PatchOptions,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<KubeObject>(kind, name, { namespace: options.namespace });
      let next: KubeObject;
      try {
        next =
          type === 'merge'
            ? (jsonMergePatch.apply(structuredClone(current), patch) as KubeObject)
            : jsonPatch.applyPatch(structuredClone(current), patch as jsonPatch.Operation[], true, true)
                .newDocument;
      } catch (error) {
        throw errors.badRequest(
          `the patch cannot be applied: ${error instanceof Error ? error.message : error}`,
        );
      }
      next.metadata = {
        ...next.metadata,
        resourceVersion: next.metadata?.resourceVersion ?? current.metadata?.resourceVersion,
      };
      try {
        return await this.json<T>({
          method: 'PUT',
          path: this.path(kind, options.namespace ?? 'default', name, 'finalize'),
          query: writeQuery(options),
          body: next,
        });
      } catch (error) {
        const pinned = (patch as { metadata?: { resourceVersion?: string } } | null)?.metadata
          ?.resourceVersion;
        if (!isStatusError(error, 'Conflict') || pinned || attempt + 1 >= this.maxConflictRetries)
          throw error;
      }
    }
  }

  /** `/api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]`, or the `/apis/{group}/...` form. */
  private path(kind: RegisteredKind, namespace?: string, name?: string, subresource?: string): string {
    const root = kind.group === '' ? `/api/${kind.version}` : `/apis/${kind.group}/${kind.version}`;
    const parts = [root];
    if (kind.namespaced && namespace) parts.push('namespaces', encodeURIComponent(namespace));
    parts.push(kind.resource);
    if (name !== undefined) {
      if (name === '') throw errors.badRequest('resource name may not be empty');
      parts.push(encodeURIComponent(name));
      if (subresource) parts.push(subresource);
    }
    return parts.join('/');
  }

  private async json<T>(spec: RequestSpec): Promise<T> {
    const reply = await this.send(spec);
    if (reply.code < 200 || reply.code >= 300) throw errorFromReply(reply.code, reply.body);
    try {
      return JSON.parse(reply.body) as T;
    } catch {
      throw errors.internal(`the server sent a reply that is not JSON: ${reply.body.slice(0, 200)}`);
    }
  }

  /** One request with the call timeout; retried once when a reused keep-alive socket was reset. */
  private send(spec: RequestSpec, retried = false): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      let settled = false;
      const settle = (action: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        action();
      };
      const request = this.open(spec, this.requestTimeoutMs, (response) => {
        readAll(response).then(
          (body) => settle(() => resolve({ code: response.statusCode ?? 500, body })),
          (error: unknown) => settle(() => reject(connectionError(this.base, error))),
        );
      });
      const timer = setTimeout(() => {
        settle(() =>
          reject(
            errors.timeout(
              `${spec.method} ${spec.path}: no complete reply within ${this.requestTimeoutMs} ms`,
            ),
          ),
        );
        request.destroy();
      }, this.requestTimeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (!retried && request.reusedSocket && error.code === 'ECONNRESET') {
          settle(() => this.send(spec, true).then(resolve, reject));
          return;
        }
        settle(() => reject(connectionError(this.base, error)));
      });
    });
  }

  private open(
    spec: RequestSpec,
    connectTimeoutMs: number,
    onResponse: (response: IncomingMessage) => void,
  ): ClientRequest {
    const prefix = this.base.pathname.replace(/\/$/, '');
    const search = spec.query?.toString();
    const headers: Record<string, string> = { ...this.headers };
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    if (payload !== undefined) {
      headers['Content-Type'] = spec.contentType ?? 'application/json';
      // Explicit: Node sends a DELETE body with neither Content-Length nor chunked encoding otherwise.
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const request = (this.secure ? httpsRequest : httpRequest)(
      {
        protocol: this.base.protocol,
        hostname: this.base.hostname.replace(/^\[|\]$/g, ''),
        port: this.base.port || (this.secure ? 443 : 80),
        method: spec.method,
        path: `${prefix}${spec.path}${search ? `?${search}` : ''}`,
        headers,
        agent: this.agent,
      },
      onResponse,
    );
    // Until the response starts, an idle socket this long means the server is not answering.
    request.setTimeout(connectTimeoutMs, () => {
      request.destroy(errors.timeout(`${spec.method} ${spec.path}: no reply within ${connectTimeoutMs} ms`));
    });
    request.on('response', () => request.setTimeout(0));
    request.end(payload);
    return request;
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw errors.badRequest(`${name} must be a positive number`);
  return value;
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('the connection was cut mid-reply')));
  });
}

function connectionError(base: URL, error: unknown): StatusError {
  if (isStatusError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return errors.serviceUnavailable(`cannot reach the API server at ${base.origin}: ${message}`);
}
