// SPDX-License-Identifier: Apache-2.0
import type { IncomingMessage } from 'node:http';
import type { AuthenticationChain } from '../../auth/authentication.js';
import { type AuthorizationChain, authorizationAttributes } from '../../auth/authorization.js';
import { hasImpersonationHeaders, impersonate } from '../../auth/impersonation.js';
import { parseRequestInfo } from '../request-info.js';

/**
 * Authenticates and authorizes a request the filters answer themselves (`/metrics`), exactly as the
 * handler does for every other path, so scraping needs `get` on the non-resource URL `/metrics`
 * (upstream's `system:monitoring` role) and an anonymous scrape is 401 unless anonymous is on.
 * Impersonation headers apply here too: the impersonation is authorized for the caller, then the
 * impersonated user must be allowed the scrape.
 * @throws StatusError `Unauthorized` or `Forbidden`.
 * @category API server
 */
export async function authorizeFilterRequest(
  security: { authentication: AuthenticationChain; authorization: AuthorizationChain } | undefined,
  req: IncomingMessage,
): Promise<void> {
  if (!security) return;
  const caller = await security.authentication.authenticate(req);
  const user = hasImpersonationHeaders(req.headers)
    ? await impersonate(req.headersDistinct, caller, security.authorization)
    : caller;
  await security.authorization.authorize(
    authorizationAttributes(user, parseRequestInfo(req.method ?? 'GET', req.url ?? '/')),
  );
}
