// SPDX-License-Identifier: Apache-2.0
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiServer,
  type ApiServerAddress,
  ContainerModule,
  Logger,
  MetricsRegistry,
  Registry,
  Runnable,
  Scheme,
} from '@cpkit/core';
import { ApiHandler } from './api-handler.js';
import { ApiFilterChain, type ApiServerLimits } from './filters/index.js';

/** Options of an {@link HttpApiServer}. @category API server */
export interface HttpApiServerOptions {
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; `0` picks a free one (read it from `address()`). Default `0`. */
  port?: number;
  registry: Registry;
  scheme: Scheme;
  logger?: Logger;
  /** Where `apiserver_*` metrics go; `/metrics` serves this whole registry. Default: a private one. */
  metrics?: MetricsRegistry;
  /** In-flight limits, request timeout and shutdown grace period (upstream's defaults). */
  limits?: ApiServerLimits;
}

/**
 * The Kubernetes REST API over plain HTTP. This is the first stage: no TLS, no authentication and
 * no authorization yet (every request is served as if by an administrator), so bind it to loopback
 * only. Those layers come with later work on issue 4.
 * @category API server
 */
export class HttpApiServer implements ApiServer, Runnable {
  readonly name = 'api-server';
  readonly kubeconfigPath: string | undefined = undefined;
  private server: Server | undefined;
  private bound: ApiServerAddress | undefined;
  private closed: Promise<void> = Promise.resolve();
  private readonly handler: ApiHandler;
  private readonly filters: ApiFilterChain;

  constructor(private readonly options: HttpApiServerOptions) {
    this.handler = new ApiHandler({
      registry: options.registry,
      scheme: options.scheme,
      logger: options.logger,
      serverAddress: () => (this.bound ? `${this.bound.host}:${this.bound.port}` : ''),
    });
    this.filters = new ApiFilterChain((req, res) => this.handler.handle(req, res), {
      ...options.limits,
      scheme: options.scheme,
      metrics: options.metrics,
      logger: options.logger,
    });
  }

  address(): ApiServerAddress | undefined {
    return this.bound ? { ...this.bound } : undefined;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.server) throw new Error('HttpApiServer: already started');
    const server = createServer(this.filters.listener);
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    this.bound = { host, port, protocol: 'http', url: `http://${urlHost}:${port}` };
    this.options.logger?.info(
      { url: this.bound.url },
      'API server listening (plain HTTP, no authentication)',
    );
    this.closed = new Promise<void>((resolve) => {
      const stop = (): void => {
        // Stop accepting, end watches, let in-flight requests finish within the grace period.
        this.filters.beginShutdown();
        server.close(() => resolve());
        this.handler.closeWatches();
        server.closeIdleConnections();
        this.bound = undefined;
        const grace = setTimeout(
          () => server.closeAllConnections(),
          (this.options.limits?.shutdownGracePeriodSeconds ?? 10) * 1000,
        );
        void this.filters.idle().then(() => {
          clearTimeout(grace);
          server.closeAllConnections();
        });
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
  }

  stopped(): Promise<void> {
    return this.closed;
  }
}

/** Options of {@link apiServerModule}. @category API server */
export interface ApiServerModuleOptions {
  host?: string;
  port?: number;
  limits?: ApiServerLimits;
}

/**
 * Binds an {@link HttpApiServer} as the `ApiServer` and as a `Runnable`, on the container's
 * Registry, Scheme and (when bound) Logger.
 * @category API server
 */
export function apiServerModule(options: ApiServerModuleOptions = {}): ContainerModule {
  return new ContainerModule((bind) => {
    bind(HttpApiServer)
      .toDynamicValue(
        (context) =>
          new HttpApiServer({
            ...options,
            registry: context.container.get<Registry>(Registry),
            scheme: context.container.get<Scheme>(Scheme),
            logger: context.container.isBound(Logger) ? context.container.get<Logger>(Logger) : undefined,
            metrics: context.container.isBound(MetricsRegistry)
              ? context.container.get<MetricsRegistry>(MetricsRegistry)
              : undefined,
          }),
      )
      .inSingletonScope();
    bind(ApiServer).toService(HttpApiServer);
    bind(Runnable).toService(HttpApiServer);
  });
}
