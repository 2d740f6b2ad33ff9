// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { humanDuration, timestampSince } from './duration.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;
const y = 365 * d;

describe('humanDuration', () => {
  it.each([
    [-2 * s, '<invalid>'],
    [-1999, '0s'],
    [-1 * s, '0s'],
    [-500, '0s'],
    [0, '0s'],
    [999, '0s'],
    [5 * s, '5s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [2 * m + 30 * s, '2m30s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [3 * h + 5 * m, '3h5m'],
    [7 * h + 59 * m, '7h59m'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [2 * d, '2d'],
    [2 * d + 5 * h, '2d5h'],
    [7 * d + 23 * h, '7d23h'],
    [8 * d + 5 * h, '8d'],
    [45 * d, '45d'],
    [2 * y - 1, '729d'],
    [2 * y, '2y'],
    [3 * y + 120 * d, '3y120d'],
    [8 * y + 100 * d, '8y'],
    [20 * y, '20y'],
  ])('%d ms → %s', (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });
});

describe('timestampSince', () => {
  const now = Date.parse('2026-11-22T20:00:00Z');
  it.each([
    ['2026-11-22T19:55:00Z', '5m'],
    ['2026-11-22T19:59:30Z', '30s'],
    ['2026-11-20T15:00:00Z', '2d5h'],
    ['2026-11-22T20:00:05Z', '<invalid>'],
    [undefined, '<unknown>'],
    ['', '<unknown>'],
    ['not a time', '<unknown>'],
  ])('%s → %s', (timestamp, expected) => {
    expect(timestampSince(timestamp, now)).toBe(expected);
  });
});
