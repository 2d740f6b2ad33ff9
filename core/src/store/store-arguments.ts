// SPDX-License-Identifier: Apache-2.0
/**
 * Argument checks and continue tokens shared by every Store implementation, so each one rejects bad
 * input with the same BadRequest the contract suite expects. The checks return the error instead of
 * throwing, so hot paths stay cheap.
 * @module
 */
import { errors, type StatusError } from '../errors/status-error.js';

/** Longest key the Store contract accepts. @category Store implementation */
export const maxStoreKeyLength = 1024;

/** A short, printable rendering of a rejected value for error messages (never the whole value). */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  return Array.isArray(value) ? 'array' : typeof value;
}

/** A BadRequest naming the argument (or option) and the reason, with a field cause. @category Store implementation */
export function invalidStoreArgument(argument: string, value: unknown, why: string): StatusError {
  return errors.badRequest(`invalid ${argument} ${show(value)}: ${why}`, [
    { reason: 'FieldValueInvalid', field: argument, message: why },
  ]);
}

/** A key or key prefix by the contract's rules: a string starting with `/`, ≤ 1024 characters, no NUL. @category Store implementation */
export function checkStoreKey(key: unknown, argument = 'key'): StatusError | undefined {
  if (typeof key !== 'string') return invalidStoreArgument(argument, key, 'must be a string');
  if (key.length === 0 || key.charCodeAt(0) !== 47)
    return invalidStoreArgument(argument, key, "must start with '/'");
  if (key.length > maxStoreKeyLength)
    return invalidStoreArgument(argument, key, `must be at most ${maxStoreKeyLength} characters`);
  if (key.includes('\0')) return invalidStoreArgument(argument, key, 'must not contain NUL characters');
  return undefined;
}

export function checkStoreValue(value: unknown): StatusError | undefined {
  return typeof value === 'string' ? undefined : invalidStoreArgument('value', value, 'must be a string');
}

/** A revision: a positive safe integer, or a non-negative one when `allowZero`. @category Store implementation */
export function checkStoreRevision(
  revision: unknown,
  argument: string,
  allowZero = false,
): StatusError | undefined {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision)) {
    return invalidStoreArgument(argument, revision, 'must be an integer');
  }
  if (revision < 0 || (revision === 0 && !allowZero)) {
    return invalidStoreArgument(argument, revision, allowZero ? 'must not be negative' : 'must be positive');
  }
  return undefined;
}

export function checkStoreLimit(limit: unknown): StatusError | undefined {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit))
    return invalidStoreArgument('limit', limit, 'must be an integer');
  if (limit <= 0) return invalidStoreArgument('limit', limit, 'must be positive');
  return undefined;
}

/** An options argument: absent, or a plain object. @category Store implementation */
export function checkStoreOptions(options: unknown, argument = 'options'): StatusError | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return invalidStoreArgument(argument, options, 'must be an object');
  }
  return undefined;
}

/** Where a paged list resumes: the list's revision and the first key (store key, unprefixed) of the next page. @category Store implementation */
export interface ContinuePosition {
  revision: number;
  startKey: string;
}

/** Encodes a continue token: base64url JSON, opaque to callers and safe in URLs. @category Store implementation */
export function encodeContinueToken(position: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ rv: position.revision, start: position.startKey })).toString(
    'base64url',
  );
}

/** Decodes a continue token issued for `prefix`, or returns a BadRequest saying what is wrong with it. @category Store implementation */
export function decodeContinueToken(token: unknown, prefix: string): ContinuePosition | StatusError {
  if (typeof token !== 'string' || token.length === 0)
    return invalidStoreArgument('continue', token, 'must be a non-empty string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return invalidStoreArgument('continue', token, 'is not a continue token');
  }
  const { rv, start } = (parsed ?? {}) as { rv?: unknown; start?: unknown };
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv <= 0 || typeof start !== 'string') {
    return invalidStoreArgument('continue', token, 'is not a continue token');
  }
  if (!start.startsWith(prefix))
    return invalidStoreArgument('continue', token, `was issued for another prefix than ${prefix}`);
  return { revision: rv, startKey: start };
}
