// SPDX-License-Identifier: Apache-2.0

/**
 * Service identifier under which authenticators are contributed. The API server asks each bound
 * authenticator in binding order; the first that recognizes the credential decides who the caller is.
 * @category Contracts
 */
export const Authenticator = Symbol.for('cpkit.Authenticator');

/**
 * Who made a request, as authorization and admission see it (the shape of Kubernetes' `user.Info`).
 * @category Contracts
 */
export interface UserInfo {
  /** Unique name of the user, e.g. `admin`, `system:serviceaccount:default:builder`, `system:node:node-1`. */
  username: string;
  /** Stable unique id, when the authenticator knows one. */
  uid?: string;
  /** Groups the user belongs to, e.g. `system:masters`, `system:authenticated`. */
  groups: string[];
  /** Extra attributes an authenticator wants authorizers and admission to see. */
  extra?: Record<string, string[]>;
}

/** The verified client certificate of a TLS request. @category Contracts */
export interface ClientCertificateInfo {
  /** Subject common name; Kubernetes takes it as the username. */
  commonName?: string;
  /** Subject organizations; Kubernetes takes them as the groups. */
  organizations: string[];
  /** SHA-256 fingerprint, `AB:CD:...`. */
  fingerprint256?: string;
}

/**
 * The parts of an incoming request authenticators look at. The API server builds it from the HTTP
 * request (and the in-process transport from its caller's identity).
 * @category Contracts
 */
export interface AuthenticationRequest {
  /** Request headers with lower-case names, as Node's `IncomingHttpHeaders`. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The token of an `Authorization: Bearer <token>` header, already extracted. */
  bearerToken?: string;
  /** Present only when the TLS layer verified the client certificate against the client CA. */
  clientCertificate?: ClientCertificateInfo;
  /** The peer address, for logging and audit. */
  remoteAddress?: string;
}

/**
 * Turns a credential into a {@link UserInfo}: client certificates, static or service-account tokens,
 * bootstrap tokens, an "anonymous" fallback.
 *
 * - Resolve with the user when the request carries a credential this authenticator recognizes and it
 *   is valid.
 * - Resolve with `undefined` when the request carries no credential of this kind: the next authenticator
 *   is asked (when none recognizes it the request is anonymous or rejected, by configuration).
 * - Reject with `StatusError` `Unauthorized` (401) when a credential of this kind is present but invalid
 *   (expired, revoked, bad signature); the request fails and no other authenticator is asked.
 * @category Contracts
 */
export interface Authenticator {
  /** Name used in logs and metrics, e.g. `x509`, `token-file`, `serviceaccount`. */
  readonly name: string;
  authenticate(request: AuthenticationRequest): Promise<UserInfo | undefined>;
}
