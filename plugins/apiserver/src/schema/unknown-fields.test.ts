// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { fieldValidationOutcome, parseFieldValidation, UnknownFieldPruner } from './unknown-fields.js';

const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };
const pod = { group: '', version: 'v1', kind: 'Pod' };

function deploymentBody(): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      unknownMeta: 'x',
      labels: { app: 'web', 'any-label': 'is-data' },
      annotations: { 'free.form/key': 'v' },
    },
    spec: {
      unknown1: 'val1',
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'a', image: 'nginx' },
            {
              name: 'b',
              image: 'nginx',
              unknownNested: 'v',
              ports: [{ containerPort: 80, protocol: 'TCP', bogus: true }],
              resources: { limits: { cpu: 1, memory: '1Gi' } },
              env: [{ name: 'E', valueFrom: { fieldRef: { fieldPath: 'metadata.name', extra: 1 } } }],
            },
          ],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
        },
      },
    },
    status: { replicas: 0 },
  };
}

describe('UnknownFieldPruner', () => {
  const pruner = new UnknownFieldPruner();

  it('finds unknown fields in nested objects, lists and map values, in document order, and removes them', () => {
    const body = deploymentBody();
    expect(pruner.pruneObject(deployment, body)).toEqual([
      'unknown field "metadata.unknownMeta"',
      'unknown field "spec.unknown1"',
      'unknown field "spec.template.spec.containers[1].unknownNested"',
      'unknown field "spec.template.spec.containers[1].ports[0].bogus"',
      'unknown field "spec.template.spec.containers[1].env[0].valueFrom.fieldRef.extra"',
    ]);
    const clean = deploymentBody();
    delete clean.metadata.unknownMeta;
    delete clean.spec.unknown1;
    delete clean.spec.template.spec.containers[1].unknownNested;
    delete clean.spec.template.spec.containers[1].ports[0].bogus;
    delete clean.spec.template.spec.containers[1].env[0].valueFrom.fieldRef.extra;
    expect(body).toEqual(clean);
    // A clean body is left as it is.
    expect(pruner.pruneObject(deployment, clean)).toEqual([]);
    expect(clean.metadata.labels).toEqual({ app: 'web', 'any-label': 'is-data' });
  });

  it('accepts numbers and strings for int-or-string and quantities, and checks objects inside map values', () => {
    const body = deploymentBody();
    pruner.pruneObject(deployment, body);
    expect(body.spec.strategy.rollingUpdate).toEqual({ maxSurge: '25%', maxUnavailable: 1 });
    expect(body.spec.template.spec.containers[1].resources.limits).toEqual({ cpu: 1, memory: '1Gi' });
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        names: { plural: 'widgets', kind: 'Widget' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', notASchemaKeyword: 1, default: { anything: ['goes'] } },
                },
              },
            },
          },
        ],
      },
    };
    const gvk = { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' };
    expect(pruner.pruneObject(gvk, crd)).toEqual([
      'unknown field "spec.versions[0].schema.openAPIV3Schema.properties.spec.notASchemaKeyword"',
    ]);
    // `default` is apiextensions JSON: free-form.
    expect(crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.default).toEqual({
      anything: ['goes'],
    });
  });

  it('keeps whatever is under x-kubernetes-preserve-unknown-fields (RawExtension, FieldsV1)', () => {
    const revision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: 'r',
        managedFields: [{ manager: 'm', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:x': {} } } }],
      },
      revision: 1,
      data: { spec: { template: { whatever: true } } },
    };
    const gvk = { group: 'apps', version: 'v1', kind: 'ControllerRevision' };
    expect(pruner.pruneObject(gvk, revision)).toEqual([]);
    expect(revision.data).toEqual({ spec: { template: { whatever: true } } });
    expect(revision.metadata.managedFields[0]!.fieldsV1).toEqual({ 'f:spec': { 'f:x': {} } });
  });

  it('leaves kinds without a schema alone', () => {
    const widget = { apiVersion: 'example.com/v1', kind: 'Widget', spec: { anything: 1 } };
    const gvk = { group: 'example.com', version: 'v1', kind: 'Widget' };
    expect(pruner.hasSchema(gvk)).toBe(false);
    expect(pruner.pruneObject(gvk, widget)).toEqual([]);
    expect(widget.spec).toEqual({ anything: 1 });
    expect(pruner.hasSchema(pod)).toBe(true);
  });

  it('does not trip over values of the wrong type (validation reports those)', () => {
    const body = {
      metadata: 'not-an-object',
      spec: { containers: { name: 'not-a-list' }, nodeSelector: [1] },
    };
    expect(pruner.pruneObject(pod, body)).toEqual([]);
  });

  it('merge patches: null deletes, and an unknown key set to null is not reported; paths are sorted', () => {
    const patch = {
      spec: {
        zeta: 1,
        paused: null,
        gone: null,
        template: { spec: { containers: [{ name: 'a', unknownNested: 'v' }] } },
      },
    };
    expect(pruner.pruneMergePatch(deployment, patch)).toEqual([
      'unknown field "spec.template.spec.containers[0].unknownNested"',
      'unknown field "spec.zeta"',
    ]);
    expect(patch).toEqual({
      spec: { paused: null, gone: null, template: { spec: { containers: [{ name: 'a' }] } } },
    });
  });

  it('strategic merge patches: directives are not unknown fields', () => {
    const patch = {
      metadata: { $patch: 'merge', labels: { a: null } },
      spec: {
        $retainKeys: ['type'],
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'a' }],
            '$deleteFromPrimitiveList/finalizers': ['x'],
            containers: [{ name: 'a', $patch: 'delete', typo: 1 }],
          },
        },
      },
    };
    expect(pruner.pruneStrategicPatch(deployment, patch)).toEqual([
      'unknown field "spec.template.spec.containers[0].typo"',
    ]);
    expect(patch.spec.template.spec.containers[0]).toEqual({ name: 'a', $patch: 'delete' });
  });

  it('JSON patches: unknown operation keys, unknown target paths and unknown fields inside values', () => {
    const patch: any[] = [
      { op: 'add', path: '/spec/unknown1', value: 'v', foo: 'bar' },
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/spec/template/spec/containers/0/unknownNested', value: 1 },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'c', image: 'i', typo: 1 } },
      { op: 'add', path: '/metadata/labels/new~1label', value: 'x' },
      { op: 'remove', path: '/spec/whatever' },
    ];
    expect(pruner.pruneJsonPatch(deployment, patch)).toEqual([
      'json patch unknown field "[0].foo"',
      'unknown field "spec.template.spec.containers[-].typo"',
      'unknown field "spec.template.spec.containers[0].unknownNested"',
      'unknown field "spec.unknown1"',
    ]);
    expect(patch).toEqual([
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'c', image: 'i' } },
      { op: 'add', path: '/metadata/labels/new~1label', value: 'x' },
      { op: 'remove', path: '/spec/whatever' },
    ]);
  });

  it('is cheap enough for the create path (well under 20 µs per pod)', () => {
    const make = () => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default', labels: { app: 'x' } },
      spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] },
    });
    const pods = Array.from({ length: 20_000 }, make);
    pruner.pruneObject(pod, make()); // compiles the Pod schema once
    const started = performance.now();
    for (const body of pods) pruner.pruneObject(pod, body);
    const perPodMicros = ((performance.now() - started) * 1000) / pods.length;
    expect(perPodMicros).toBeLessThan(20);
  });
});

describe('fieldValidation modes', () => {
  it('parses the query parameter: absent means Warn, as upstream', () => {
    expect(parseFieldValidation(new URLSearchParams(''))).toBe('Warn');
    expect(parseFieldValidation(new URLSearchParams('fieldValidation=Strict'))).toBe('Strict');
    expect(parseFieldValidation(new URLSearchParams('fieldValidation=Ignore'))).toBe('Ignore');
    expect(() => parseFieldValidation(new URLSearchParams('fieldValidation=strict'))).toThrow(
      expect.objectContaining({
        code: 400,
        message: expect.stringContaining('supported values: Ignore, Warn, Strict'),
      }),
    );
  });

  it('Strict fails with every problem, Warn returns them, Ignore drops them silently', () => {
    const problems = ['unknown field "spec.a"', 'unknown field "spec.b"'];
    expect(() => fieldValidationOutcome('Strict', problems, { kind: 'Pod', version: 'v1' })).toThrow(
      expect.objectContaining({
        code: 400,
        reason: 'BadRequest',
        message:
          'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.a", unknown field "spec.b"',
      }),
    );
    expect(() => fieldValidationOutcome('Strict', problems)).toThrow(
      expect.objectContaining({
        message: 'strict decoding error: unknown field "spec.a", unknown field "spec.b"',
      }),
    );
    expect(fieldValidationOutcome('Warn', problems)).toEqual(problems);
    expect(fieldValidationOutcome('Ignore', problems)).toEqual([]);
    expect(fieldValidationOutcome('Strict', [])).toEqual([]);
  });
});
