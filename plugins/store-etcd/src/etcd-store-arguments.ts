// SPDX-License-Identifier: Apache-2.0
import { errors, type StatusError } from '@cpkit/core';

/** Longest key the Store contract accepts. */
export const maxKeyLength = 1024;

/** A short, printable rendering of a rejected value for error messages (never the whole value). */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  return Array.isArray(value) ? 'array' : typeof value;
}

/** A BadRequest naming the argument (or option) and the reason, with a field cause. */
export function invalid(argument: string, value: unknown, why: string): StatusError {
  return errors.badRequest(`invalid ${argument} ${show(value)}: ${why}`, [
    { reason: 'FieldValueInvalid', field: argument, message: why },
  ]);
}

/** A key or key prefix by the contract's rules: a string starting with `/`, ≤ 1024 characters, no NUL. */
export function checkKey(key: unknown, argument = 'key'): StatusError | undefined {
  if (typeof key !== 'string') return invalid(argument, key, 'must be a string');
  if (key.length === 0 || key.charCodeAt(0) !== 47) return invalid(argument, key, "must start with '/'");
  if (key.length > maxKeyLength) return invalid(argument, key, `must be at most ${maxKeyLength} characters`);
  if (key.includes('\0')) return invalid(argument, key, 'must not contain NUL characters');
  return undefined;
}

export function checkValue(value: unknown): StatusError | undefined {
  return typeof value === 'string' ? undefined : invalid('value', value, 'must be a string');
}

/** A revision: a positive safe integer, or a non-negative one when `allowZero`. */
export function checkRevision(
  revision: unknown,
  argument: string,
  allowZero = false,
): StatusError | undefined {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision)) {
    return invalid(argument, revision, 'must be an integer');
  }
  if (revision < 0 || (revision === 0 && !allowZero)) {
    return invalid(argument, revision, allowZero ? 'must not be negative' : 'must be positive');
  }
  return undefined;
}

export function checkLimit(limit: unknown): StatusError | undefined {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit))
    return invalid('limit', limit, 'must be an integer');
  if (limit <= 0) return invalid('limit', limit, 'must be positive');
  return undefined;
}

/** An options argument: absent, or a plain object. */
export function checkOptions(options: unknown, argument = 'options'): StatusError | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return invalid(argument, options, 'must be an object');
  }
  return undefined;
}

/** Where a paged list resumes: the list's revision and the first key (store key, unprefixed) of the next page. */
export interface ContinuePosition {
  revision: number;
  startKey: string;
}

/** Encodes a continue token: base64url JSON, opaque to callers and safe in URLs. */
export function encodeContinue(position: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ rv: position.revision, start: position.startKey })).toString(
    'base64url',
  );
}

/** Decodes a continue token issued for `prefix`, or returns a BadRequest saying what is wrong with it. */
export function decodeContinue(token: unknown, prefix: string): ContinuePosition | StatusError {
  if (typeof token !== 'string' || token.length === 0)
    return invalid('continue', token, 'must be a non-empty string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return invalid('continue', token, 'is not a continue token');
  }
  const { rv, start } = (parsed ?? {}) as { rv?: unknown; start?: unknown };
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv <= 0 || typeof start !== 'string') {
    return invalid('continue', token, 'is not a continue token');
  }
  if (!start.startsWith(prefix))
    return invalid('continue', token, `was issued for another prefix than ${prefix}`);
  return { revision: rv, startKey: start };
}
