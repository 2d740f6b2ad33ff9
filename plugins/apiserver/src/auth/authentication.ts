// SPDX-License-Identifier: Apache-2.0
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  type AuthenticationRequest,
  type Authenticator,
  type ClientCertificateInfo,
  errors,
  type Logger,
  StatusError,
  type UserInfo,
} from '@cpkit/core';

/** The group every authenticated user is in. @category Authentication */
export const authenticatedGroup = 'system:authenticated';
/** The user of a request without credentials, when anonymous requests are enabled. @category Authentication */
export const anonymousUser: Readonly<UserInfo> = Object.freeze({
  username: 'system:anonymous',
  groups: ['system:unauthenticated'],
});

const certificateBySocket = new WeakMap<object, ClientCertificateInfo>();

function asArray(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The verified client certificate of a TLS request, or `undefined` when the connection is not TLS,
 * carries no certificate, or the certificate did not verify against the client CA (the server
 * accepts such connections so that token clients can connect; their certificate is ignored).
 */
function verifiedClientCertificate(req: IncomingMessage): ClientCertificateInfo | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  // The certificate cannot change on a connection: decode it once per keep-alive connection.
  const cached = certificateBySocket.get(req.socket);
  if (cached) return cached;
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.subject) return undefined;
  const cn = asArray(peer.subject.CN)[0];
  const info: ClientCertificateInfo = {
    ...(cn ? { commonName: cn } : {}),
    organizations: asArray(peer.subject.O),
    ...(peer.fingerprint256 ? { fingerprint256: peer.fingerprint256 } : {}),
  };
  certificateBySocket.set(req.socket, info);
  return info;
}

/**
 * Builds the {@link AuthenticationRequest} authenticators see from a Node request: headers, the
 * bearer token of `Authorization: Bearer <token>`, and the client certificate only when TLS verified it.
 * @category Authentication
 */
export function authenticationRequestOf(req: IncomingMessage): AuthenticationRequest {
  const authorization = req.headers.authorization;
  let bearerToken: string | undefined;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1]) bearerToken = match[1];
  }
  const clientCertificate = verifiedClientCertificate(req);
  return {
    headers: req.headers,
    ...(bearerToken ? { bearerToken } : {}),
    ...(clientCertificate ? { clientCertificate } : {}),
    ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
  };
}

/** Options of an {@link AuthenticationChain}. @category Authentication */
export interface AuthenticationChainOptions {
  /** Serve requests without credentials as `system:anonymous` (group `system:unauthenticated`). Default false. */
  anonymous?: boolean;
  logger?: Logger;
}

/**
 * Asks each {@link Authenticator} in order; the first that returns a user decides, and the user gets
 * the `system:authenticated` group. A request whose credential nobody accepts is 401, as is a request
 * without credentials unless anonymous requests are enabled. The reply never says why (as upstream);
 * the reason is logged at debug level.
 * @category Authentication
 */
export class AuthenticationChain {
  constructor(
    readonly authenticators: readonly Authenticator[],
    private readonly options: AuthenticationChainOptions = {},
  ) {}

  /**
   * Who sent `req`, decided once per request: the filter chain authenticates before it counts a
   * request against the in-flight limits (as upstream), and the handler asks again for free.
   * @throws StatusError `Unauthorized` (401).
   */
  authenticate(req: IncomingMessage): Promise<UserInfo> {
    let decided = this.decided.get(req);
    if (decided === undefined) {
      decided = this.authenticateRequest(authenticationRequestOf(req));
      this.decided.set(req, decided);
    }
    return decided;
  }

  private readonly decided = new WeakMap<IncomingMessage, Promise<UserInfo>>();

  /** As {@link AuthenticationChain.authenticate}, from an already built request. */
  async authenticateRequest(request: AuthenticationRequest): Promise<UserInfo> {
    for (const authenticator of this.authenticators) {
      let user: UserInfo | undefined;
      try {
        user = await authenticator.authenticate(request);
      } catch (error) {
        this.options.logger?.debug(
          { authenticator: authenticator.name, err: error, remote: request.remoteAddress },
          'authentication failed',
        );
        if (error instanceof StatusError && error.code !== 401) throw error;
        throw errors.unauthorized();
      }
      if (user) return withAuthenticatedGroup(user);
    }
    // A credential was presented and nobody accepted it: 401 even when anonymous is on, as upstream.
    if (request.bearerToken === undefined && this.options.anonymous) {
      return { ...anonymousUser, groups: [...anonymousUser.groups] };
    }
    throw errors.unauthorized();
  }
}

function withAuthenticatedGroup(user: UserInfo): UserInfo {
  const groups = user.groups.includes(authenticatedGroup)
    ? user.groups
    : [...user.groups, authenticatedGroup];
  return { ...user, groups };
}
