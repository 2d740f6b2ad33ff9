// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { errors } from '../errors/status-error.js';
import { FieldPath } from './field-path.js';
import {
  fieldCauses,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPathSegmentName,
  objectNameProblems,
  regexError,
  TOTAL_ANNOTATION_SIZE_LIMIT_BYTES,
  validateAnnotations,
  validateFinalizers,
  validateLabels,
  validateNamespaceName,
  validateObjectMeta,
  validateObjectName,
  validateOwnerReferences,
} from './validation.js';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const x = (n: number, ch = 'a'): string => ch.repeat(n);

describe('regexError', () => {
  it.each([
    [[], "msg (regex used for validation is 're')"],
    [['a'], "msg (e.g. 'a', regex used for validation is 're')"],
    [['a', 'b'], "msg (e.g. 'a',  or 'b', regex used for validation is 're')"],
  ])('with examples %j', (examples, expected) => {
    expect(regexError('msg', 're', ...examples)).toBe(expected);
  });
});

describe('isDNS1123Subdomain', () => {
  it.each(['a', 'ab', 'a-b', 'a.b', '0', '1.2.3', 'example.com', 'a--b', x(253), `${x(63)}.${x(63)}`])(
    'accepts %s',
    (v) => expect(isDNS1123Subdomain(v)).toEqual([]),
  );
  it.each(['', 'A', 'a_b', '-a', 'a-', '.a', 'a.', 'a..b', 'a b', 'ä', 'a/b', 'a.-b'])('rejects %j', (v) => {
    expect(isDNS1123Subdomain(v)).toEqual([SUBDOMAIN_MSG]);
  });
  it('reports length and format separately', () => {
    expect(isDNS1123Subdomain(x(254))).toEqual(['must be no more than 253 characters']);
    expect(isDNS1123Subdomain(`${x(254)}-`)).toEqual(['must be no more than 253 characters', SUBDOMAIN_MSG]);
  });
});

describe('isDNS1123Label', () => {
  it.each(['a', '0', 'a-b', '1-2', 'a--b', x(63)])('accepts %s', (v) =>
    expect(isDNS1123Label(v)).toEqual([]),
  );
  it.each(['', 'A', '-a', 'a-', 'a_b', 'a b', 'aB'])('rejects %j', (v) =>
    expect(isDNS1123Label(v)).toEqual([LABEL_MSG]),
  );
  it('says "must not contain dots" for a valid subdomain', () => {
    expect(isDNS1123Label('a.b')).toEqual(['must not contain dots']);
  });
  it('rejects over 63 characters', () => {
    expect(isDNS1123Label(x(64))).toEqual(['must be no more than 63 characters']);
  });
});

describe('isDNS1035Label', () => {
  it.each(['a', 'a-b', 'abc-123', x(63)])('accepts %s', (v) => expect(isDNS1035Label(v)).toEqual([]));
  it.each(['', '0a', '1', '-a', 'a-', 'A', 'a.b'])('rejects %j', (v) =>
    expect(isDNS1035Label(v)).toEqual([DNS1035_MSG]),
  );
  it('rejects over 63 characters', () => {
    expect(isDNS1035Label(x(64))).toEqual(['must be no more than 63 characters']);
  });
});

describe('isQualifiedName', () => {
  it.each([
    'simple',
    'now-with-dashes',
    '1-starts-with-num',
    '1234',
    'simple/simple',
    'now-with-dashes/simple',
    'now-with-dashes/now-with-dashes',
    'now.with.dots/now-with-dashes',
    'now-with.dots-and-dashes/now_with.dots-and_dashes',
    'Upper_Case.Name',
    'example.com/MyName',
    x(63),
    `${x(253)}/${x(63)}`,
  ])('accepts %s', (v) => expect(isQualifiedName(v)).toEqual([]));

  it.each([
    ['', [`name part must be non-empty`, NAME_PART_MSG]],
    ['nospecialchars%^=@', [NAME_PART_MSG]],
    ['-starts', [NAME_PART_MSG]],
    ['ends-', [NAME_PART_MSG]],
    ['a b', [NAME_PART_MSG]],
    ['/simple', ['prefix part must be non-empty']],
    ['simple/', ['name part must be non-empty', NAME_PART_MSG]],
    ['Example.com/name', [`prefix part ${SUBDOMAIN_MSG}`]],
    [x(64), ['name part must be no more than 63 characters']],
    [`${x(254)}/a`, ['prefix part must be no more than 253 characters']],
  ])('rejects %j', (v, expected) => expect(isQualifiedName(v)).toEqual(expected));

  it('rejects more than one slash with one message', () => {
    const problems = isQualifiedName('a/b/c');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/,
    );
  });
});

describe('isValidLabelValue', () => {
  it.each([
    '',
    'simple',
    'now-with-dashes',
    '1-starts-with-num',
    'end-with-num-1',
    '1234',
    'Upper.Case_x',
    x(63),
  ])('accepts %j', (v) => expect(isValidLabelValue(v)).toEqual([]));
  it.each(['-a', 'a-', '.a', 'a b', 'a/b', 'a%', 'ü'])('rejects %j', (v) => {
    expect(isValidLabelValue(v)).toEqual([LABEL_VALUE_MSG]);
  });
  it('rejects over 63 characters', () =>
    expect(isValidLabelValue(x(64))).toEqual(['must be no more than 63 characters']));
});

describe('isValidPathSegmentName', () => {
  it.each([
    ['system:admin', []],
    ['UPPER case ok', []],
    ['.', ["may not be '.'"]],
    ['..', ["may not be '..'"]],
    ['a/b', ["may not contain '/'"]],
    ['a%b', ["may not contain '%'"]],
    ['a/%b', ["may not contain '/'", "may not contain '%'"]],
  ])('%j → %j', (v, expected) => expect(isValidPathSegmentName(v)).toEqual(expected));
});

describe('fieldCauses', () => {
  it.each([
    [fieldCauses.invalid('metadata.name', 'Foo', 'bad'), 'FieldValueInvalid', 'Invalid value: "Foo": bad'],
    [
      fieldCauses.invalid('spec.replicas', -1, 'must be >= 0'),
      'FieldValueInvalid',
      'Invalid value: -1: must be >= 0',
    ],
    [fieldCauses.invalid('x', undefined), 'FieldValueInvalid', 'Invalid value: null'],
    [fieldCauses.invalid('x', { a: 1 }, 'd'), 'FieldValueInvalid', 'Invalid value: {"a":1}: d'],
    [fieldCauses.required('metadata.name'), 'FieldValueRequired', 'Required value'],
    [
      fieldCauses.required('metadata.name', 'name or generateName is required'),
      'FieldValueRequired',
      'Required value: name or generateName is required',
    ],
    [
      fieldCauses.tooLong('metadata.annotations', 262144),
      'FieldValueTooLong',
      'Too long: must have at most 262144 bytes',
    ],
    [fieldCauses.tooMany('spec.items', 5, 3), 'FieldValueTooMany', 'Too many: 5: must have at most 3 items'],
    [
      fieldCauses.forbidden('metadata.namespace', 'not allowed on this type'),
      'FieldValueForbidden',
      'Forbidden: not allowed on this type',
    ],
    [
      fieldCauses.notSupported('spec.policy', 'X', ['A', 'B']),
      'FieldValueNotSupported',
      'Unsupported value: "X": supported values: "A", "B"',
    ],
    [fieldCauses.duplicate('spec.ports[1].name', 'http'), 'FieldValueDuplicate', 'Duplicate value: "http"'],
    [fieldCauses.notFound('spec.ref', 'r'), 'FieldValueNotFound', 'Not found: "r"'],
  ])('%j', (c, reason, message) => {
    expect(c.reason).toBe(reason);
    expect(c.message).toBe(message);
  });

  it('accepts a FieldPath and renders kubectl-style messages through errors.invalid', () => {
    const c = fieldCauses.invalid(FieldPath.root('metadata').child('name'), 'Foo', 'bad');
    expect(c.field).toBe('metadata.name');
    expect(errors.invalid('Pod', 'Foo', [c]).message).toBe(
      'Pod "Foo" is invalid: metadata.name: Invalid value: "Foo": bad',
    );
  });
});

describe('validateLabels', () => {
  const path = FieldPath.root('metadata', 'labels');
  it('accepts good labels and undefined', () => {
    expect(validateLabels({ app: 'web', 'app.kubernetes.io/name': 'x', empty: '' }, path)).toEqual([]);
    expect(validateLabels(undefined, path)).toEqual([]);
  });
  it('reports bad keys and bad values at the labels path', () => {
    const causes = validateLabels({ 'bad key': 'ok', good: 'bad value' }, path);
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.labels',
        message: `Invalid value: "bad key": ${NAME_PART_MSG}`,
      },
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.labels',
        message: `Invalid value: "bad value": ${LABEL_VALUE_MSG}`,
      },
    ]);
  });
  it('reports a non-string value at its key', () => {
    const causes = validateLabels({ n: 5 as unknown as string }, path);
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.labels[n]',
        message: 'Invalid value: 5: must be a string',
      },
    ]);
  });
});

describe('validateAnnotations', () => {
  const path = 'metadata.annotations';
  it('accepts upper-case keys (case does not matter for annotations)', () => {
    expect(validateAnnotations({ 'Example.COM/Some-Key': 'any value at all: {"json": true}' }, path)).toEqual(
      [],
    );
  });
  it('rejects bad keys', () => {
    const causes = validateAnnotations({ 'a/b/c': 'v' }, path);
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatchObject({ reason: 'FieldValueInvalid', field: path });
    expect(causes[0].message).toMatch(/^Invalid value: "a\/b\/c": a qualified name must consist of/);
  });
  it('allows exactly 256 KiB of keys plus values and rejects one byte more', () => {
    const at = { k: x(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES - 1) };
    expect(validateAnnotations(at, path)).toEqual([]);
    const over = { k: x(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) };
    expect(validateAnnotations(over, path)).toEqual([
      { reason: 'FieldValueTooLong', field: path, message: 'Too long: must have at most 262144 bytes' },
    ]);
  });
  it('counts bytes, not UTF-16 units', () => {
    // "é" is one UTF-16 unit but two UTF-8 bytes: half the limit in characters is the whole limit in bytes.
    const value = 'é'.repeat(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES / 2);
    expect(validateAnnotations({ k: value }, path)).toHaveLength(1);
  });
});

describe('validateObjectName', () => {
  it.each([
    ['web', 'subdomain', []],
    ['web.example', 'subdomain', []],
    ['web.example', 'label', ['must not contain dots']],
    ['Web', 'subdomain', [SUBDOMAIN_MSG]],
    ['Web', 'label', [LABEL_MSG]],
    ['system:admin', 'path-segment', []],
    ['a/b', 'path-segment', ["may not contain '/'"]],
  ] as const)('%s under %s', (name, rule, problems) => {
    expect(validateObjectName(name, 'metadata.name', rule)).toEqual(
      problems.map((p) => ({
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: "${name}": ${p}`,
      })),
    );
  });
  it('requires a name', () => {
    expect(validateObjectName('', 'metadata.name', 'subdomain')).toEqual([
      {
        reason: 'FieldValueRequired',
        field: 'metadata.name',
        message: 'Required value: name or generateName is required',
      },
    ]);
    expect(validateObjectName(undefined, 'metadata.name', 'label')).toHaveLength(1);
  });
  it('accepts a trailing dash in a generateName prefix only', () => {
    expect(validateObjectName('web-', 'metadata.generateName', 'subdomain', { prefix: true })).toEqual([]);
    expect(validateObjectName('web-', 'metadata.name', 'subdomain')).toHaveLength(1);
    expect(objectNameProblems('Web-', 'label', true)).toEqual([LABEL_MSG]);
  });
});

describe('validateNamespaceName', () => {
  it.each([
    ['default', 0],
    ['kube-system', 0],
    ['a.b', 1],
    ['Default', 1],
    [x(64), 1],
  ])('%s → %i causes', (name, n) =>
    expect(validateNamespaceName(name, 'metadata.namespace')).toHaveLength(n),
  );
  it('requires a namespace', () => {
    expect(validateNamespaceName(undefined, 'metadata.namespace')).toEqual([
      { reason: 'FieldValueRequired', field: 'metadata.namespace', message: 'Required value' },
    ]);
  });
});

describe('validateFinalizers / validateOwnerReferences', () => {
  it('checks finalizer names', () => {
    expect(
      validateFinalizers(['kubernetes', 'example.com/cleanup', 'foregroundDeletion'], 'metadata.finalizers'),
    ).toEqual([]);
    expect(validateFinalizers(['bad name'], 'metadata.finalizers')).toHaveLength(1);
  });
  it('checks owner references', () => {
    const ok = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true };
    expect(validateOwnerReferences([ok], 'metadata.ownerReferences')).toEqual([]);
    const causes = validateOwnerReferences(
      [ok, { apiVersion: 'apps/', kind: '', name: '', uid: '', controller: true }],
      'metadata.ownerReferences',
    );
    expect(causes.map((c) => c.field)).toEqual([
      'metadata.ownerReferences.apiVersion',
      'metadata.ownerReferences.kind',
      'metadata.ownerReferences.name',
      'metadata.ownerReferences.uid',
      'metadata.ownerReferences',
    ]);
    expect(causes[4].message).toContain('Only one reference can have Controller set to true');
  });
});

describe('validateObjectMeta', () => {
  it('accepts a well-formed namespaced object', () => {
    expect(
      validateObjectMeta({ name: 'web', namespace: 'default', labels: { app: 'web' } }, { namespaced: true }),
    ).toEqual([]);
  });
  it('reports every problem with its field path', () => {
    const causes = validateObjectMeta(
      { name: 'Web', labels: { app: '-' }, annotations: { '/x': '' }, generation: -1, finalizers: ['a b'] },
      { namespaced: true },
    );
    expect(causes.map((c) => `${c.field} ${c.reason}`)).toEqual([
      'metadata.name FieldValueInvalid',
      'metadata.namespace FieldValueRequired',
      'metadata.generation FieldValueInvalid',
      'metadata.labels FieldValueInvalid',
      'metadata.annotations FieldValueInvalid',
      'metadata.finalizers FieldValueInvalid',
    ]);
  });
  it('forbids a namespace on a cluster-scoped kind and applies the kind name rule', () => {
    const causes = validateObjectMeta(
      { name: 'a.b', namespace: 'default' },
      { namespaced: false, nameRule: 'label' },
    );
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: 'Invalid value: "a.b": must not contain dots',
      },
      {
        reason: 'FieldValueForbidden',
        field: 'metadata.namespace',
        message: 'Forbidden: not allowed on this type',
      },
    ]);
  });
  it('validates generateName as a prefix and requires the generated name', () => {
    const causes = validateObjectMeta({ generateName: 'Web-' }, { namespaced: false });
    expect(causes.map((c) => `${c.field} ${c.reason}`)).toEqual([
      'metadata.generateName FieldValueInvalid',
      'metadata.name FieldValueRequired',
    ]);
  });
});
