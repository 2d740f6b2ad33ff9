// SPDX-License-Identifier: Apache-2.0
import type { Duplex } from 'node:stream';
import { StatusError } from '@cpkit/core';

/**
 * The `clientError` listener of the server: a request Node's HTTP parser refuses (an unknown method,
 * a malformed request line or header) gets a `Status` like every other error, instead of Node's bare
 * `400 Bad Request`, and the connection is closed (its byte stream can no longer be trusted).
 * @category API server
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [code, reason, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestHeaderFieldsTooLarge', 'the request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Timeout', 'the request was not received in time']
        : [400, 'BadRequest', `the request could not be parsed: ${error.message}`];
  const body = JSON.stringify(new StatusError(reason, message, undefined, code).toStatus());
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
