// SPDX-License-Identifier: Apache-2.0
// The committed schemas are what the generator makes from the installed kubernetes-types, and they
// carry what kubectl (explain, client-side apply, server-side validation) and the pruner rely on.
import { readFileSync } from 'node:fs';
import { builtinKindDefinitions } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import {
  generateDefinitions,
  generatedModulePath,
  kubernetesTypesSource,
  renderDefinitionsModule,
} from '../../scripts/generate-schemas.js';
import { definitionClosure, definitionNameFor, definitions, definitionsSource } from './definitions.js';
import type { OpenApiSchema } from './types.js';

const prop = (definition: string, ...path: string[]): OpenApiSchema => {
  let schema = definitions[definition]!;
  for (const segment of path) schema = schema.properties![segment]!;
  return schema;
};

describe('generated schemas', () => {
  it('are up to date with the installed kubernetes-types (else run scripts/generate-schemas.ts)', () => {
    const fresh = renderDefinitionsModule(generateDefinitions(), kubernetesTypesSource());
    expect(fresh === readFileSync(generatedModulePath, 'utf8')).toBe(true);
    expect(definitionsSource).toBe(kubernetesTypesSource());
  });

  it('cover every built-in kind and the authentication/authorization reviews, with their GVK', () => {
    const kinds = [
      ...builtinKindDefinitions.map(({ group, version, kind }) => ({ group, version, kind })),
      { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview' },
      { group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview' },
      { group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview' },
      { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview' },
      { group: 'authorization.k8s.io', version: 'v1', kind: 'LocalSubjectAccessReview' },
      { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectRulesReview' },
      { group: 'autoscaling', version: 'v1', kind: 'Scale' },
    ];
    for (const gvk of kinds) {
      const name = definitionNameFor(gvk);
      expect(name, `${gvk.group}/${gvk.version} ${gvk.kind}`).toBeDefined();
      expect(definitions[name!]!['x-kubernetes-group-version-kind']).toEqual([gvk]);
    }
    expect(
      definitionNameFor({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' }),
    ).toBe('io.k8s.api.rbac.v1.ClusterRole');
    expect(definitionNameFor({ group: 'example.com', version: 'v1', kind: 'Widget' })).toBeUndefined();
  });

  it('keep upstream descriptions, required fields and references', () => {
    expect(definitions['io.k8s.api.core.v1.Pod']!.description).toMatch(/^Pod is a collection of containers/);
    const containers = prop('io.k8s.api.core.v1.PodSpec', 'containers');
    expect(containers.type).toBe('array');
    expect(containers.items).toEqual({
      allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }],
    });
    expect(containers.description).toMatch(/List of containers belonging to the pod/);
    expect(definitions['io.k8s.api.core.v1.PodSpec']!.required).toEqual(['containers']);
    expect(prop('io.k8s.api.core.v1.Container', 'image')).toMatchObject({ type: 'string' });
    expect(prop('io.k8s.api.apps.v1.DeploymentSpec', 'replicas')).toMatchObject({ type: 'integer' });
    expect(prop('io.k8s.api.core.v1.PodSpec', 'hostNetwork')).toMatchObject({ type: 'boolean' });
  });

  it('map int-or-string, quantities, times, free-form JSON and maps as upstream does', () => {
    const intOrString = {
      allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' }],
    };
    expect(prop('io.k8s.api.core.v1.ServicePort', 'targetPort')).toMatchObject(intOrString);
    expect(definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({
      'x-kubernetes-int-or-string': true,
    });
    expect(definitions['io.k8s.apimachinery.pkg.api.resource.Quantity']).toMatchObject({
      'x-kubernetes-int-or-string': true,
    });
    expect(prop('io.k8s.api.core.v1.ResourceRequirements', 'limits')).toMatchObject({
      type: 'object',
      additionalProperties: {
        allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' }],
      },
    });
    expect(definitions['io.k8s.apimachinery.pkg.apis.meta.v1.Time']).toMatchObject({
      type: 'string',
      format: 'date-time',
    });
    expect(definitions['io.k8s.apimachinery.pkg.runtime.RawExtension']).toMatchObject({
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    });
    expect(definitions['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON']).toMatchObject({
      'x-kubernetes-preserve-unknown-fields': true,
    });
    expect(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'annotations')).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
  });

  it('carry the patch strategies and merge keys kubectl client-side apply reads', () => {
    expect(prop('io.k8s.api.core.v1.PodSpec', 'containers')).toMatchObject({
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'name',
    });
    expect(prop('io.k8s.api.core.v1.Container', 'ports')).toMatchObject({
      'x-kubernetes-patch-merge-key': 'containerPort',
    });
    expect(prop('io.k8s.api.core.v1.PodSpec', 'volumes')).toMatchObject({
      'x-kubernetes-patch-strategy': 'merge,retainKeys',
    });
    expect(prop('io.k8s.api.apps.v1.DeploymentSpec', 'strategy')).toMatchObject({
      'x-kubernetes-patch-strategy': 'retainKeys',
    });
    expect(prop('io.k8s.api.core.v1.PodSpec', 'tolerations')['x-kubernetes-patch-strategy']).toBeUndefined();
  });

  it('close over every reference, so a document resolves all its $refs', () => {
    const closure = definitionClosure(['io.k8s.api.apps.v1.Deployment']);
    expect(Object.keys(closure)).toEqual(
      expect.arrayContaining([
        'io.k8s.api.apps.v1.Deployment',
        'io.k8s.api.core.v1.PodTemplateSpec',
        'io.k8s.api.core.v1.Container',
        'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
        'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
      ]),
    );
    expect(closure['io.k8s.api.core.v1.Service']).toBeUndefined();
    const refs = JSON.stringify(closure).match(/#\/components\/schemas\/[^"]+/g) ?? [];
    for (const ref of refs) expect(closure).toHaveProperty([ref.slice('#/components/schemas/'.length)]);
  });
});
