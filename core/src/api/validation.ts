// SPDX-License-Identifier: Apache-2.0
/**
 * Kubernetes naming rules (DNS-1123 subdomains and labels, DNS-1035 labels, qualified names, label
 * values, path-segment names) and builders for the field causes of `Invalid` errors.
 *
 * The `is*` checks return a list of human-readable problems (empty when the value is valid), worded
 * as upstream words them so users see the messages they know from `kubectl`. The `validate*`
 * functions turn those into {@link StatusCause}s with a field path, ready for `errors.invalid(...)`.
 *
 * @module
 */
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { CauseType, StatusCause } from '../errors/status-error.js';
import { FieldPath } from './field-path.js';

/** Maximum length of a DNS-1123 label (and of a namespace name). @category Validation */
export const DNS1123_LABEL_MAX_LENGTH = 63;
/** Maximum length of a DNS-1123 subdomain (and of most object names). @category Validation */
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
/** Maximum length of a DNS-1035 label. @category Validation */
export const DNS1035_LABEL_MAX_LENGTH = 63;
/** Maximum length of the name part of a qualified name (label key). @category Validation */
export const QUALIFIED_NAME_MAX_LENGTH = 63;
/** Maximum length of a label value. @category Validation */
export const LABEL_VALUE_MAX_LENGTH = 63;
/** Maximum total size of an object's annotations, keys plus values, in bytes (256 KiB). @category Validation */
export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelValueFmt = `(${qualifiedNameFmt})?`;

const dns1123LabelRegexp = new RegExp(`^${dns1123LabelFmt}$`);
const dns1123SubdomainRegexp = new RegExp(`^${dns1123SubdomainFmt}$`);
const dns1035LabelRegexp = new RegExp(`^${dns1035LabelFmt}$`);
const qualifiedNameRegexp = new RegExp(`^${qualifiedNameFmt}$`);
const labelValueRegexp = new RegExp(`^${labelValueFmt}$`);

const dns1123LabelMessage =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const dns1123SubdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const dns1035LabelMessage =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const qualifiedNameMessage =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const labelValueMessage =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** Length in bytes, as Go's `len` counts it, so limits match upstream for non-ASCII input too. */
function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * Explains a failed regular-expression check, with examples, in upstream's exact shape (including
 * its doubled space before `or`): `<message> (e.g. 'my-name',  or '123-abc', regex used for
 * validation is '<regex>')`.
 * @category Validation
 */
export function regexError(message: string, regex: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${regex}')`;
  let out = `${message} (e.g. `;
  examples.forEach((example, i) => {
    if (i > 0) out += ' or ';
    out += `'${example}', `;
  });
  return `${out}regex used for validation is '${regex}')`;
}

/** `must be no more than <n> characters`. @category Validation */
export function maxLengthError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** `must be non-empty`. @category Validation */
export function emptyError(): string {
  return 'must be non-empty';
}

/** Problems with `value` as a DNS-1123 label (`my-name`); empty when valid. @category Validation */
export function isDNS1123Label(value: string): string[] {
  const problems: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX_LENGTH) problems.push(maxLengthError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1123LabelRegexp.test(value)) {
    // A valid subdomain that is not a valid label can only be failing on its dots: say so plainly.
    if (dns1123SubdomainRegexp.test(value)) problems.push('must not contain dots');
    else problems.push(regexError(dns1123LabelMessage, dns1123LabelFmt, 'my-name', '123-abc'));
  }
  return problems;
}

/** Problems with `value` as a DNS-1123 subdomain (`example.com`); empty when valid. @category Validation */
export function isDNS1123Subdomain(value: string): string[] {
  const problems: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) {
    problems.push(maxLengthError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  }
  if (!dns1123SubdomainRegexp.test(value)) {
    problems.push(regexError(dns1123SubdomainMessage, dns1123SubdomainFmt, 'example.com'));
  }
  return problems;
}

/** Problems with `value` as a DNS-1035 label (starts with a letter); empty when valid. @category Validation */
export function isDNS1035Label(value: string): string[] {
  const problems: string[] = [];
  if (byteLength(value) > DNS1035_LABEL_MAX_LENGTH) problems.push(maxLengthError(DNS1035_LABEL_MAX_LENGTH));
  if (!dns1035LabelRegexp.test(value)) {
    problems.push(regexError(dns1035LabelMessage, dns1035LabelFmt, 'my-name', 'abc-123'));
  }
  return problems;
}

/**
 * Problems with `value` as a qualified name, the format of label keys, annotation keys and finalizers:
 * an optional DNS-1123 subdomain prefix and `/`, then a name of at most 63 characters
 * (`app.kubernetes.io/name`). Empty when valid.
 * @category Validation
 */
export function isQualifiedName(value: string): string[] {
  const problems: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) problems.push(`prefix part ${emptyError()}`);
    else for (const problem of isDNS1123Subdomain(prefix)) problems.push(`prefix part ${problem}`);
  } else {
    return [
      `a qualified name ${regexError(qualifiedNameMessage, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) problems.push(`name part ${emptyError()}`);
  else if (byteLength(name) > QUALIFIED_NAME_MAX_LENGTH) {
    problems.push(`name part ${maxLengthError(QUALIFIED_NAME_MAX_LENGTH)}`);
  }
  if (!qualifiedNameRegexp.test(name)) {
    problems.push(
      `name part ${regexError(qualifiedNameMessage, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`,
    );
  }
  return problems;
}

/** Problems with `value` as a label value (may be empty); empty when valid. @category Validation */
export function isValidLabelValue(value: string): string[] {
  const problems: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_LENGTH) problems.push(maxLengthError(LABEL_VALUE_MAX_LENGTH));
  if (!labelValueRegexp.test(value)) {
    problems.push(regexError(labelValueMessage, labelValueFmt, 'MyValue', 'my_value', '12345'));
  }
  return problems;
}

/**
 * Problems with `name` as a name that must travel safely as one URL path segment (the rule for
 * kinds with the most relaxed names): not `.` or `..`, no `/` or `%`. Empty when valid.
 * @category Validation
 */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return isValidPathSegmentPrefix(name);
}

/** Like {@link isValidPathSegmentName}, for a prefix (`generateName`) that a suffix will complete. @category Validation */
export function isValidPathSegmentPrefix(name: string): string[] {
  const problems: string[] = [];
  for (const banned of ['/', '%']) if (name.includes(banned)) problems.push(`may not contain '${banned}'`);
  return problems;
}

/** A field path given either as a {@link FieldPath} or already printed. @category Validation */
export type FieldPathLike = FieldPath | string;

/** Formats a bad value the way upstream's field errors print it: strings quoted, scalars bare. */
function formatValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function cause(reason: CauseType, path: FieldPathLike, body: string, detail?: string): StatusCause {
  return { reason, message: detail ? `${body}: ${detail}` : body, field: String(path) };
}

/**
 * Builders for single field causes. Each returns a {@link StatusCause} whose `message` is the body
 * upstream prints after the field path (`Invalid value: "Foo": <detail>`) and whose `field` is the
 * path, so `errors.invalid(kind, name, causes)` renders `metadata.name: Invalid value: "Foo": ...`.
 * @category Validation
 */
export const fieldCauses = {
  /** A malformed value (failed a format check, out of range). */
  invalid(path: FieldPathLike, value: unknown, detail?: string): StatusCause {
    return cause('FieldValueInvalid', path, `Invalid value: ${formatValue(value)}`, detail);
  },
  /** A required value is missing. */
  required(path: FieldPathLike, detail?: string): StatusCause {
    return cause('FieldValueRequired', path, 'Required value', detail);
  },
  /** A value longer than `maxBytes` (the value itself is not echoed). */
  tooLong(path: FieldPathLike, maxBytes: number): StatusCause {
    return cause('FieldValueTooLong', path, 'Too long', `must have at most ${maxBytes} bytes`);
  },
  /** A list with more than `max` items. */
  tooMany(path: FieldPathLike, actual: number, max: number): StatusCause {
    return cause('FieldValueTooMany', path, `Too many: ${actual}`, `must have at most ${max} items`);
  },
  /** A value that is well-formed but not allowed here. */
  forbidden(path: FieldPathLike, detail: string): StatusCause {
    return cause('FieldValueForbidden', path, 'Forbidden', detail);
  },
  /** A value outside an enumeration. */
  notSupported(path: FieldPathLike, value: unknown, supported: readonly string[]): StatusCause {
    const detail =
      supported.length > 0 ? `supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}` : '';
    return cause('FieldValueNotSupported', path, `Unsupported value: ${formatValue(value)}`, detail);
  },
  /** A value that must be unique appears twice. */
  duplicate(path: FieldPathLike, value: unknown): StatusCause {
    return cause('FieldValueDuplicate', path, `Duplicate value: ${formatValue(value)}`);
  },
  /** A referenced value was not found. */
  notFound(path: FieldPathLike, value: unknown): StatusCause {
    return cause('FieldValueNotFound', path, `Not found: ${formatValue(value)}`);
  },
} as const;

/**
 * Validates label keys (qualified names) and values. Causes point at `path` itself (usually
 * `metadata.labels`), as upstream reports them, with the offending key or value as the bad value.
 * @category Validation
 */
export function validateLabels(
  labels: Readonly<Record<string, string>> | undefined,
  path: FieldPathLike,
): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!labels) return causes;
  if (typeof labels !== 'object' || Array.isArray(labels)) {
    causes.push(fieldCauses.invalid(path, labels, 'must be a map of string keys to string values'));
    return causes;
  }
  for (const [key, value] of Object.entries(labels)) {
    for (const problem of isQualifiedName(key)) causes.push(fieldCauses.invalid(path, key, problem));
    if (typeof value !== 'string') {
      causes.push(fieldCauses.invalid(FieldPath.from(path).key(key), value, 'must be a string'));
      continue;
    }
    for (const problem of isValidLabelValue(value)) causes.push(fieldCauses.invalid(path, value, problem));
  }
  return causes;
}

/**
 * Validates annotation keys (qualified names, case-insensitive) and the total size of keys plus
 * values (at most {@link TOTAL_ANNOTATION_SIZE_LIMIT_BYTES}).
 * @category Validation
 */
export function validateAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
  path: FieldPathLike,
): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!annotations) return causes;
  if (typeof annotations !== 'object' || Array.isArray(annotations)) {
    causes.push(fieldCauses.invalid(path, annotations, 'must be a map of string keys to string values'));
    return causes;
  }
  let totalBytes = 0;
  for (const [key, value] of Object.entries(annotations)) {
    // Upstream accepts upper case anywhere in annotation keys, prefix included, hence the lower-casing.
    for (const problem of isQualifiedName(key.toLowerCase()))
      causes.push(fieldCauses.invalid(path, key, problem));
    if (typeof value !== 'string') {
      causes.push(fieldCauses.invalid(FieldPath.from(path).key(key), value, 'must be a string'));
      continue;
    }
    totalBytes += byteLength(key) + byteLength(value);
  }
  if (totalBytes > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) {
    causes.push(fieldCauses.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  }
  return causes;
}

/**
 * Which rule a kind's object names follow: `subdomain` (most kinds: DNS-1123 subdomain, ≤ 253),
 * `label` (namespaces, services: DNS-1123 label, ≤ 63), `path-segment` (RBAC kinds and others that
 * only need to be one URL path segment).
 * @category Validation
 */
export type ObjectNameRule = 'subdomain' | 'label' | 'path-segment';

/**
 * The problems with `name` under `rule`. With `prefix` (for `generateName`) a trailing `-` is
 * accepted, because random characters will follow it.
 * @category Validation
 */
export function objectNameProblems(name: string, rule: ObjectNameRule, prefix = false): string[] {
  // Masking the trailing dash keeps `web-` valid as a generateName without weakening the rule.
  const checked = prefix && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
  switch (rule) {
    case 'subdomain':
      return isDNS1123Subdomain(checked);
    case 'label':
      return isDNS1123Label(checked);
    case 'path-segment':
      return prefix ? isValidPathSegmentPrefix(name) : isValidPathSegmentName(name);
  }
}

/**
 * Validates an object name: a missing name is `FieldValueRequired` ("name or generateName is
 * required"), a malformed one gets one `FieldValueInvalid` cause per problem.
 * @category Validation
 */
export function validateObjectName(
  name: string | undefined,
  path: FieldPathLike,
  rule: ObjectNameRule,
  options: { prefix?: boolean } = {},
): StatusCause[] {
  if (name === undefined || name === '') {
    return [fieldCauses.required(path, 'name or generateName is required')];
  }
  if (typeof name !== 'string') return [fieldCauses.invalid(path, name, 'must be a string')];
  return objectNameProblems(name, rule, options.prefix).map((problem) =>
    fieldCauses.invalid(path, name, problem),
  );
}

/** Validates a namespace name (a DNS-1123 label); a missing one is `FieldValueRequired`. @category Validation */
export function validateNamespaceName(name: string | undefined, path: FieldPathLike): StatusCause[] {
  if (name === undefined || name === '') return [fieldCauses.required(path)];
  if (typeof name !== 'string') return [fieldCauses.invalid(path, name, 'must be a string')];
  return isDNS1123Label(name).map((problem) => fieldCauses.invalid(path, name, problem));
}

/** Validates finalizer names (qualified names). @category Validation */
export function validateFinalizers(
  finalizers: readonly string[] | undefined,
  path: FieldPathLike,
): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const finalizer of finalizers ?? []) {
    for (const problem of isQualifiedName(String(finalizer)))
      causes.push(fieldCauses.invalid(path, finalizer, problem));
  }
  return causes;
}

/** Validates owner references: apiVersion, kind, name and uid present, at most one controller. @category Validation */
export function validateOwnerReferences(
  references: readonly OwnerReference[] | undefined,
  path: FieldPathLike,
): StatusCause[] {
  const causes: StatusCause[] = [];
  const base = FieldPath.from(path);
  let controller: string | undefined;
  for (const ref of references ?? []) {
    const version = ref.apiVersion?.includes('/') ? ref.apiVersion.split('/')[1] : ref.apiVersion;
    if (!version)
      causes.push(
        fieldCauses.invalid(base.child('apiVersion'), ref.apiVersion ?? '', 'version must not be empty'),
      );
    if (!ref.kind) causes.push(fieldCauses.invalid(base.child('kind'), ref.kind ?? '', 'must not be empty'));
    if (!ref.name) causes.push(fieldCauses.invalid(base.child('name'), ref.name ?? '', 'must not be empty'));
    if (!ref.uid) causes.push(fieldCauses.invalid(base.child('uid'), ref.uid ?? '', 'must not be empty'));
    if (ref.apiVersion === 'v1' && ref.kind === 'Event') {
      causes.push(
        fieldCauses.invalid(
          base,
          `${ref.kind}/${ref.name}`,
          '/v1, Kind=Event is disallowed from being an owner',
        ),
      );
    }
    if (ref.controller) {
      const current = `${ref.kind}/${ref.name}`;
      if (controller === undefined) controller = current;
      else {
        causes.push(
          fieldCauses.invalid(
            base,
            references,
            `Only one reference can have Controller set to true. Found "true" in references for ${controller} and ${current}`,
          ),
        );
      }
    }
  }
  return causes;
}

/** What {@link validateObjectMeta} needs to know about the object's kind. @category Validation */
export interface ObjectMetaRules {
  /** Namespaced kinds require `metadata.namespace`; cluster-scoped kinds forbid it. */
  namespaced: boolean;
  /** The rule names of this kind follow; `subdomain` when absent. */
  nameRule?: ObjectNameRule;
}

/**
 * Validates the generic parts of an object's metadata on create, as upstream's ObjectMeta
 * validation does: name (after `generateName` has been expanded), namespace presence and format,
 * generation, labels, annotations, finalizers and owner references. Returns causes under
 * `path` (normally `metadata`); an empty list means valid.
 * @category Validation
 */
export function validateObjectMeta(
  meta: ObjectMeta | undefined,
  rules: ObjectMetaRules,
  path: FieldPathLike = 'metadata',
): StatusCause[] {
  const base = FieldPath.from(path);
  const m = meta ?? {};
  const causes: StatusCause[] = [];
  if (m.generateName) {
    for (const problem of objectNameProblems(m.generateName, rules.nameRule ?? 'subdomain', true)) {
      causes.push(fieldCauses.invalid(base.child('generateName'), m.generateName, problem));
    }
  }
  causes.push(...validateObjectName(m.name, base.child('name'), rules.nameRule ?? 'subdomain'));
  if (rules.namespaced) causes.push(...validateNamespaceName(m.namespace, base.child('namespace')));
  else if (m.namespace)
    causes.push(fieldCauses.forbidden(base.child('namespace'), 'not allowed on this type'));
  if (m.generation !== undefined && m.generation < 0) {
    causes.push(
      fieldCauses.invalid(base.child('generation'), m.generation, 'must be greater than or equal to 0'),
    );
  }
  causes.push(...validateLabels(m.labels, base.child('labels')));
  causes.push(...validateAnnotations(m.annotations, base.child('annotations')));
  causes.push(...validateFinalizers(m.finalizers, base.child('finalizers')));
  causes.push(...validateOwnerReferences(m.ownerReferences, base.child('ownerReferences')));
  return causes;
}
