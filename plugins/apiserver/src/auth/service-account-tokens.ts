// SPDX-License-Identifier: Apache-2.0
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AuthenticationRequest,
  type Authenticator,
  errors,
  isStatusError,
  type KubeObject,
  type Registry,
  type UserInfo,
} from '@cpkit/core';
import { decodeJwt, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { writeFilesAtomically } from '../certificates/pki.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The issuer upstream clusters use by default. @category Authentication */
export const defaultServiceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';
/** Lifetime of a requested token when the request names none (as upstream: one hour). @category Authentication */
export const defaultTokenExpirationSeconds = 3600;
/** Upstream rejects shorter TokenRequests. */
const minExpirationSeconds = 600;
const maxExpirationSeconds = 2 ** 32;

/** Options of {@link ServiceAccountTokens}. @category Authentication */
export interface ServiceAccountTokensOptions {
  /** Directory of the signing key (`sa.key`, `sa.pub`, kubeadm's names); created on first use. */
  dir: string;
  /** The `iss` claim written and required. Default {@link defaultServiceAccountIssuer}. */
  issuer?: string;
  /** Audiences accepted (a token must name one) and written when a request names none. Default `[issuer]`. */
  audiences?: readonly string[];
}

/** What {@link ServiceAccountTokens.issue} returns. @category Authentication */
export interface IssuedToken {
  token: string;
  /** RFC 3339, seconds precision. */
  expirationTimestamp: string;
}

/** The claims cpkit writes under `kubernetes.io`, as upstream's bound tokens. */
interface KubernetesClaims {
  namespace?: unknown;
  serviceaccount?: { name?: unknown; uid?: unknown };
}

interface SigningKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

const serviceAccountPrefix = 'system:serviceaccount:';

/**
 * Service-account tokens: signs JWTs for ServiceAccounts (the TokenRequest API, `kubectl create
 * token`) and authenticates them. The RSA signing key is generated on first use and kept in `dir`,
 * so tokens survive restarts. Signing and verification use `jose` (RS256).
 *
 * A token is accepted when its signature, issuer, audience and expiry check out and the
 * ServiceAccount it names still exists with the same uid: deleting the ServiceAccount revokes its
 * tokens. The user is `system:serviceaccount:<ns>:<name>` in the groups `system:serviceaccounts` and
 * `system:serviceaccounts:<ns>`.
 * @category Authentication
 */
export class ServiceAccountTokens implements Authenticator {
  readonly name = 'serviceaccount';
  readonly issuer: string;
  readonly audiences: readonly string[];
  private keys: Promise<SigningKeys> | undefined;

  constructor(
    private readonly registry: Pick<Registry, 'get'>,
    private readonly options: ServiceAccountTokensOptions,
  ) {
    this.issuer = options.issuer ?? defaultServiceAccountIssuer;
    this.audiences = options.audiences?.length ? [...options.audiences] : [this.issuer];
  }

  /** Loads the signing key, generating and saving it when `dir` has none. Idempotent. */
  async ready(): Promise<void> {
    await this.signingKeys();
  }

  private signingKeys(): Promise<SigningKeys> {
    if (!this.keys) {
      const loading = loadOrCreateKeys(this.options.dir);
      // A failed load is retried on the next call rather than remembered.
      loading.catch(() => {
        if (this.keys === loading) this.keys = undefined;
      });
      this.keys = loading;
    }
    return this.keys;
  }

  /**
   * Signs a token for the ServiceAccount `namespace/name` with the given uid.
   * @throws StatusError `Invalid` for an expiration under 10 minutes or an empty audience.
   */
  async issue(
    serviceAccount: { namespace: string; name: string; uid: string },
    request: { audiences?: readonly string[]; expirationSeconds?: number; now?: Date } = {},
  ): Promise<IssuedToken> {
    const expirationSeconds = request.expirationSeconds ?? defaultTokenExpirationSeconds;
    if (
      !Number.isInteger(expirationSeconds) ||
      expirationSeconds < minExpirationSeconds ||
      expirationSeconds > maxExpirationSeconds
    ) {
      throw errors.invalid(
        'TokenRequest',
        serviceAccount.name,
        [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.expirationSeconds',
            message: `may not specify a duration less than ${minExpirationSeconds} seconds or longer than ${maxExpirationSeconds} seconds`,
          },
        ],
        'authentication.k8s.io',
      );
    }
    const audiences = request.audiences?.length ? [...request.audiences] : [...this.audiences];
    if (audiences.some((audience) => typeof audience !== 'string' || audience === '')) {
      throw errors.invalid(
        'TokenRequest',
        serviceAccount.name,
        [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.audiences',
            message: 'audiences must be non-empty strings',
          },
        ],
        'authentication.k8s.io',
      );
    }
    const keys = await this.signingKeys();
    const now = Math.floor((request.now ?? new Date()).getTime() / 1000);
    const exp = now + expirationSeconds;
    const token = await new SignJWT({
      'kubernetes.io': {
        namespace: serviceAccount.namespace,
        serviceaccount: { name: serviceAccount.name, uid: serviceAccount.uid },
      },
    })
      .setProtectedHeader({ alg: 'RS256', kid: keys.keyId })
      .setIssuer(this.issuer)
      .setSubject(`${serviceAccountPrefix}${serviceAccount.namespace}:${serviceAccount.name}`)
      .setAudience(audiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(keys.privateKey);
    return { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  async authenticate(request: AuthenticationRequest): Promise<UserInfo | undefined> {
    const token = request.bearerToken;
    if (!token || token.split('.').length !== 3) return undefined;
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      return undefined; // not a JWT: someone else's token
    }
    if (issuer !== this.issuer) return undefined;
    const keys = await this.signingKeys();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys.publicKey, {
        issuer: this.issuer,
        audience: [...this.audiences],
        algorithms: ['RS256'],
      }));
    } catch (error) {
      const why = error instanceof joseErrors.JOSEError ? error.message : String(error);
      throw errors.unauthorized(`service account token rejected: ${why}`);
    }
    const claims = (payload['kubernetes.io'] ?? {}) as KubernetesClaims;
    const namespace = claims.namespace;
    const name = claims.serviceaccount?.name;
    const uid = claims.serviceaccount?.uid;
    if (typeof namespace !== 'string' || typeof name !== 'string' || typeof uid !== 'string') {
      throw errors.unauthorized('service account token rejected: the kubernetes.io claims are incomplete');
    }
    let serviceAccount: KubeObject;
    try {
      serviceAccount = await this.registry.get('ServiceAccount', name, { namespace });
    } catch (error) {
      if (isStatusError(error, 'NotFound')) {
        throw errors.unauthorized(`service account ${namespace}/${name} has been deleted`);
      }
      throw error;
    }
    if (serviceAccount.metadata?.uid !== uid) {
      throw errors.unauthorized(
        `service account ${namespace}/${name} was recreated (uid ${String(serviceAccount.metadata?.uid)}, the token names ${uid})`,
      );
    }
    const jti = payload.jti;
    return {
      username: `${serviceAccountPrefix}${namespace}:${name}`,
      uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
      ...(typeof jti === 'string'
        ? { extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${jti}`] } }
        : {}),
    };
  }
}

async function loadOrCreateKeys(dir: string): Promise<SigningKeys> {
  const keyPath = join(dir, 'sa.key');
  let pem: string | undefined;
  try {
    pem = await readFile(keyPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (pem === undefined) {
    const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await writeFilesAtomically([
      { path: keyPath, content: privateKey, mode: 0o600 },
      { path: join(dir, 'sa.pub'), content: publicKey, mode: 0o644 },
    ]);
    pem = privateKey;
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw errors.badRequest(`${keyPath} is not a readable private key: ${(error as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw errors.badRequest(`${keyPath} must hold an RSA key, found ${String(privateKey.asymmetricKeyType)}`);
  }
  const publicKey = createPublicKey(privateKey);
  // The key id is a digest of the public key, as upstream derives it, so verifiers can tell keys apart.
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const keyId = createHash('sha256').update(der).digest('base64url');
  return { privateKey, publicKey, keyId };
}
