// SPDX-License-Identifier: Apache-2.0
/**
 * Checks for plugin arguments as a profile's `pluginConfig` gives them (plain JSON from a YAML file), so a
 * bad value fails the factory with an `Invalid` StatusError naming the field instead of a TypeError later.
 * @module
 */
import { errors, type StatusCause, type StatusError } from '@cpkit/core';

/** Collects field errors of one plugin's arguments and throws them together. */
export class ArgsErrors {
  readonly causes: StatusCause[] = [];

  /** @param kind the upstream args kind, e.g. `NodeResourcesFitArgs`. @param plugin the plugin name. */
  constructor(
    readonly kind: string,
    readonly plugin: string,
  ) {}

  /** Records `field: Invalid value: <value>: <reason>`, as upstream's field.Invalid prints it. */
  invalid(field: string, value: unknown, reason: string): void {
    this.causes.push({
      reason: 'FieldValueInvalid',
      field,
      message: `Invalid value: ${JSON.stringify(value) ?? String(value)}: ${reason}`,
    });
  }

  /** Records an already formatted message for `field`. */
  add(field: string, message: string, reason = 'FieldValueInvalid'): void {
    this.causes.push({ reason, field, message });
  }

  required(field: string, reason = ''): void {
    this.causes.push({
      reason: 'FieldValueRequired',
      field,
      message: reason ? `Required value: ${reason}` : 'Required value',
    });
  }

  duplicate(field: string, value: unknown): void {
    this.causes.push({
      reason: 'FieldValueDuplicate',
      field,
      message: `Duplicate value: ${JSON.stringify(value)}`,
    });
  }

  notSupported(field: string, value: unknown, supported: readonly string[]): void {
    this.causes.push({
      reason: 'FieldValueNotSupported',
      field,
      message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
    });
  }

  /** Throws the collected errors as one `Invalid` StatusError; does nothing when there are none. */
  throwIfAny(): void {
    if (this.causes.length > 0) throw this.toError();
  }

  toError(): StatusError {
    return errors.invalid(this.kind, this.plugin, this.causes);
  }
}

/** True for a plain object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the plugin's args as an object: `undefined`/`null` become `{}`; anything else that is not an object
 * is an error naming the plugin.
 */
export function argsObject(args: unknown, errs: ArgsErrors): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (!isPlainObject(args)) {
    errs.invalid('args', args, `must be an object (${errs.kind})`);
    errs.throwIfAny();
  }
  return args as Record<string, unknown>;
}

/** A list of strings at `field`, or `[]` when absent; records an error for anything else. */
export function stringList(value: unknown, field: string, errs: ArgsErrors): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errs.invalid(field, value, 'must be a list of strings');
    return [];
  }
  const result: string[] = [];
  value.forEach((item, i) => {
    if (typeof item === 'string') result.push(item);
    else errs.invalid(`${field}[${i}]`, item, 'must be a string');
  });
  return result;
}

/** An integer at `field`, `fallback` when absent; records an error for a non-integer. */
export function integer(value: unknown, field: string, errs: ArgsErrors, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    errs.invalid(field, value, 'must be an integer');
    return fallback;
  }
  return value;
}
