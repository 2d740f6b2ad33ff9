// SPDX-License-Identifier: Apache-2.0
/**
 * Kubernetes resource quantities (`100m`, `1.5Gi`, `2e3`, `1k`) with exact arithmetic.
 *
 * A quantity is kept as a BigInt count of nano-units (10⁻⁹), the finest precision Kubernetes keeps,
 * so sums like `100m + 200m` are exact and there is no upper bound short of memory. Like
 * upstream's `resource.Quantity`, it remembers the format family it was written in (BinarySI,
 * DecimalSI, DecimalExponent) and prints itself in that family's canonical form: the largest
 * suffix that loses nothing and leaves no fractional digits (`1.5Gi` → `1536Mi`, `0.1` → `100m`,
 * `1000m` → `1`).
 *
 * @module
 */
import { errors } from '../errors/status-error.js';

/** How a quantity is written: `12Mi` (BinarySI), `12M` (DecimalSI), `12e6` (DecimalExponent). @category Quantities */
export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

const NANOS_PER_UNIT = 10n ** 9n;
const NANOS_PER_MILLI = 10n ** 6n;
/** Upstream caps BinarySI input at the int64 maximum; we keep that cap so values match. */
const MAX_BINARY_NANOS = (2n ** 63n - 1n) * NANOS_PER_UNIT;
/** Guards against `1e999999999`, which would otherwise allocate a billion-digit number. */
const MAX_DECIMAL_EXPONENT = 10_000;

const FORMAT_PATTERN = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const decimalSuffixExponents: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const binarySuffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;
const decimalSuffixByExponent = new Map(Object.entries(decimalSuffixExponents).map(([s, e]) => [e, s]));

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** Divides, rounding away from zero, as upstream's ScaledValue does. */
function divideAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (q * d === n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

function invalid(input: unknown, why: string): never {
  const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
  throw errors.badRequest(`quantity ${shown} is invalid: ${why}`);
}

/**
 * A Kubernetes resource quantity. Immutable: arithmetic returns new quantities.
 *
 * ```ts
 * const cpu = Quantity.parse('250m').add(Quantity.parse('1.5')); // 1750m
 * cpu.milliValue(); // 1750
 * Quantity.parse('1.5Gi').toString(); // '1536Mi'
 * ```
 * @category Quantities
 */
export class Quantity {
  readonly #nanos: bigint;
  /** The format family this quantity prints in. */
  readonly format: QuantityFormat;
  #text: string | undefined;

  private constructor(nanos: bigint, format: QuantityFormat) {
    this.#nanos = nanos;
    this.format = format;
  }

  /**
   * Parses a quantity. Accepts the upstream grammar: an optional sign, a decimal number
   * (`1`, `1.5`, `.5`, `5.`), and an optional suffix — a binary SI suffix (`Ki` … `Ei`), a decimal
   * SI suffix (`n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E`), or an exponent (`e3`, `E-2`). A JSON
   * number is accepted too, as the API accepts `cpu: 2`. Precision finer than 1n is rounded up
   * (away from zero); BinarySI values are capped at 2⁶³-1 as upstream caps them.
   *
   * Throws `BadRequest` naming the input when it is not a quantity.
   */
  static parse(input: string | number): Quantity {
    let text: string;
    if (typeof input === 'number') {
      if (!Number.isFinite(input)) invalid(input, 'not a finite number');
      text = String(input);
    } else if (typeof input === 'string') {
      // The JSON path upstream trims surrounding whitespace, so we accept it too.
      text = input.trim();
    } else {
      throw errors.badRequest(
        `quantity must be a string or a number, got ${input === null ? 'null' : typeof input}`,
      );
    }
    if (text === '') invalid(input, `quantities must match the regular expression '${FORMAT_PATTERN}'`);

    let pos = 0;
    let negative = false;
    if (text[0] === '+' || text[0] === '-') {
      negative = text[0] === '-';
      pos++;
    }
    const intStart = pos;
    while (pos < text.length && text[pos] >= '0' && text[pos] <= '9') pos++;
    const intDigits = text.slice(intStart, pos);
    let fracDigits = '';
    if (text[pos] === '.') {
      pos++;
      const fracStart = pos;
      while (pos < text.length && text[pos] >= '0' && text[pos] <= '9') pos++;
      fracDigits = text.slice(fracStart, pos);
    }
    // Stricter than upstream, which reads a lone sign or dot as zero: those are typos, not zeros.
    if (intDigits === '' && fracDigits === '') {
      invalid(input, `quantities must match the regular expression '${FORMAT_PATTERN}'`);
    }
    const suffix = text.slice(pos);
    if (!/^[eEinumkKMGTP]*[-+]?[0-9]*$/.test(suffix)) {
      invalid(input, `quantities must match the regular expression '${FORMAT_PATTERN}'`);
    }

    let format: QuantityFormat;
    let decimalExponent = 0;
    let binaryPower = 0;
    if (suffix in decimalSuffixExponents) {
      format = 'DecimalSI';
      decimalExponent = decimalSuffixExponents[suffix];
    } else if ((binarySuffixes as readonly string[]).includes(suffix)) {
      format = 'BinarySI';
      binaryPower = (binarySuffixes as readonly string[]).indexOf(suffix) * 10;
    } else if (
      suffix.length > 1 &&
      (suffix[0] === 'e' || suffix[0] === 'E') &&
      /^[+-]?[0-9]+$/.test(suffix.slice(1))
    ) {
      format = 'DecimalExponent';
      const exponent = Number(suffix.slice(1));
      if (exponent > MAX_DECIMAL_EXPONENT)
        invalid(input, `exponent is out of range (at most e${MAX_DECIMAL_EXPONENT})`);
      decimalExponent = Math.max(exponent, -MAX_DECIMAL_EXPONENT);
    } else {
      invalid(input, "unable to parse quantity's suffix");
    }

    const mantissa = BigInt(intDigits + fracDigits || '0');
    let magnitude: bigint;
    if (format === 'BinarySI') {
      // mantissa · 2^power / 10^fracLen, in nanos, rounded up.
      magnitude = divideAwayFromZero(
        mantissa * (1n << BigInt(binaryPower)) * NANOS_PER_UNIT,
        pow10(fracDigits.length),
      );
      if (magnitude > MAX_BINARY_NANOS) magnitude = MAX_BINARY_NANOS;
      // A fraction of a byte cannot be printed with a binary suffix; upstream switches family too.
      if (magnitude > 0n && magnitude < NANOS_PER_UNIT) format = 'DecimalSI';
    } else {
      const scale = decimalExponent - fracDigits.length + 9;
      if (scale >= 0) magnitude = mantissa * pow10(scale);
      else if (-scale > intDigits.length + fracDigits.length + 1) magnitude = mantissa === 0n ? 0n : 1n;
      else magnitude = divideAwayFromZero(mantissa, pow10(-scale));
    }
    return new Quantity(negative ? -magnitude : magnitude, format);
  }

  /** A quantity of `milli` thousandths (`Quantity.fromMilli(1500)` is `1500m`), in DecimalSI. */
  static fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(milli, 'milli') * NANOS_PER_MILLI, format);
  }

  /** A quantity of `value` whole units (`Quantity.fromValue(2048, 'BinarySI')` is `2Ki`). */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(value, 'value') * NANOS_PER_UNIT, format);
  }

  /** A quantity of `nanos` billionths of a unit. */
  static fromNano(nanos: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(nanos, 'nanos'), format);
  }

  /** Zero, in the given format. */
  static zero(format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(0n, format);
  }

  /** True for zero (of any sign or format). */
  isZero(): boolean {
    return this.#nanos === 0n;
  }

  /** -1, 0 or 1 as this quantity is less than, equal to or greater than `other`, whatever their formats. */
  compare(other: Quantity): -1 | 0 | 1 {
    return this.#nanos < other.#nanos ? -1 : this.#nanos > other.#nanos ? 1 : 0;
  }

  /** True when both quantities have the same value (`1Ki` equals `1024`). */
  equals(other: Quantity): boolean {
    return this.#nanos === other.#nanos;
  }

  /** `-1`, `0` or `1` by sign. */
  sign(): -1 | 0 | 1 {
    return this.#nanos < 0n ? -1 : this.#nanos > 0n ? 1 : 0;
  }

  /** The exact sum. Keeps this quantity's format, or takes `other`'s when this one is zero (as upstream). */
  add(other: Quantity): Quantity {
    return new Quantity(this.#nanos + other.#nanos, this.#nanos === 0n ? other.format : this.format);
  }

  /** The exact difference. Keeps this quantity's format, or takes `other`'s when this one is zero. */
  sub(other: Quantity): Quantity {
    return new Quantity(this.#nanos - other.#nanos, this.#nanos === 0n ? other.format : this.format);
  }

  /** The negation, in the same format. */
  neg(): Quantity {
    return new Quantity(-this.#nanos, this.format);
  }

  /** The product with an integer factor (e.g. a per-pod request times a replica count). */
  mul(factor: number | bigint): Quantity {
    return new Quantity(this.#nanos * toBigInt(factor, 'factor'), this.format);
  }

  /** The same value printed in another format family. */
  withFormat(format: QuantityFormat): Quantity {
    return new Quantity(this.#nanos, format);
  }

  /** The value in whole units, rounded away from zero (`100m` → 1), as upstream's `Value()`. */
  value(): number {
    return Number(divideAwayFromZero(this.#nanos, NANOS_PER_UNIT));
  }

  /** The value in thousandths, rounded away from zero (`1n` → 1), as upstream's `MilliValue()`. */
  milliValue(): number {
    return Number(divideAwayFromZero(this.#nanos, NANOS_PER_MILLI));
  }

  /** The exact value in billionths. */
  nanoValue(): bigint {
    return this.#nanos;
  }

  /** The value as a float, for scoring and ratios where exactness does not matter. */
  asApproximateFloat(): number {
    const whole = this.#nanos / NANOS_PER_UNIT;
    return Number(whole) + Number(this.#nanos - whole * NANOS_PER_UNIT) / 1e9;
  }

  /** The canonical string form. */
  toString(): string {
    this.#text ??= formatNanos(this.#nanos, this.format);
    return this.#text;
  }

  /** Quantities serialise as their canonical string, as on the Kubernetes wire. */
  toJSON(): string {
    return this.toString();
  }
}

function toBigInt(n: number | bigint, name: string): bigint {
  if (typeof n === 'bigint') return n;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw errors.badRequest(`${name} must be a safe integer, got ${String(n)}`);
  }
  return BigInt(n);
}

function formatNanos(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0';
  if (format === 'BinarySI') {
    // Below 1Ki or with a fraction, a binary suffix would round; upstream prints DecimalSI then.
    if (abs(nanos) >= 1024n * NANOS_PER_UNIT && nanos % NANOS_PER_UNIT === 0n) {
      let whole = nanos / NANOS_PER_UNIT;
      let power = 0;
      while (power < binarySuffixes.length - 1 && whole % 1024n === 0n) {
        whole /= 1024n;
        power++;
      }
      return `${whole}${binarySuffixes[power]}`;
    }
    format = 'DecimalSI';
  }
  // Strip trailing zeros, then move down to an exponent that is a multiple of three.
  let mantissa = nanos;
  let exponent = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  const remainder = ((exponent % 3) + 3) % 3;
  mantissa *= pow10(remainder);
  exponent -= remainder;
  if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  if (exponent > 18) {
    // Beyond E there is no suffix: keep the value exact with a larger mantissa.
    mantissa *= pow10(exponent - 18);
    exponent = 18;
  }
  return `${mantissa}${decimalSuffixByExponent.get(exponent)}`;
}

/** Shorthand for {@link Quantity.parse}. @category Quantities */
export function parseQuantity(input: string | number): Quantity {
  return Quantity.parse(input);
}
