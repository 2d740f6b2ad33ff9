// SPDX-License-Identifier: Apache-2.0
// Stopping the control plane ends open watches cleanly and closes the listener.
import { startTestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import { describe, expect, it } from 'vitest';
import { apiServerModule, HttpApiServer } from './http-api-server.js';

describe('HttpApiServer shutdown', () => {
  it('ends open watch streams, stops listening and forgets its address', async () => {
    const cp = await startTestControlPlane({
      store: await openEmbeddedStore(),
      modules: [apiServerModule({ port: 0, tls: false, anonymous: true, authorization: 'AlwaysAllow' })],
    });
    const server = cp.controlPlane.get<HttpApiServer>(HttpApiServer);
    const url = server.address()?.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${url}/api/v1/configmaps?watch=true`);
    const body = response.text();
    const started = Date.now();
    await cp.stop();
    // The stream ends normally (the promise resolves) instead of hanging or erroring.
    expect(typeof (await body)).toBe('string');
    expect(Date.now() - started).toBeLessThan(4000);
    expect(server.address()).toBeUndefined();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
