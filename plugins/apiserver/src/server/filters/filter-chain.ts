// SPDX-License-Identifier: Apache-2.0
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  createMetricsRegistry,
  errors,
  type Logger,
  type MetricsRegistry,
  type Scheme,
  StatusError,
} from '@cpkit/core';
import { ApiServerMetrics } from './api-metrics.js';
import { parseGoDuration } from './duration.js';
import { classifyRequest } from './request-class.js';

/**
 * Robustness limits of the API server, with upstream's defaults.
 * @category API server
 */
export interface ApiServerLimits {
  /** Most read-only requests (get, list) served at once; more get 429. Default 400; 0 = no limit. */
  maxRequestsInFlight?: number;
  /** Most mutating requests served at once; more get 429. Default 200; 0 = no limit. */
  maxMutatingRequestsInFlight?: number;
  /**
   * Time a non-long-running request may take before it is answered 504 Timeout. A request's
   * `timeout` query parameter (a Go duration such as `30s`) may shorten it. Default 60.
   */
  requestTimeoutSeconds?: number;
  /** On shutdown, how long in-flight requests may take to finish before connections are cut. Default 10. */
  shutdownGracePeriodSeconds?: number;
}

/** Options of an {@link ApiFilterChain}. @category API server */
export interface ApiFilterChainOptions extends ApiServerLimits {
  /** Tells served resources from unknown ones, which share one metric label. */
  scheme: Scheme;
  /** Where the request metrics go and what `/metrics` serves. Default: a private registry. */
  metrics?: MetricsRegistry;
  logger?: Logger;
  /**
   * Authenticates and authorizes `/metrics` scrapes (which the chain answers itself); throws a
   * StatusError to refuse. Default: open.
   */
  authorizeMetrics?: (req: IncomingMessage) => Promise<void>;
  /**
   * Authenticates a request before it counts against the in-flight limits (as upstream's filter
   * order: authentication, then max-in-flight): a request without valid credentials gets its 401
   * without taking a slot. Throws a StatusError to refuse. Default: none (the handler decides).
   */
  authenticate?: (req: IncomingMessage) => Promise<unknown>;
}

/** A request handler that never rejects (every failure is a reply), such as `ApiHandler.handle`. */
export type ApiRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

type RequestKind = 'readOnly' | 'mutating';

/** Paths that must answer under any load (probes and scrapes): no in-flight limit, no timeout. */
const exemptPaths = new Set(['/healthz', '/livez', '/readyz', '/metrics']);

function pathOf(url: string): string {
  const end = url.indexOf('?');
  const path = end === -1 ? url : url.slice(0, end);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function sendStatus(res: ServerResponse, error: StatusError, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(error.toStatus());
  res.writeHead(error.code, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** After a 504 went out, the handler's late reply must go nowhere (and not break the connection). */
function silence(res: ServerResponse): void {
  const self = res as unknown as Record<string, unknown>;
  self.writeHead = () => res;
  self.setHeader = () => res;
  self.flushHeaders = () => undefined;
  self.write = () => true;
  self.end = () => res;
}

/**
 * Counts what a reply's `write`/`end` calls carry, for `apiserver_response_sizes`. A string counts
 * its length: exact for the ASCII JSON replies, and the metric's buckets are powers of ten anyway.
 */
function countBytes(res: ServerResponse): () => number {
  let bytes = 0;
  const add = (chunk: unknown): void => {
    if (typeof chunk === 'string') bytes += chunk.length;
    else if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
  };
  const write = res.write;
  const end = res.end;
  const self = res as unknown as Record<string, unknown>;
  self.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    add(chunk);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  self.end = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') add(chunk);
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  };
  return () => bytes;
}

/**
 * The filters upstream's API server puts before its handlers, as one Node request listener:
 * `/metrics`, request metrics, in-flight limits (429 with `Retry-After`), request timeouts (504),
 * the `timeout` parameter on watches, and the bookkeeping graceful shutdown needs.
 * @category API server
 */
export class ApiFilterChain {
  readonly metrics: ApiServerMetrics;
  private readonly inflight: Record<RequestKind, number> = { readOnly: 0, mutating: 0 };
  private readonly limits: Record<RequestKind, number>;
  private readonly timeoutMs: number;
  private active = 0;
  private shuttingDown = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handler: ApiRequestHandler,
    private readonly options: ApiFilterChainOptions,
  ) {
    this.metrics = new ApiServerMetrics(options.metrics ?? createMetricsRegistry());
    this.limits = {
      readOnly: options.maxRequestsInFlight ?? 400,
      mutating: options.maxMutatingRequestsInFlight ?? 200,
    };
    this.timeoutMs = (options.requestTimeoutSeconds ?? 60) * 1000;
  }

  /** The Node request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const path = pathOf(req.url ?? '/');
    const request = classifyRequest(req, this.options.scheme);
    const authenticate = this.options.authenticate;
    if (authenticate === undefined || path === '/metrics') {
      this.serve(req, res, started, path, request);
      return;
    }
    authenticate(req).then(
      () => this.serve(req, res, started, path, request),
      (error: unknown) => {
        sendStatus(res, StatusError.from(error));
        this.metrics.observe(request.labels, res.statusCode, (performance.now() - started) / 1000, undefined);
      },
    );
  };

  private serve(
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    path: string,
    request: ReturnType<typeof classifyRequest>,
  ): void {
    const { labels, longRunning } = request;
    const kind: RequestKind = request.readOnly ? 'readOnly' : 'mutating';
    const limited = !longRunning && !exemptPaths.has(path);
    if (limited) {
      const limit = this.limits[kind];
      if (limit > 0 && this.inflight[kind] >= limit) {
        this.metrics.rejected.inc({ request_kind: kind });
        sendStatus(res, errors.tooManyRequests('Too many requests, please try again later.', 1), {
          'Retry-After': '1',
        });
        this.metrics.observe(labels, 429, (performance.now() - started) / 1000, undefined);
        return;
      }
      this.inflight[kind]++;
      this.metrics.inflight.set({ request_kind: kind }, this.inflight[kind]);
    }
    this.active++;
    if (this.shuttingDown) res.setHeader('Connection', 'close');
    const endLongRunning = longRunning ? this.metrics.startLongRunning(labels) : undefined;
    const responseBytes = labels.verb === 'GET' || labels.verb === 'LIST' ? countBytes(res) : undefined;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    res.once('close', () => {
      if (timer) clearTimeout(timer);
      if (limited) {
        this.inflight[kind]--;
        this.metrics.inflight.set({ request_kind: kind }, this.inflight[kind]);
      }
      endLongRunning?.();
      this.metrics.observe(
        labels,
        timedOut ? 504 : res.statusCode,
        (performance.now() - started) / 1000,
        responseBytes?.(),
      );
      this.active--;
      if (this.active === 0) this.wakeIdleWaiters();
    });
    try {
      if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
        void this.serveMetrics(req, res);
        return;
      }
      const timeoutMs = this.requestTimeout(req, longRunning);
      if (timeoutMs !== undefined && limited) {
        timer = setTimeout(() => {
          if (res.headersSent || res.writableEnded) return;
          timedOut = true;
          sendStatus(
            res,
            errors.timeout(
              'Timeout: request did not complete within requested timeout - context deadline exceeded',
            ),
          );
          silence(res);
        }, timeoutMs);
        timer.unref();
      }
    } catch (error) {
      sendStatus(res, StatusError.from(error));
      return;
    }
    this.handler(req, res).catch((error: unknown) => {
      this.options.logger?.error({ err: error, url: req.url }, 'request handler rejected');
      if (!res.headersSent) sendStatus(res, StatusError.from(error));
    });
  }

  /** Requests being served now, long-running ones included. */
  get activeRequests(): number {
    return this.active;
  }

  /** From now on every reply carries `Connection: close`, so keep-alive clients go away. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Resolves once no request is being served. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * The request's deadline in ms: the default, shortened by a valid `timeout` parameter. On a watch,
   * `timeout` becomes `timeoutSeconds` (unless that is given, which wins as upstream) and there is
   * no deadline here.
   * @throws StatusError `BadRequest` for a malformed `timeout`.
   */
  private requestTimeout(req: IncomingMessage, longRunning: boolean): number | undefined {
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const query = queryStart === -1 ? undefined : new URLSearchParams(url.slice(queryStart + 1));
    const raw = query?.get('timeout');
    const requested = raw ? parseGoDuration(raw) : undefined;
    if (longRunning) {
      if (query && requested !== undefined && requested > 0 && !query.get('timeoutSeconds')) {
        query.set('timeoutSeconds', String(Math.ceil(requested / 1000)));
        req.url = `${url.slice(0, queryStart)}?${query.toString()}`;
      }
      return undefined;
    }
    // Like upstream: a non-positive or too long timeout falls back to the server's default.
    if (requested !== undefined && requested > 0 && requested < this.timeoutMs) return requested;
    return this.timeoutMs > 0 ? this.timeoutMs : undefined;
  }

  private async serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.options.authorizeMetrics?.(req);
      const text = await this.metrics.registry.metrics();
      res.writeHead(200, {
        'Content-Type': this.metrics.registry.contentType,
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    } catch (error) {
      if (!res.headersSent) sendStatus(res, StatusError.from(error));
    }
  }
}
