// SPDX-License-Identifier: Apache-2.0
// Bodies over 3 MiB: a 413 Status the client can read, and a connection that is cut when the body
// never ends (the handler stops reading and answers; Node's server then closes a connection whose
// request is still arriving, so an endless upload cannot hold it).
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { usePlainApiServer } from '../testing/api-server.js';

const api = usePlainApiServer();
const path = '/api/v1/namespaces/default/configmaps';

describe('request body limit', () => {
  it('answers 413 with a Status to a declared oversized body, and nothing is written', async () => {
    const body = JSON.stringify({ metadata: { name: 'huge' }, data: { k: 'x'.repeat(4 * 2 ** 20) } });
    const reply = await api.call('POST', path, body);
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
    expect((await api.call('GET', `${path}/huge`)).status).toBe(404);
  });

  it('answers 413 to a chunked upload that never ends, and cuts its connection', async () => {
    const chunk = Buffer.alloc(2 ** 20, 'a');
    const outcome = await new Promise<{ status?: number; sentMiB: number; closed: boolean }>((resolve) => {
      let status: number | undefined;
      let sent = 0;
      let done = false;
      const finish = (closed: boolean): void => {
        if (done) return;
        done = true;
        resolve({ status, sentMiB: sent / 2 ** 20, closed });
      };
      const req = request(`${api.base}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      });
      req.on('response', (res) => {
        status = res.statusCode;
        res.resume();
      });
      req.on('error', () => finish(true));
      req.on('close', () => finish(true));
      const pump = (): void => {
        // Far more than the limit plus the drain allowance: the server must give up first.
        while (!done && sent < 200 * 2 ** 20) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!done) finish(false);
      };
      pump();
    });
    expect(outcome.status).toBe(413);
    expect(outcome.closed).toBe(true);
    expect(outcome.sentMiB).toBeLessThan(200);
    // The server keeps serving.
    expect((await api.call('GET', path)).status).toBe(200);
  });
});
