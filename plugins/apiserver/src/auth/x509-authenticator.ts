// SPDX-License-Identifier: Apache-2.0
import type { AuthenticationRequest, Authenticator, UserInfo } from '@cpkit/core';

/**
 * Client-certificate authentication: the TLS layer has verified the certificate against the client
 * CA (see `HttpApiServer`), so the subject's CN is the user name and each O a group, as upstream.
 * A certificate without a CN is not a user: the next authenticator is asked.
 * @category Authentication
 */
export class X509Authenticator implements Authenticator {
  readonly name = 'x509';

  async authenticate(request: AuthenticationRequest): Promise<UserInfo | undefined> {
    const certificate = request.clientCertificate;
    if (!certificate?.commonName) return undefined;
    return { username: certificate.commonName, groups: [...certificate.organizations] };
  }
}
