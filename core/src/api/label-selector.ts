// SPDX-License-Identifier: Apache-2.0
/**
 * Kubernetes label selectors: the string syntax of `?labelSelector=` and `kubectl -l`
 * (`app=web,tier!=db,env in (prod,staging),!canary,release`) and the structured `LabelSelector`
 * objects of workloads (`matchLabels` + `matchExpressions`). Both compile to one
 * {@link LabelSelectorMatcher}, whose `toString()` is the canonical string form upstream prints.
 *
 * @module
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { errors, StatusError } from '../errors/status-error.js';
import { isQualifiedName, isValidLabelValue } from './validation.js';

/**
 * A requirement operator. `=` and `==` are the string syntax's spellings of equality (kept apart
 * so a selector prints back as written); `Gt`/`Lt` compare integers and appear in node affinity.
 * @category Selectors
 */
export type LabelSelectorOperator =
  | 'In'
  | 'NotIn'
  | 'Exists'
  | 'DoesNotExist'
  | 'Equals'
  | 'DoubleEquals'
  | 'NotEquals'
  | 'GreaterThan'
  | 'LessThan';

/** One requirement of a selector: all of a selector's requirements must hold. @category Selectors */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelSelectorOperator;
  /** Sorted and without duplicates; empty for Exists and DoesNotExist. */
  readonly values: readonly string[];
}

/** A compiled label selector. @category Selectors */
export interface LabelSelectorMatcher {
  /** The requirements, sorted by key (the order of the canonical string form). */
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector has no requirements and therefore matches every object. */
  readonly empty: boolean;
  /** Whether an object with these labels is selected. `undefined` labels behave as no labels. */
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** The canonical string form (`a=b,c in (d,e),!f`); `''` for the empty selector. */
  toString(): string;
}

const operatorSymbols: Readonly<Record<LabelSelectorOperator, string>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: '',
  DoesNotExist: '!',
  Equals: '=',
  DoubleEquals: '==',
  NotEquals: '!=',
  GreaterThan: '>',
  LessThan: '<',
};

function requirementToString(r: LabelRequirement): string {
  switch (r.operator) {
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
    case 'In':
    case 'NotIn':
      // A lone empty value would print as `()`, which reads back as "no values"; `(,)` reads back
      // as the empty string (upstream prints `()` here and cannot parse its own output).
      return `${r.key} ${operatorSymbols[r.operator]} (${r.values.length === 1 && r.values[0] === '' ? ',' : r.values.join(',')})`;
    default:
      return `${r.key}${operatorSymbols[r.operator]}${r.values[0] ?? ''}`;
  }
}

/** Parses a label value as upstream does for Gt/Lt: a base-10 64-bit integer. */
function parseInteger(value: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(value)) return undefined;
  const n = BigInt(value);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

function requirementMatches(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'In':
    case 'Equals':
    case 'DoubleEquals':
      return has && r.values.includes(labels[r.key]);
    case 'NotIn':
    case 'NotEquals':
      return !has || !r.values.includes(labels[r.key]);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'GreaterThan':
    case 'LessThan': {
      if (!has) return false;
      const actual = parseInteger(labels[r.key]);
      const bound = parseInteger(r.values[0]);
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'GreaterThan' ? actual > bound : actual < bound;
    }
  }
}

class CompiledLabelSelector implements LabelSelectorMatcher {
  readonly requirements: readonly LabelRequirement[];
  private readonly text: string;

  constructor(requirements: LabelRequirement[]) {
    // A stable sort keeps the written order among requirements on the same key.
    this.requirements = Object.freeze(
      requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((r) => Object.freeze(r)),
    );
    this.text = this.requirements.map(requirementToString).join(',');
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    const set = labels ?? {};
    for (const r of this.requirements) if (!requirementMatches(r, set)) return false;
    return true;
  }

  toString(): string {
    return this.text;
  }
}

/** Matches nothing: what a null `LabelSelector` means upstream. */
class NothingLabelSelector implements LabelSelectorMatcher {
  readonly requirements: readonly LabelRequirement[] = Object.freeze([]);
  readonly empty = false;
  matches(): boolean {
    return false;
  }
  toString(): string {
    return '';
  }
}

function invalidRequirement(message: string): StatusError {
  return errors.badRequest(message);
}

/**
 * Builds one validated requirement, applying the Kubernetes rules: a qualified-name key; In and
 * NotIn need at least one value; equality needs exactly one; Exists and DoesNotExist take none;
 * Gt and Lt take one integer; every value is a valid label value.
 * Throws `BadRequest` naming the key or value at fault.
 * @category Selectors
 */
export function labelRequirement(
  key: string,
  operator: LabelSelectorOperator,
  values: readonly string[] = [],
): LabelRequirement {
  const keyProblems = isQualifiedName(key);
  if (keyProblems.length > 0)
    throw invalidRequirement(`invalid label key "${key}": ${keyProblems.join('; ')}`);
  switch (operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) {
        throw invalidRequirement(`key "${key}": for 'in', 'notin' operators, values set can't be empty`);
      }
      break;
    case 'Equals':
    case 'DoubleEquals':
    case 'NotEquals':
      if (values.length !== 1) {
        throw invalidRequirement(`key "${key}": exact-match compatibility requires one single value`);
      }
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length !== 0) {
        throw invalidRequirement(`key "${key}": values set must be empty for exists and does not exist`);
      }
      break;
    case 'GreaterThan':
    case 'LessThan':
      if (values.length !== 1) {
        throw invalidRequirement(`key "${key}": for 'Gt', 'Lt' operators, exactly one value is required`);
      }
      if (parseInteger(values[0]) === undefined) {
        throw invalidRequirement(
          `key "${key}": for 'Gt', 'Lt' operators, the value must be an integer, got "${values[0]}"`,
        );
      }
      break;
    default:
      throw invalidRequirement(`key "${key}": "${String(operator)}" is not a valid label selector operator`);
  }
  for (const value of values) {
    if (typeof value !== 'string') {
      throw invalidRequirement(
        `invalid label value: ${JSON.stringify(value)}: at key: "${key}": must be a string`,
      );
    }
    const problems = isValidLabelValue(value);
    if (problems.length > 0) {
      throw invalidRequirement(`invalid label value: "${value}": at key: "${key}": ${problems.join('; ')}`);
    }
  }
  return { key, operator, values: [...new Set(values)].sort() };
}

// ---------------------------------------------------------------------------------------------
// The string syntax. A small hand-written lexer and recursive-descent parser, following the
// grammar upstream documents:
//   selector    := requirement (',' requirement)* | ''
//   requirement := '!' key | key | key ('=' | '==' | '!=' | '>' | '<') value?
//                | key ('in' | 'notin') '(' value? (',' value?)* ')'
// Identifiers are runs of anything but whitespace and the special characters `!=(),<>`, so keys
// and values are checked by the validation rules, not by the lexer.
// ---------------------------------------------------------------------------------------------

type TokenKind =
  | 'identifier'
  | 'in'
  | 'notin'
  | 'not' // !
  | 'equals' // =
  | 'doubleEquals' // ==
  | 'notEquals' // !=
  | 'greaterThan' // >
  | 'lessThan' // <
  | 'open' // (
  | 'close' // )
  | 'comma'
  | 'end';

interface Token {
  kind: TokenKind;
  text: string;
}

const specialCharacters = new Set(['!', '=', '(', ')', ',', '<', '>']);
const symbolTokens: ReadonlyArray<[string, TokenKind]> = [
  ['!=', 'notEquals'],
  ['==', 'doubleEquals'],
  ['!', 'not'],
  ['=', 'equals'],
  ['(', 'open'],
  [')', 'close'],
  [',', 'comma'],
  ['>', 'greaterThan'],
  ['<', 'lessThan'],
];

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (isWhitespace(ch)) {
      i++;
      continue;
    }
    if (specialCharacters.has(ch)) {
      const symbol = symbolTokens.find(([text]) => input.startsWith(text, i));
      // Every special character is the start of at least one symbol, so `symbol` is always found.
      const [text, kind] = symbol!;
      tokens.push({ kind, text });
      i += text.length;
      continue;
    }
    const start = i;
    while (i < input.length && !isWhitespace(input[i]) && !specialCharacters.has(input[i])) i++;
    const text = input.slice(start, i);
    tokens.push({ kind: text === 'in' ? 'in' : text === 'notin' ? 'notin' : 'identifier', text });
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

class SelectorParser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  /**
   * The next token. Where a key or value is expected, the keywords `in`/`notin` are plain
   * identifiers (so `in=notin` is a valid selector), as upstream's parser treats them.
   */
  private peek(asValue: boolean): Token {
    const token = this.tokens[this.position];
    return asValue && (token.kind === 'in' || token.kind === 'notin')
      ? { kind: 'identifier', text: token.text }
      : token;
  }

  private next(asValue: boolean): Token {
    const token = this.peek(asValue);
    this.position++;
    return token;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const token = this.peek(true);
      if (token.kind === 'end') return requirements;
      if (token.kind !== 'identifier' && token.kind !== 'not') {
        throw errors.badRequest(`found '${token.text}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.parseRequirement());
      } catch (error) {
        if (error instanceof StatusError)
          throw errors.badRequest(`unable to parse requirement: ${error.message}`);
        throw error;
      }
      const after = this.next(true);
      if (after.kind === 'end') return requirements;
      if (after.kind !== 'comma')
        throw errors.badRequest(`found '${after.text}', expected: ',' or 'end of string'`);
      const following = this.peek(true);
      if (following.kind !== 'identifier' && following.kind !== 'not') {
        throw errors.badRequest(`found '${following.text}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    let token = this.next(true);
    let negated = false;
    if (token.kind === 'not') {
      negated = true;
      token = this.next(true);
    }
    if (token.kind !== 'identifier') throw invalidRequirement(`found '${token.text}', expected: identifier`);
    const key = token.text;
    const lookahead = this.peek(false);
    if (lookahead.kind === 'end' || lookahead.kind === 'comma') {
      return labelRequirement(key, negated ? 'DoesNotExist' : 'Exists');
    }
    if (negated) {
      throw invalidRequirement(`found '${lookahead.text}', expected: ',' or 'end of string' after '!${key}'`);
    }
    const operatorToken = this.next(false);
    switch (operatorToken.kind) {
      case 'in':
      case 'notin':
        return labelRequirement(key, operatorToken.kind === 'in' ? 'In' : 'NotIn', this.parseValueSet());
      case 'equals':
      case 'doubleEquals':
      case 'notEquals':
      case 'greaterThan':
      case 'lessThan': {
        const operator: LabelSelectorOperator =
          operatorToken.kind === 'equals'
            ? 'Equals'
            : operatorToken.kind === 'doubleEquals'
              ? 'DoubleEquals'
              : operatorToken.kind === 'notEquals'
                ? 'NotEquals'
                : operatorToken.kind === 'greaterThan'
                  ? 'GreaterThan'
                  : 'LessThan';
        return labelRequirement(key, operator, [this.parseExactValue()]);
      }
      default:
        throw invalidRequirement(
          `found '${operatorToken.text}', expected: '=', '!=', '==', 'in', 'notin', '>' or '<' after '${key}'`,
        );
    }
  }

  /** The value after `=`, `==`, `!=`, `>` or `<`; absent means the empty string (`a=` selects `a: ""`). */
  private parseExactValue(): string {
    const token = this.peek(true);
    if (token.kind === 'end' || token.kind === 'comma') return '';
    if (token.kind === 'identifier') {
      this.position++;
      return token.text;
    }
    throw invalidRequirement(`found '${token.text}', expected: identifier`);
  }

  /** `( v1, v2, ... )`; an empty slot between commas is the empty string, as upstream reads it. */
  private parseValueSet(): string[] {
    const open = this.next(true);
    if (open.kind !== 'open') throw invalidRequirement(`found '${open.text}', expected: '('`);
    const values: string[] = [];
    if (this.peek(true).kind === 'close') {
      this.position++;
      return values;
    }
    for (;;) {
      const token = this.next(true);
      if (token.kind === 'identifier') {
        values.push(token.text);
        const after = this.next(true);
        if (after.kind === 'close') return values;
        if (after.kind !== 'comma') throw invalidRequirement(`found '${after.text}', expected: ',' or ')'`);
      } else if (token.kind === 'comma') {
        values.push('');
      } else if (token.kind === 'close') {
        values.push('');
        return values;
      } else {
        throw invalidRequirement(`found '${token.text}', expected: ',', ')' or identifier`);
      }
    }
  }
}

/**
 * Parses the string form of a label selector. The empty string (or only whitespace) selects
 * everything. Throws `BadRequest` with a message naming the offending part, e.g.
 * `unable to parse requirement: found ')', expected: identifier`.
 * @category Selectors
 */
export function parseLabelSelector(selector: string): LabelSelectorMatcher {
  if (typeof selector !== 'string') {
    throw errors.badRequest(`label selector must be a string, got ${typeof selector}`);
  }
  try {
    return new CompiledLabelSelector(new SelectorParser(tokenize(selector)).parse());
  } catch (error) {
    if (error instanceof StatusError) {
      throw errors.badRequest(`unable to parse label selector "${selector}": ${error.message}`);
    }
    throw error;
  }
}

const objectOperators: Readonly<Record<string, LabelSelectorOperator>> = {
  In: 'In',
  NotIn: 'NotIn',
  Exists: 'Exists',
  DoesNotExist: 'DoesNotExist',
};

/**
 * Compiles a structured `LabelSelector` (`matchLabels` + `matchExpressions` with In, NotIn,
 * Exists, DoesNotExist). An empty selector (`{}`) selects everything; an absent one
 * (`undefined`/`null`) selects nothing, as upstream defines them. Throws `BadRequest` for an
 * unknown operator, a value list that breaks the operator's rule, or an invalid key or value.
 * @category Selectors
 */
export function labelSelectorFromObject(selector: LabelSelector | undefined | null): LabelSelectorMatcher {
  if (selector === undefined || selector === null) return new NothingLabelSelector();
  if (typeof selector !== 'object') throw errors.badRequest('label selector must be an object');
  const requirements: LabelRequirement[] = [];
  try {
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
      requirements.push(labelRequirement(key, 'Equals', [value]));
    }
    for (const expression of selector.matchExpressions ?? []) {
      const operator = objectOperators[expression?.operator];
      if (operator === undefined) {
        throw invalidRequirement(`"${String(expression?.operator)}" is not a valid label selector operator`);
      }
      requirements.push(labelRequirement(expression.key, operator, expression.values ?? []));
    }
  } catch (error) {
    if (error instanceof StatusError) throw errors.badRequest(`invalid label selector: ${error.message}`);
    throw error;
  }
  return new CompiledLabelSelector(requirements);
}

/**
 * The canonical string form of a structured selector (`app=web,tier in (a,b)`), usable as a
 * `labelSelector` query parameter; `''` for the empty selector. Throws like
 * {@link labelSelectorFromObject} on an invalid selector.
 * @category Selectors
 */
export function labelSelectorToString(selector: LabelSelector): string {
  return labelSelectorFromObject(selector).toString();
}

/**
 * A selector that requires every `key=value` of `labels`, as a Service's `spec.selector` or a
 * `matchLabels` map means. An empty map selects everything.
 * @category Selectors
 */
export function labelSelectorFromSet(labels: Readonly<Record<string, string>>): LabelSelectorMatcher {
  return labelSelectorFromObject({ matchLabels: { ...labels } });
}

/** A selector that matches every object. @category Selectors */
export function everythingLabelSelector(): LabelSelectorMatcher {
  return new CompiledLabelSelector([]);
}

/** A selector that matches no object (what a missing `LabelSelector` means). @category Selectors */
export function nothingLabelSelector(): LabelSelectorMatcher {
  return new NothingLabelSelector();
}
