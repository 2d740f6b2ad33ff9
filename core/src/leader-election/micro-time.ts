// SPDX-License-Identifier: Apache-2.0
import { StatusError } from '../errors/status-error.js';

/**
 * Formats ms since the epoch as a Kubernetes `MicroTime` (RFC 3339 with six fractional digits, UTC),
 * e.g. `2026-01-01T00:00:00.123000Z`.
 * @category Leader election
 */
export function formatMicroTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new StatusError('BadRequest', `ms: must be a finite number, got ${ms}`);
  // toISOString gives milliseconds; the clock has no finer resolution, so pad to microseconds.
  return new Date(Math.floor(ms)).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Parses a `MicroTime` (or any RFC 3339 time) into ms since the epoch; `undefined` when absent or unparsable.
 * @category Leader election
 */
export function parseMicroTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
