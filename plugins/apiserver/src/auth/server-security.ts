// SPDX-License-Identifier: Apache-2.0
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Authenticator, Authorizer, Logger, Registry } from '@cpkit/core';
import { writeAdminKubeconfig } from '../certificates/admin-kubeconfig.js';
import { issueClientCertificate } from '../certificates/client-certificate.js';
import { ensureServingCertificates, type ServingCertificates } from '../certificates/serving-certificates.js';
import { AuthenticationChain } from './authentication.js';
import {
  AlwaysAllowAuthorizer,
  AuthorizationChain,
  PrivilegedGroupAuthorizer,
  privilegedGroup,
} from './authorization.js';
import { PolicyRbacAuthorizer, RbacAuthorizer } from './rbac-authorizer.js';
import type { RbacEscalationCheck } from './rbac-escalation.js';
import { staticRbacPolicy } from './rbac-rules.js';
import { ServiceAccountTokens } from './service-account-tokens.js';
import { TokenFileAuthenticator } from './token-file-authenticator.js';
import { X509Authenticator } from './x509-authenticator.js';

/** How the API server decides what a caller may do. @category API server */
export type AuthorizationMode = 'RBAC' | 'AlwaysAllow';

/** The security settings of an API server (see `HttpApiServerOptions`). @category API server */
export interface ServerSecurityOptions {
  /** Serve HTTPS (default true). `false`: plain HTTP, for tests and development only. */
  tls?: boolean;
  /**
   * Where the server keeps its PKI (`<dataDir>/pki`: `ca.crt`, `ca.key`, `apiserver.crt`,
   * `apiserver.key`, `sa.key`, `sa.pub`), created on first start and reused. Default: a temporary
   * directory removed on stop (fresh certificates and signing key every start).
   */
  dataDir?: string;
  /** IPs and DNS names the serving certificate covers besides the bound host, `127.0.0.1` and `localhost`. */
  certificateHosts?: readonly string[];
  /** Authenticators asked in order. Default: x509 client certificates, the token file (when given), service-account tokens. */
  authenticators?: readonly Authenticator[];
  /** Authorizers asked in order. Default: by {@link ServerSecurityOptions.authorization}. */
  authorizers?: readonly Authorizer[];
  /** `RBAC` (default: `system:masters` first, then RBAC with the default policy) or `AlwaysAllow` (development only). */
  authorization?: AuthorizationMode;
  /** Serve requests without credentials as `system:anonymous`. Default false (401). */
  anonymous?: boolean;
  /** A static token file (`token,user,uid,"group1,group2"`, as upstream's `--token-auth-file`). */
  tokenFile?: string;
  /** `iss` of service-account tokens. Default `https://kubernetes.default.svc.cluster.local`. */
  serviceAccountIssuer?: string;
  /**
   * Write an admin kubeconfig here on start (HTTPS only): a client certificate for
   * `kubernetes-admin` in `system:masters`, the CA, and the server's URL.
   */
  kubeconfigPath?: string;
  /**
   * The RBAC escalation check the registry runs as an admission plugin; the server attaches its
   * authorizers and RBAC cache to it on start (`apiServerModule` binds and passes one).
   */
  escalationCheck?: RbacEscalationCheck;
}

/** What {@link prepareServerSecurity} sets up for one run of the server. @category API server */
export interface ServerSecurity {
  /** For `node:https` (absent for plain HTTP). */
  tls?: { key: string; cert: string; ca: string };
  pki?: ServingCertificates;
  authentication: AuthenticationChain;
  authorization: AuthorizationChain;
  serviceAccountTokens: ServiceAccountTokens;
  /** The RBAC authorizer this run started, if any. */
  rbac?: RbacAuthorizer;
  dataDir: string;
  /** Writes the admin kubeconfig (when configured) for the server at `url`; returns its path. */
  writeKubeconfig(url: string): Promise<string | undefined>;
  /** Removes a temporary data directory (nothing when `dataDir` was given). */
  dispose(): Promise<void>;
}

const unspecified = new Set(['0.0.0.0', '::', '']);

/**
 * Prepares the certificates, authenticators and authorizers of one server run. With RBAC it starts
 * the RBAC authorizer on `signal` (creating the default policy) and resolves once its caches synced.
 * @category API server
 */
export async function prepareServerSecurity(
  options: ServerSecurityOptions & { host: string; registry: Registry; logger?: Logger; signal: AbortSignal },
): Promise<ServerSecurity> {
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cpkit-apiserver-')));
  let dispose = async (): Promise<void> => {
    if (temporary) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const pkiDir = join(dataDir, 'pki');
    let pki: ServingCertificates | undefined;
    if (options.tls ?? true) {
      const hosts = [
        ...new Set([
          ...(unspecified.has(options.host) ? [] : [options.host]),
          '127.0.0.1',
          'localhost',
          ...(options.certificateHosts ?? []),
        ]),
      ];
      pki = await ensureServingCertificates(pkiDir, { hosts });
      if (pki.generated.ca || pki.generated.servingCertificate) {
        options.logger?.info(
          { dir: pkiDir, hosts, generated: pki.generated },
          `certificates ${pki.generated.ca ? 'created' : 'renewed'} in ${pkiDir}`,
        );
      }
    }
    const serviceAccountTokens = new ServiceAccountTokens(options.registry, {
      dir: pkiDir,
      ...(options.serviceAccountIssuer ? { issuer: options.serviceAccountIssuer } : {}),
    });
    await serviceAccountTokens.ready();
    const authenticators = options.authenticators ?? [
      new X509Authenticator(),
      ...(options.tokenFile ? [await TokenFileAuthenticator.fromFile(options.tokenFile)] : []),
      serviceAccountTokens,
    ];
    let rbac: RbacAuthorizer | undefined;
    let authorizers = options.authorizers;
    if (!authorizers) {
      if (options.authorization === 'AlwaysAllow') {
        authorizers = [new AlwaysAllowAuthorizer()];
      } else {
        rbac = new RbacAuthorizer(options.registry, options.logger ? { logger: options.logger } : {});
        await rbac.start(options.signal);
        authorizers = [new PrivilegedGroupAuthorizer(), rbac];
      }
    }
    const kubeconfigPath = options.kubeconfigPath;
    const authorization = new AuthorizationChain(authorizers, options.logger);
    if (options.escalationCheck) {
      // The user's own rules come from the RBAC cache (ours, or an RbacAuthorizer in a custom chain);
      // without one, only `escalate`/`bind` permissions (or system:masters) allow grants.
      const cache =
        rbac ??
        authorizers.find(
          (a): a is RbacAuthorizer | PolicyRbacAuthorizer =>
            a instanceof RbacAuthorizer || a instanceof PolicyRbacAuthorizer,
        );
      const source = {
        authorization,
        policy: cache?.policy ?? staticRbacPolicy([]),
        registry: options.registry,
      };
      options.escalationCheck.attach(source);
      const check = options.escalationCheck;
      const previous = dispose;
      dispose = async () => {
        check.detach(source);
        await previous();
      };
    }
    return {
      ...(pki ? { pki, tls: { key: pki.servingKeyPem, cert: pki.servingCertPem, ca: pki.caCertPem } } : {}),
      authentication: new AuthenticationChain(authenticators, {
        anonymous: options.anonymous ?? false,
        ...(options.logger ? { logger: options.logger } : {}),
      }),
      authorization,
      serviceAccountTokens,
      ...(rbac ? { rbac } : {}),
      dataDir,
      async writeKubeconfig(url) {
        if (!kubeconfigPath || !pki) return undefined;
        const admin = await issueClientCertificate(pki.ca, {
          commonName: 'kubernetes-admin',
          organizations: [privilegedGroup],
        });
        await writeAdminKubeconfig(kubeconfigPath, {
          server: url,
          caCertPem: pki.caCertPem,
          clientCertPem: admin.certPem,
          clientKeyPem: admin.keyPem,
          userName: 'kubernetes-admin',
        });
        return kubeconfigPath;
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
