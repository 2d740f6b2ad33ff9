// SPDX-License-Identifier: Apache-2.0
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  AdmissionPlugin,
  ApiServer,
  type ApiServerAddress,
  Authenticator,
  Authorizer,
  ContainerModule,
  Logger,
  MetricsRegistry,
  Registry,
  Runnable,
  Scheme,
} from '@cpkit/core';
import { RbacEscalationCheck } from '../auth/rbac-escalation.js';
import {
  prepareServerSecurity,
  type ServerSecurity,
  type ServerSecurityOptions,
} from '../auth/server-security.js';
import { ApiHandler } from './api-handler.js';
import {
  ApiFilterChain,
  type ApiServerLimits,
  answerClientError,
  authorizeFilterRequest,
} from './filters/index.js';

/**
 * Options of an {@link HttpApiServer}. The security settings ({@link ServerSecurityOptions}) default
 * to HTTPS, client certificates + service-account tokens, no anonymous access, and RBAC.
 * @category API server
 */
export interface HttpApiServerOptions extends ServerSecurityOptions {
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
 * The Kubernetes REST API, secure by default: HTTPS with a CA and serving certificate generated on
 * first start (in `dataDir`), every request authenticated (client certificates, token file,
 * service-account tokens; anonymous only when enabled) and authorized (RBAC with upstream's default
 * roles, or AlwaysAllow for development). `tls: false` serves plain HTTP for tests.
 * @category API server
 */
export class HttpApiServer implements ApiServer, Runnable {
  readonly name = 'api-server';
  private writtenKubeconfig: string | undefined;
  private security: ServerSecurity | undefined;
  private server: Server | HttpsServer | undefined;
  private bound: ApiServerAddress | undefined;
  private closed: Promise<void> = Promise.resolve();
  /** Created on start, once authentication and authorization are ready. */
  private handler!: ApiHandler;
  private readonly filters: ApiFilterChain;

  constructor(private readonly options: HttpApiServerOptions) {
    this.filters = new ApiFilterChain((req, res) => this.handler.handle(req, res), {
      ...options.limits,
      scheme: options.scheme,
      metrics: options.metrics,
      logger: options.logger,
      authorizeMetrics: (req) => authorizeFilterRequest(this.security, req),
      // Set once security is prepared on start; the handler then reuses the decision.
      authenticate: (req) => this.security?.authentication.authenticate(req) ?? Promise.resolve(undefined),
    });
  }

  address(): ApiServerAddress | undefined {
    return this.bound ? { ...this.bound } : undefined;
  }

  /** The admin kubeconfig written on start (with `kubeconfigPath` over HTTPS). */
  get kubeconfigPath(): string | undefined {
    return this.writtenKubeconfig;
  }

  /** The CA, serving certificate and data directory of the running server (undefined before start). */
  get pki(): ServerSecurity['pki'] {
    return this.security?.pki;
  }

  /** The service-account token signer (for issuing tokens in process, e.g. in tests). */
  get serviceAccountTokens(): ServerSecurity['serviceAccountTokens'] | undefined {
    return this.security?.serviceAccountTokens;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.server) throw new Error('HttpApiServer: already started');
    const host = this.options.host ?? '127.0.0.1';
    const security = await prepareServerSecurity({
      ...this.options,
      host,
      registry: this.options.registry,
      signal,
    });
    this.security = security;
    this.handler = new ApiHandler({
      registry: this.options.registry,
      scheme: this.options.scheme,
      logger: this.options.logger,
      serverAddress: () => (this.bound ? `${this.bound.host}:${this.bound.port}` : ''),
      authentication: security.authentication,
      authorization: security.authorization,
      serviceAccountTokens: security.serviceAccountTokens,
    });
    // Client certificates are requested but not required (token clients connect too); only a
    // certificate that verified against the CA reaches the x509 authenticator.
    const server = security.tls
      ? createHttpsServer(
          { ...security.tls, requestCert: true, rejectUnauthorized: false },
          this.filters.listener,
        )
      : createServer(this.filters.listener);
    this.server = server;
    server.on('clientError', answerClientError);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const protocol = security.tls ? 'https' : 'http';
    this.bound = { host, port, protocol, url: `${protocol}://${urlHost}:${port}` };
    this.options.logger?.info(
      {
        url: this.bound.url,
        authenticators: security.authentication.authenticators.map((a) => a.name),
        authorizers: security.authorization.authorizers.map((a) => a.name),
        anonymous: this.options.anonymous ?? false,
      },
      `API server listening on ${this.bound.url}`,
    );
    this.writtenKubeconfig = await security.writeKubeconfig(this.bound.url);
    if (this.writtenKubeconfig) {
      this.options.logger?.info(
        { kubeconfig: this.writtenKubeconfig, server: this.bound.url },
        `kubeconfig written: kubectl --kubeconfig ${this.writtenKubeconfig} get namespaces`,
      );
    }
    this.closed = new Promise<void>((resolve) => {
      const stop = (): void => {
        // Stop accepting, end watches, let in-flight requests finish within the grace period.
        this.filters.beginShutdown();
        server.close(() => {
          void security.dispose().finally(resolve);
        });
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
export interface ApiServerModuleOptions extends ServerSecurityOptions {
  host?: string;
  port?: number;
  limits?: ApiServerLimits;
}

/**
 * Binds an {@link HttpApiServer} as the `ApiServer` and as a `Runnable`, on the container's
 * Registry, Scheme and (when bound) Logger, and its {@link RbacEscalationCheck} as an `AdmissionPlugin`. Authenticators and Authorizers bound in the container
 * (multi-bound under the core `Authenticator` / `Authorizer` symbols) replace the defaults, asked in
 * binding order; otherwise the defaults of {@link ServerSecurityOptions} apply.
 * @category API server
 */
export function apiServerModule(options: ApiServerModuleOptions = {}): ContainerModule {
  return new ContainerModule((bind) => {
    // RBAC escalation prevention runs in the registry's admission chain; the server attaches to it.
    const escalationCheck = new RbacEscalationCheck();
    bind(AdmissionPlugin).toConstantValue(escalationCheck);
    bind(HttpApiServer)
      .toDynamicValue(
        (context) =>
          new HttpApiServer({
            ...options,
            escalationCheck,
            registry: context.container.get<Registry>(Registry),
            scheme: context.container.get<Scheme>(Scheme),
            logger: context.container.isBound(Logger) ? context.container.get<Logger>(Logger) : undefined,
            metrics: context.container.isBound(MetricsRegistry)
              ? context.container.get<MetricsRegistry>(MetricsRegistry)
              : undefined,
            ...(context.container.isBound(Authenticator)
              ? { authenticators: context.container.getAll<Authenticator>(Authenticator) }
              : {}),
            ...(context.container.isBound(Authorizer)
              ? { authorizers: context.container.getAll<Authorizer>(Authorizer) }
              : {}),
          }),
      )
      .inSingletonScope();
    bind(ApiServer).toService(HttpApiServer);
    bind(Runnable).toService(HttpApiServer);
  });
}
