// SPDX-License-Identifier: Apache-2.0
// Stopping the control plane ends open watches cleanly and closes the listener.
import { describe, expect, it } from 'vitest';
import { startPlainApiServer } from '../testing/api-server.js';

describe('HttpApiServer shutdown', () => {
  it('ends open watch streams, stops listening and forgets its address', async () => {
    const { cp, server } = await startPlainApiServer();
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
