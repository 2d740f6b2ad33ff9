// SPDX-License-Identifier: Apache-2.0
import { errors, type StatusError } from '@cpkit/core';

/** Longest key the Store contract accepts. */
export const maxKeyLength = 1024;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  return typeof value;
}

function bad(argument: string, value: unknown, why: string): StatusError {
  return errors.badRequest(`invalid ${argument} ${describe(value)}: ${why}`, [
    { reason: 'FieldValueInvalid', field: argument, message: why },
  ]);
}

/**
 * Checks a key (or a key prefix) by the contract's rules: a string starting with `/`, at most
 * {@link maxKeyLength} characters, no NUL. Returns the error instead of throwing so hot paths stay cheap.
 */
export function checkKey(key: unknown, argument = 'key'): StatusError | undefined {
  if (typeof key !== 'string') return bad(argument, key, 'must be a string');
  if (key.length === 0 || key.charCodeAt(0) !== 47) return bad(argument, key, "must start with '/'");
  if (key.length > maxKeyLength) return bad(argument, key, `must be at most ${maxKeyLength} characters`);
  if (key.includes('\0')) return bad(argument, key, 'must not contain NUL characters');
  return undefined;
}

export function checkValue(value: unknown): StatusError | undefined {
  return typeof value === 'string' ? undefined : bad('value', value, 'must be a string');
}

/** A revision: a positive safe integer (or non-negative when `allowZero`). */
export function checkRevision(
  revision: unknown,
  argument: string,
  allowZero = false,
): StatusError | undefined {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision)) {
    return bad(argument, revision, 'must be an integer');
  }
  if (revision < 0 || (revision === 0 && !allowZero)) {
    return bad(argument, revision, allowZero ? 'must not be negative' : 'must be positive');
  }
  return undefined;
}

export function checkLimit(limit: unknown): StatusError | undefined {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit))
    return bad('limit', limit, 'must be an integer');
  if (limit <= 0) return bad('limit', limit, 'must be positive');
  return undefined;
}

export function checkOptions(options: unknown, argument = 'options'): StatusError | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return bad(argument, options, 'must be an object');
  }
  return undefined;
}

/** Where a paged list resumes: the list's revision and the first key of the next page. */
export interface ContinuePosition {
  revision: number;
  startKey: string;
}

/** Encodes a continue token. Opaque to callers; base64url JSON so it survives URLs unchanged. */
export function encodeContinue(position: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ rv: position.revision, start: position.startKey })).toString(
    'base64url',
  );
}

/** Decodes a continue token, or returns a BadRequest naming what is wrong with it. */
export function decodeContinue(token: unknown, prefix: string): ContinuePosition | StatusError {
  if (typeof token !== 'string' || token.length === 0)
    return bad('continue', token, 'must be a non-empty string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return bad('continue', token, 'is not a continue token');
  }
  const { rv, start } = (parsed ?? {}) as { rv?: unknown; start?: unknown };
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv <= 0 || typeof start !== 'string') {
    return bad('continue', token, 'is not a continue token');
  }
  if (!start.startsWith(prefix))
    return bad('continue', token, `was issued for a different prefix than ${prefix}`);
  return { revision: rv, startKey: start };
}
