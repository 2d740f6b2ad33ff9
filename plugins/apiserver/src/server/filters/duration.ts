// SPDX-License-Identifier: Apache-2.0
import { errors } from '@cpkit/core';

const unitMs: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go duration (`30s`, `1m30s`, `250ms`, `1.5h`), the format of the `timeout` query
 * parameter, into milliseconds. A bare `0` is zero.
 * @throws StatusError `BadRequest` for anything else.
 * @category API server
 */
export function parseGoDuration(text: string, parameter = 'timeout'): number {
  const bad = () =>
    errors.badRequest(
      `invalid ${parameter} specified in the request URL: time: invalid duration ${JSON.stringify(text)}`,
    );
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let total = 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/;
  while (rest !== '') {
    const match = part.exec(rest);
    if (!match) throw bad();
    total += Number(match[1]) * (unitMs[match[2] ?? ''] ?? 0);
    rest = rest.slice(match[0].length);
  }
  if (!Number.isFinite(total)) throw bad();
  return sign * total;
}
