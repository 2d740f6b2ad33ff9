// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatusError } from '../errors/status-error.js';
import { expectThrownStatusError } from '../testing/status-rejection.js';
import { parseQuantity, Quantity, type QuantityFormat } from './quantity.js';

const q = (s: string): Quantity => Quantity.parse(s);

const badRequest = (fn: () => unknown): StatusError => expectThrownStatusError(fn, { reason: 'BadRequest' });

describe('Quantity.parse → canonical toString', () => {
  it.each<[string, string, QuantityFormat]>([
    ['0', '0', 'DecimalSI'],
    ['-0', '0', 'DecimalSI'],
    ['0Ki', '0', 'BinarySI'],
    ['0.0', '0', 'DecimalSI'],
    ['00012', '12', 'DecimalSI'],
    ['100m', '100m', 'DecimalSI'],
    ['1.5Gi', '1536Mi', 'BinarySI'],
    ['2e3', '2e3', 'DecimalExponent'],
    ['1k', '1k', 'DecimalSI'],
    ['1Ki', '1Ki', 'BinarySI'],
    ['500M', '500M', 'DecimalSI'],
    ['0.5', '500m', 'DecimalSI'],
    ['-1', '-1', 'DecimalSI'],
    ['1E', '1E', 'DecimalSI'],
    ['1n', '1n', 'DecimalSI'],
    ['1u', '1u', 'DecimalSI'],
    ['1000m', '1', 'DecimalSI'],
    ['0.1', '100m', 'DecimalSI'],
    ['1500', '1500', 'DecimalSI'],
    ['1.5k', '1500', 'DecimalSI'],
    ['1500000', '1500k', 'DecimalSI'],
    ['1000', '1k', 'DecimalSI'],
    ['1024', '1024', 'DecimalSI'],
    ['1024Ki', '1Mi', 'BinarySI'],
    ['1536Ki', '1536Ki', 'BinarySI'],
    ['0.5Ki', '512', 'BinarySI'],
    ['1.5Ki', '1536', 'BinarySI'],
    ['0.3Ki', '307200m', 'BinarySI'],
    ['1023Ki', '1023Ki', 'BinarySI'],
    ['1Ei', '1Ei', 'BinarySI'],
    ['2048Ei', '9223372036854775807', 'BinarySI'], // capped at 2^63-1, as upstream
    ['0.5Mi', '512Ki', 'BinarySI'],
    ['12e6', '12e6', 'DecimalExponent'],
    ['1.5e3', '1500', 'DecimalExponent'],
    ['1e-3', '1e-3', 'DecimalExponent'],
    ['1E3', '1e3', 'DecimalExponent'],
    ['1e+3', '1e3', 'DecimalExponent'],
    ['1e21', '1e21', 'DecimalExponent'],
    ['1000E', '1000E', 'DecimalSI'],
    ['1000000E', '1000000E', 'DecimalSI'],
    ['0.1n', '1n', 'DecimalSI'], // finer than nano rounds up
    ['-0.1n', '-1n', 'DecimalSI'], // ... away from zero
    ['1.0000000001', '1000000001n', 'DecimalSI'],
    ['1.23456789012', '1234567891n', 'DecimalSI'],
    ['1e-30', '1e-9', 'DecimalExponent'],
    ['1e-99999999', '1e-9', 'DecimalExponent'],
    ['0.0000000001m', '1n', 'DecimalSI'],
    ['+1', '1', 'DecimalSI'],
    ['.5', '500m', 'DecimalSI'],
    ['5.', '5', 'DecimalSI'],
    ['1.G', '1G', 'DecimalSI'],
    ['123456789', '123456789', 'DecimalSI'],
    ['0.000000001', '1n', 'DecimalSI'],
    ['-1.5Gi', '-1536Mi', 'BinarySI'],
    ['-100m', '-100m', 'DecimalSI'],
    ['-1Ki', '-1Ki', 'BinarySI'],
    ['-512', '-512', 'DecimalSI'],
    ['1500u', '1500u', 'DecimalSI'],
    ['0.001m', '1u', 'DecimalSI'],
    ['10Mi', '10Mi', 'BinarySI'],
    ['128974848', '128974848', 'DecimalSI'],
    ['129e6', '129e6', 'DecimalExponent'],
    ['129M', '129M', 'DecimalSI'],
    ['123Mi', '123Mi', 'BinarySI'],
    ['  1  ', '1', 'DecimalSI'],
  ])('%j → %j (%s)', (input, canonical, format) => {
    const quantity = q(input);
    expect(quantity.toString()).toBe(canonical);
    expect(quantity.format).toBe(format);
    expect(JSON.stringify({ cpu: quantity })).toBe(`{"cpu":"${canonical}"}`);
    // The canonical form is a fixed point and keeps the value.
    expect(q(canonical).toString()).toBe(canonical);
    expect(q(canonical).equals(quantity)).toBe(true);
  });

  it.each([
    [2, '2'],
    [0.25, '250m'],
    [-3, '-3'],
    [1e21, '1e21'],
    [1e-7, '100e-9'], // String(1e-7) is '1e-7', so the exponent family is kept
  ])('accepts the JSON number %j → %j', (input, canonical) => {
    expect(Quantity.parse(input).toString()).toBe(canonical);
  });

  it('parseQuantity is the same as Quantity.parse', () => {
    expect(parseQuantity('1.5Gi').equals(q('1536Mi'))).toBe(true);
  });
});

describe('Quantity.parse: bad input', () => {
  it.each([
    ['', 'quantities must match the regular expression'],
    ['   ', 'quantities must match the regular expression'],
    ['abc', 'quantities must match the regular expression'],
    ['-', 'quantities must match the regular expression'],
    ['+', 'quantities must match the regular expression'],
    ['.', 'quantities must match the regular expression'],
    ['e3', 'quantities must match the regular expression'],
    ['Ki', 'quantities must match the regular expression'],
    ['--1', 'quantities must match the regular expression'],
    ['1.5.5', 'quantities must match the regular expression'],
    ['1 m', 'quantities must match the regular expression'],
    ['1KB', 'quantities must match the regular expression'],
    ['1e1.5', 'quantities must match the regular expression'],
    ['1Kb', 'quantities must match the regular expression'],
    ['1ki', "unable to parse quantity's suffix"],
    ['1K', "unable to parse quantity's suffix"],
    ['1e', "unable to parse quantity's suffix"],
    ['1Ki3', "unable to parse quantity's suffix"],
    ['1mm', "unable to parse quantity's suffix"],
    ['1e-', "unable to parse quantity's suffix"],
    ['1e99999', 'exponent is out of range'],
  ])('%j → BadRequest %j naming the input', (input, fragment) => {
    const error = badRequest(() => Quantity.parse(input));
    expect(error.message).toContain(fragment);
    expect(error.message).toContain(`quantity ${JSON.stringify(input)} is invalid`);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}, true])(
    'rejects %j without a TypeError',
    (input) => {
      badRequest(() => Quantity.parse(input as unknown as string));
    },
  );
});

describe('Quantity values', () => {
  it.each([
    ['100m', 1, 100, 100_000_000n],
    ['1.5', 2, 1500, 1_500_000_000n],
    ['-1.5', -2, -1500, -1_500_000_000n],
    ['1n', 1, 1, 1n],
    ['-1n', -1, -1, -1n],
    ['1Ki', 1024, 1_024_000, 1_024_000_000_000n],
    ['0', 0, 0, 0n],
    ['2', 2, 2000, 2_000_000_000n],
    ['1500u', 1, 2, 1_500_000n],
  ])('%j: value %i, milliValue %i, nanoValue %s', (input, value, milli, nanos) => {
    const quantity = q(input);
    expect(quantity.value()).toBe(value);
    expect(quantity.milliValue()).toBe(milli);
    expect(quantity.nanoValue()).toBe(nanos);
  });

  it('asApproximateFloat', () => {
    expect(q('1.5').asApproximateFloat()).toBe(1.5);
    expect(q('100m').asApproximateFloat()).toBeCloseTo(0.1, 12);
    expect(q('-2Ki').asApproximateFloat()).toBe(-2048);
  });

  it('constructors', () => {
    expect(Quantity.fromMilli(1500).toString()).toBe('1500m');
    expect(Quantity.fromMilli(1000).toString()).toBe('1');
    expect(Quantity.fromMilli(100n).toString()).toBe('100m');
    expect(Quantity.fromValue(2048, 'BinarySI').toString()).toBe('2Ki');
    expect(Quantity.fromValue(3).toString()).toBe('3');
    expect(Quantity.fromNano(5).toString()).toBe('5n');
    expect(Quantity.zero().isZero()).toBe(true);
    expect(Quantity.zero('BinarySI').add(q('1Mi')).toString()).toBe('1Mi');
    expect(badRequest(() => Quantity.fromMilli(1.5)).message).toContain('milli must be a safe integer');
    expect(badRequest(() => Quantity.fromValue(Number.NaN)).message).toContain(
      'value must be a safe integer',
    );
  });
});

describe('Quantity arithmetic and comparison', () => {
  it.each([
    ['100m', '200m', '300m'],
    ['0.1', '0.2', '300m'],
    ['1', '1Ki', '1025'],
    ['0', '1Ki', '1Ki'], // zero takes the other's format
    ['1Gi', '-512Mi', '512Mi'],
    ['1n', '999999999n', '1'],
    ['9223372036854775807', '1', '9223372036854775808'], // no int64 overflow
  ])('%j + %j = %j', (a, b, sum) => {
    expect(q(a).add(q(b)).toString()).toBe(sum);
  });

  it.each([
    ['1Gi', '512Mi', '512Mi'],
    ['1Ki', '1Ki', '0'],
    ['1', '1500m', '-500m'],
    ['0', '1Ki', '-1Ki'],
    ['300m', '100m', '200m'],
  ])('%j - %j = %j', (a, b, difference) => {
    expect(q(a).sub(q(b)).toString()).toBe(difference);
  });

  it('neg, mul, sign, withFormat', () => {
    expect(q('1Ki').neg().toString()).toBe('-1Ki');
    expect(q('0').neg().isZero()).toBe(true);
    expect(q('250m').mul(4).toString()).toBe('1');
    expect(q('1Mi').mul(3n).toString()).toBe('3Mi');
    expect(q('-3').sign()).toBe(-1);
    expect(q('0').sign()).toBe(0);
    expect(q('3m').sign()).toBe(1);
    expect(q('1Ki').withFormat('DecimalSI').toString()).toBe('1024');
    expect(q('1k').withFormat('DecimalExponent').toString()).toBe('1e3');
    expect(badRequest(() => q('1').mul(0.5)).message).toContain('factor');
  });

  it.each([
    ['1Ki', '1024', 0],
    ['1k', '1Ki', -1],
    ['1E', '1Ei', -1],
    ['-1', '0', -1],
    ['1', '999m', 1],
    ['1e3', '1k', 0],
    ['100m', '0.1', 0],
  ])('compare(%j, %j) = %i', (a, b, expected) => {
    expect(q(a).compare(q(b))).toBe(expected);
    expect(q(b).compare(q(a))).toBe(-expected || 0);
    expect(q(a).equals(q(b))).toBe(expected === 0);
  });

  it('is immutable', () => {
    const a = q('1');
    a.add(q('1'));
    a.neg();
    expect(a.toString()).toBe('1');
  });
});

// ---- properties ---------------------------------------------------------------------------------

const MAX_BINARY_NANOS = (2n ** 63n - 1n) * 10n ** 9n;
const format = fc.constantFrom<QuantityFormat>('BinarySI', 'DecimalSI', 'DecimalExponent');
const nanos = fc.oneof(
  fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
  fc.bigInt({ min: -MAX_BINARY_NANOS, max: MAX_BINARY_NANOS }),
  fc.bigInt({ min: -4n, max: 4n }).map((k) => k * 2n ** 30n * 10n ** 9n),
);
const quantity = fc.tuple(nanos, format).map(([n, f]) => Quantity.fromNano(n, f));
const written = fc
  .tuple(
    fc.constantFrom('', '-', '+'),
    fc.stringMatching(/^[0-9]{1,8}$/),
    fc.option(fc.stringMatching(/^[0-9]{0,10}$/), { nil: undefined }),
    fc.constantFrom(
      '',
      'n',
      'u',
      'm',
      'k',
      'M',
      'G',
      'T',
      'P',
      'E',
      'Ki',
      'Mi',
      'Gi',
      'Ti',
      'Pi',
      'Ei',
      'e3',
      'e-2',
      'E5',
      'e0',
    ),
  )
  .map(([sign, int, frac, suffix]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}${suffix}`);

describe('Quantity properties', () => {
  it('parse(format(q)) round-trips value and canonical form', () => {
    fc.assert(
      fc.property(quantity, (value) => {
        const text = value.toString();
        const parsed = Quantity.parse(text);
        expect(parsed.equals(value)).toBe(true);
        expect(parsed.toString()).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('anything written in the grammar parses to a canonical fixed point', () => {
    fc.assert(
      fc.property(written, (text) => {
        const parsed = Quantity.parse(text);
        const again = Quantity.parse(parsed.toString());
        expect(again.equals(parsed)).toBe(true);
        expect(again.toString()).toBe(parsed.toString());
      }),
      { numRuns: 1000 },
    );
  });

  it('add and sub are inverse, add commutes, compare agrees with sub', () => {
    fc.assert(
      fc.property(quantity, quantity, (a, b) => {
        expect(a.add(b).sub(b).equals(a)).toBe(true);
        expect(a.sub(b).add(b).equals(a)).toBe(true);
        expect(a.add(b).equals(b.add(a))).toBe(true);
        expect(a.compare(b)).toBe(a.sub(b).sign());
        expect(a.add(b.neg()).equals(a.sub(b))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('milliValue is the nano value rounded away from zero', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (n) => {
        const magnitude = n < 0n ? -n : n;
        const roundedUp = (magnitude + 999_999n) / 1_000_000n;
        expect(BigInt(Quantity.fromNano(n).milliValue())).toBe(n < 0n ? -roundedUp : roundedUp);
      }),
      { numRuns: 500 },
    );
  });
});
