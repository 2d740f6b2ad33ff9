// SPDX-License-Identifier: Apache-2.0
/**
 * Kubernetes field selectors: `?fieldSelector=metadata.name=web,status.phase!=Running`. Each
 * requirement compares one field of an object, as a string, for equality (`=`, `==`) or inequality
 * (`!=`). Which fields a kind supports is the kind's business: {@link objectMetaFieldSet} gives the
 * two every kind has, kinds add their own (`spec.nodeName`, `status.phase`, `involvedObject.kind`),
 * and {@link checkFieldSelectorFields} rejects the rest.
 *
 * @module
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { errors, StatusError } from '../errors/status-error.js';

/** One requirement of a field selector. `==` is read as `Equals`. @category Selectors */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: 'Equals' | 'NotEquals';
  /** The value with its escapes removed. */
  readonly value: string;
}

/** A compiled field selector. @category Selectors */
export interface FieldSelectorMatcher {
  /** The requirements, in canonical order (sorted by their printed form). */
  readonly requirements: readonly FieldRequirement[];
  /** True when there are no requirements: the selector matches every object. */
  readonly empty: boolean;
  /**
   * Whether an object whose selectable fields are `fields` is selected. A field missing from
   * `fields` compares as the empty string, as upstream does.
   */
  matches(fields: Readonly<Record<string, string>>): boolean;
  /**
   * The value `field` must equal for the selector to match, when the selector pins it with `=`;
   * otherwise `undefined`. Lets a registry turn `metadata.name=x` into a single get, or an informer
   * index `spec.nodeName=n` into an index lookup.
   */
  requiresExactMatch(field: string): string | undefined;
  /** The canonical string form (`a=b,c!=d`, values escaped); `''` for the empty selector. */
  toString(): string;
}

/** Escapes `\`, `,` and `=` in a field selector value. @category Selectors */
export function escapeFieldSelectorValue(value: string): string {
  return value.replace(/[\\,=]/g, (ch) => `\\${ch}`);
}

function unescapeValue(raw: string, selector: string): string {
  if (!/[\\,=]/.test(raw)) return raw;
  let out = '';
  let escaping = false;
  for (const ch of raw) {
    if (escaping) {
      if (ch !== '\\' && ch !== ',' && ch !== '=') {
        throw errors.badRequest(
          `invalid field selector "${selector}": invalid escape sequence: \\${ch} (only \\\\, \\, and \\= are allowed)`,
        );
      }
      out += ch;
      escaping = false;
    } else if (ch === '\\') {
      escaping = true;
    } else if (ch === ',' || ch === '=') {
      throw errors.badRequest(
        `invalid field selector "${selector}": unescaped character in value: '${ch}' (escape it as \\${ch})`,
      );
    } else {
      out += ch;
    }
  }
  if (escaping) throw errors.badRequest(`invalid field selector "${selector}": invalid escape sequence: \\`);
  return out;
}

/** Splits on commas that are not escaped with a backslash. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaping = false;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (escaping) escaping = false;
    else if (ch === '\\') escaping = true;
    else if (ch === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** The first operator in the term, scanning left to right; `!=` and `==` win over `=` at one spot. */
function splitTerm(term: string): [string, '!=' | '==' | '=', string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

class CompiledFieldSelector implements FieldSelectorMatcher {
  readonly requirements: readonly FieldRequirement[];
  private readonly text: string;

  constructor(requirements: FieldRequirement[]) {
    // Sorting by the printed term (not the term as written, whose `==` and escapes vary) makes
    // toString() a fixed point of parse, so equal selectors print equally.
    const terms = requirements.map((r) => ({
      r: Object.freeze(r),
      text: `${r.field}${r.operator === 'Equals' ? '=' : '!='}${escapeFieldSelectorValue(r.value)}`,
    }));
    terms.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    this.requirements = Object.freeze(terms.map((t) => t.r));
    this.text = terms.map((t) => t.text).join(',');
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(fields: Readonly<Record<string, string>>): boolean {
    for (const r of this.requirements) {
      const actual = Object.hasOwn(fields, r.field) ? fields[r.field] : '';
      if ((actual === r.value) !== (r.operator === 'Equals')) return false;
    }
    return true;
  }

  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === 'Equals')?.value;
  }

  toString(): string {
    return this.text;
  }
}

/**
 * Parses a field selector string. Terms are separated by unescaped commas; each is
 * `field=value`, `field==value` or `field!=value`; in values, `\,`, `\=` and `\\` stand for
 * themselves and a bare `,` or `=` is an error. Empty terms are ignored, so `''` selects
 * everything. Whitespace is significant, as upstream treats it. Throws `BadRequest` naming the
 * selector and the term at fault.
 * @category Selectors
 */
export function parseFieldSelector(selector: string): FieldSelectorMatcher {
  if (typeof selector !== 'string') {
    throw errors.badRequest(`field selector must be a string, got ${typeof selector}`);
  }
  const requirements: FieldRequirement[] = [];
  for (const term of splitTerms(selector)) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (!parts) {
      throw errors.badRequest(
        `invalid field selector "${selector}": can't understand '${term}' (expected field=value, field==value or field!=value)`,
      );
    }
    const [field, op, raw] = parts;
    requirements.push({
      field,
      operator: op === '!=' ? 'NotEquals' : 'Equals',
      value: unescapeValue(raw, selector),
    });
  }
  return new CompiledFieldSelector(requirements);
}

/**
 * A selector requiring `field=value` for every entry of `fields` (entries in key order).
 * @category Selectors
 */
export function fieldSelectorFromSet(fields: Readonly<Record<string, string>>): FieldSelectorMatcher {
  return new CompiledFieldSelector(
    Object.keys(fields).map((field) => ({ field, operator: 'Equals' as const, value: fields[field] })),
  );
}

/** A field selector that matches every object. @category Selectors */
export function everythingFieldSelector(): FieldSelectorMatcher {
  return new CompiledFieldSelector([]);
}

/**
 * Rejects a selector that uses a field outside `allowed`: `BadRequest` with the upstream message
 * `field label not supported: <field>`, a `FieldValueNotSupported` cause naming the field and the
 * supported ones, and `resource` as the details' kind.
 * @category Selectors
 */
export function checkFieldSelectorFields(
  matcher: FieldSelectorMatcher,
  allowed: readonly string[],
  resource: string,
): void {
  for (const requirement of matcher.requirements) {
    if (allowed.includes(requirement.field)) continue;
    const supported = allowed.map((f) => JSON.stringify(f)).join(', ');
    throw new StatusError('BadRequest', `field label not supported: ${requirement.field}`, {
      kind: resource,
      causes: [
        {
          reason: 'FieldValueNotSupported',
          field: 'fieldSelector',
          message: `Unsupported value: ${JSON.stringify(requirement.field)}: supported values: ${supported}`,
        },
      ],
    });
  }
}

/** The field selector names every kind supports: `metadata.name`, and `metadata.namespace` when namespaced. @category Selectors */
export function objectMetaFieldNames(namespaced = true): string[] {
  return namespaced ? ['metadata.name', 'metadata.namespace'] : ['metadata.name'];
}

/**
 * The selectable fields every object has: `metadata.name`, and `metadata.namespace` for
 * namespaced kinds (missing values read as `''`). Per-kind field functions start from this and
 * add their own, e.g. `{ ...objectMetaFieldSet(pod), 'spec.nodeName': pod.spec?.nodeName ?? '' }`.
 *
 * Takes any object with `metadata`, so the `kubernetes-types` kinds (which lack an index
 * signature) can be passed directly.
 * @category Selectors
 */
export function objectMetaFieldSet(
  obj: { metadata?: ObjectMeta },
  namespaced = true,
): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.name': obj?.metadata?.name ?? '' };
  if (namespaced) fields['metadata.namespace'] = obj?.metadata?.namespace ?? '';
  return fields;
}
