// SPDX-License-Identifier: Apache-2.0
import { errors, StatusError } from '@cpkit/core';
import { isBrokenCircuitError } from 'cockatiel';
import {
  ClientClosedError,
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCUnauthenticatedError,
} from 'etcd3';

/** etcd's message when a read, list or watch asks for a revision older than the compaction point. */
export const compactedMessage = 'required revision has been compacted';
/** etcd's message when a read asks for a revision newer than the current one. */
export const futureRevisionMessage = 'required revision is a future revision';

/** The gRPC status code of an error from grpc-js (etcd3 keeps it only on errors it did not re-type). */
function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** The message without grpc-js's `14 UNAVAILABLE: ` status prefix. */
function causeOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\d+ [A-Z_]+: /, '');
}

/**
 * Turns whatever the etcd3 client (grpc-js, cockatiel) rejected with into the StatusError the Store
 * contract promises. `what` names the operation and `endpoints` the members, for the message.
 */
export function toStatusError(error: unknown, what: string, endpoints: readonly string[]): StatusError {
  if (error instanceof StatusError) return error;
  const cause = causeOf(error);
  const where = endpoints.join(', ');
  if (cause.includes(compactedMessage)) return errors.expired(`${what}: ${cause}`);
  if (error instanceof GRPCDeadlineExceededError || grpcCode(error) === 4) {
    return errors.timeout(`${what}: etcd at ${where} did not answer in time (${cause})`);
  }
  if (
    error instanceof EtcdAuthenticationFailedError ||
    error instanceof GRPCUnauthenticatedError ||
    /user name is empty|invalid auth token|authentication failed/.test(cause)
  ) {
    return errors.unauthorized(`${what}: etcd at ${where} rejected the credentials (${cause})`);
  }
  if (error instanceof EtcdPermissionDeniedError) {
    return errors.forbidden(`${what}: etcd at ${where} denied the request (${cause})`);
  }
  if (cause.includes('request is too large') || cause.includes('larger than max')) {
    return new StatusError('RequestEntityTooLarge', `${what}: ${cause}`);
  }
  if (error instanceof ClientClosedError)
    return errors.serviceUnavailable(`${what}: the etcd store is closed`);
  // Unavailable (connection refused or dropped, no leader), cancelled streams, circuits opened by
  // repeated failures, and etcd's own "request timed out" while it has no quorum: the backend cannot
  // serve now and callers retry later.
  const code = grpcCode(error);
  const name = (error as { constructor?: { name?: string } })?.constructor?.name ?? '';
  if (
    isBrokenCircuitError(error) ||
    code === 14 ||
    code === 1 ||
    /GRPC(Unavailable|Cancelled|Internal|Unknown|ResourceExhasted|Aborted)Error/.test(name) ||
    /no leader|leader changed|request timed out|not capable|stopped/.test(cause)
  ) {
    const reason = isBrokenCircuitError(error) ? 'every endpoint failed recently' : cause;
    return errors.serviceUnavailable(`${what}: etcd at ${where} is unavailable: ${reason}`, 1);
  }
  return errors.internal(`${what}: ${cause}`);
}
