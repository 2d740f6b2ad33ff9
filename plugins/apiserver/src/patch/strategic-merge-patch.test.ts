// SPDX-License-Identifier: Apache-2.0
import { StatusError } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { patchSchemaFor, supportsStrategicMergePatch } from './patch-schema.js';
import { strategicMergePatch } from './strategic-merge-patch.js';

const podSchema = patchSchemaFor('', 'Pod');
const deploymentSchema = patchSchemaFor('apps', 'Deployment');

interface Case {
  name: string;
  schema?: ReturnType<typeof patchSchemaFor>;
  original: unknown;
  patch: unknown;
  expected: unknown;
}

const cases: Case[] = [
  {
    name: 'maps merge recursively and null deletes a field',
    original: { metadata: { labels: { a: '1', b: '2' } }, spec: { nodeName: 'n1' } },
    patch: { metadata: { labels: { b: null, c: '3' } }, spec: { nodeName: null } },
    expected: { metadata: { labels: { a: '1', c: '3' } }, spec: {} },
  },
  {
    name: 'null for a missing field is a no-op and nulls inside new maps are dropped',
    original: { metadata: { name: 'p' } },
    patch: { metadata: { annotations: { x: 'y', z: null } }, gone: null },
    expected: { metadata: { name: 'p', annotations: { x: 'y' } } },
  },
  {
    name: 'containers merge by name (upstream doc example: adding a container)',
    original: { spec: { containers: [{ name: 'nginx', image: 'nginx-1.0' }] } },
    patch: { spec: { containers: [{ name: 'log-tailer', image: 'log-tailer-1.0' }] } },
    expected: {
      spec: {
        containers: [
          { name: 'nginx', image: 'nginx-1.0' },
          { name: 'log-tailer', image: 'log-tailer-1.0' },
        ],
      },
    },
  },
  {
    name: 'a matching container is merged field by field, its env by name and ports by containerPort',
    original: {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:1',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            ports: [{ containerPort: 80, name: 'http' }],
          },
          { name: 'side', image: 'side:1' },
        ],
      },
    },
    patch: {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:2',
            env: [{ name: 'B', value: '3' }],
            ports: [{ containerPort: 443, name: 'https' }],
          },
        ],
      },
    },
    expected: {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:2',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '3' },
            ],
            ports: [
              { containerPort: 80, name: 'http' },
              { containerPort: 443, name: 'https' },
            ],
          },
          { name: 'side', image: 'side:1' },
        ],
      },
    },
  },
  {
    name: '$patch: delete on an element removes it',
    original: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } },
    patch: { spec: { containers: [{ name: 'a', $patch: 'delete' }] } },
    expected: { spec: { containers: [{ name: 'b' }] } },
  },
  {
    name: '$patch: delete of an absent element is a no-op; duplicates of a key all go',
    original: { spec: { containers: [{ name: 'a' }, { name: 'b', image: '1' }, { name: 'b', image: '2' }] } },
    patch: {
      spec: {
        containers: [
          { name: 'zz', $patch: 'delete' },
          { name: 'b', $patch: 'delete' },
        ],
      },
    },
    expected: { spec: { containers: [{ name: 'a' }] } },
  },
  {
    name: 'ports of an initContainer match on the numeric containerPort',
    original: { spec: { initContainers: [{ name: 'i', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } },
    patch: { spec: { initContainers: [{ name: 'i', ports: [{ containerPort: 80, name: 'web' }] }] } },
    expected: {
      spec: { initContainers: [{ name: 'i', ports: [{ containerPort: 80, protocol: 'TCP', name: 'web' }] }] },
    },
  },
  {
    name: '$patch: replace in a list replaces the whole list',
    original: { spec: { containers: [{ name: 'a', image: 'a' }, { name: 'b' }] } },
    patch: { spec: { containers: [{ name: 'c', image: 'c' }, { $patch: 'replace' }] } },
    expected: { spec: { containers: [{ name: 'c', image: 'c' }] } },
  },
  {
    name: '$patch: replace on a map replaces it',
    original: { metadata: { labels: { a: '1', b: '2' } } },
    patch: { metadata: { labels: { c: '3', $patch: 'replace' } } },
    expected: { metadata: { labels: { c: '3' } } },
  },
  {
    name: '$patch: delete on a nested map removes the field',
    original: { spec: { securityContext: { runAsUser: 1 }, nodeName: 'n' } },
    patch: { spec: { securityContext: { $patch: 'delete' } } },
    expected: { spec: { nodeName: 'n' } },
  },
  {
    name: '$patch: delete at the top level empties the object',
    original: { a: 1 },
    patch: { $patch: 'delete' },
    expected: {},
  },
  {
    name: 'lists without a strategy are replaced (tolerations, args)',
    original: {
      spec: {
        tolerations: [{ key: 'a', operator: 'Exists' }],
        containers: [{ name: 'c', args: ['x', 'y'] }],
      },
    },
    patch: {
      spec: { tolerations: [{ key: 'b', operator: 'Exists' }], containers: [{ name: 'c', args: ['z'] }] },
    },
    expected: {
      spec: { tolerations: [{ key: 'b', operator: 'Exists' }], containers: [{ name: 'c', args: ['z'] }] },
    },
  },
  {
    name: 'finalizers (a merge primitive list) form a union',
    original: { metadata: { finalizers: ['a', 'b'] } },
    patch: { metadata: { finalizers: ['b', 'c'] } },
    expected: { metadata: { finalizers: ['a', 'b', 'c'] } },
  },
  {
    name: '$deleteFromPrimitiveList removes values before the union',
    original: { metadata: { finalizers: ['a', 'b', 'c'] } },
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a', 'c'], finalizers: ['d'] } },
    expected: { metadata: { finalizers: ['b', 'd'] } },
  },
  {
    name: '$setElementOrder orders the patched list, server-only elements keep their place',
    original: { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }] } },
    patch: {
      spec: {
        '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }, { name: 'e' }],
        containers: [{ name: 'e', image: 'e' }],
      },
    },
    expected: {
      spec: {
        containers: [{ name: 'b' }, { name: 'a' }, { name: 'c' }, { name: 'd' }, { name: 'e', image: 'e' }],
      },
    },
  },
  {
    name: '$setElementOrder on a primitive list',
    original: { metadata: { finalizers: ['a', 'b', 'c'] } },
    patch: { metadata: { '$setElementOrder/finalizers': ['c', 'b', 'a'] } },
    expected: { metadata: { finalizers: ['c', 'b', 'a'] } },
  },
  {
    name: '$retainKeys drops the fields not listed (Deployment strategy switched to Recreate)',
    schema: deploymentSchema,
    original: {
      spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
    },
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    expected: { spec: { strategy: { type: 'Recreate' } } },
  },
  {
    name: '$retainKeys inside a volume (volumes merge by name with retainKeys)',
    original: {
      spec: {
        volumes: [
          { name: 'v', emptyDir: {} },
          { name: 'w', emptyDir: {} },
        ],
      },
    },
    patch: {
      spec: { volumes: [{ name: 'v', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }] },
    },
    expected: {
      spec: {
        volumes: [
          { name: 'v', hostPath: { path: '/x' } },
          { name: 'w', emptyDir: {} },
        ],
      },
    },
  },
  {
    name: 'a Deployment pod template merges containers and volumeMounts by their keys',
    schema: deploymentSchema,
    original: {
      spec: {
        replicas: 1,
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'web', image: 'nginx:1', volumeMounts: [{ mountPath: '/a', name: 'a' }] },
              { name: 'log', image: 'busybox' },
            ],
          },
        },
      },
    },
    patch: {
      spec: {
        replicas: 3,
        template: {
          spec: {
            containers: [{ name: 'web', image: 'nginx:2', volumeMounts: [{ mountPath: '/b', name: 'b' }] }],
          },
        },
      },
    },
    expected: {
      spec: {
        replicas: 3,
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'nginx:2',
                volumeMounts: [
                  { mountPath: '/a', name: 'a' },
                  { mountPath: '/b', name: 'b' },
                ],
              },
              { name: 'log', image: 'busybox' },
            ],
          },
        },
      },
    },
  },
  {
    name: 'a CronJob job template merges containers by name',
    schema: patchSchemaFor('batch', 'CronJob'),
    original: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a' }] } } } } } },
    patch: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'b' }] } } } } } },
    expected: {
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } } } } },
    },
  },
  {
    name: 'status conditions merge by type',
    original: {
      status: {
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    },
    patch: { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    expected: {
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    },
  },
  {
    name: 'Service ports merge by port',
    schema: patchSchemaFor('', 'Service'),
    original: { spec: { ports: [{ port: 80, targetPort: 8080 }] } },
    patch: { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] } },
    expected: { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] } },
  },
  {
    name: 'ownerReferences merge by uid',
    schema: patchSchemaFor('', 'ConfigMap'),
    original: { metadata: { ownerReferences: [{ uid: '1', name: 'a' }] } },
    patch: { metadata: { ownerReferences: [{ uid: '2', name: 'b' }] } },
    expected: {
      metadata: {
        ownerReferences: [
          { uid: '1', name: 'a' },
          { uid: '2', name: 'b' },
        ],
      },
    },
  },
  {
    name: 'Node addresses merge by type',
    schema: patchSchemaFor('', 'Node'),
    original: { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } },
    patch: { status: { addresses: [{ type: 'Hostname', address: 'n1' }] } },
    expected: {
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'Hostname', address: 'n1' },
        ],
      },
    },
  },
  {
    name: 'unknown kinds replace their lists like a JSON merge patch',
    schema: patchSchemaFor('example.com', 'Widget'),
    original: { spec: { containers: [{ name: 'a' }] } },
    patch: { spec: { containers: [{ name: 'b' }] } },
    expected: { spec: { containers: [{ name: 'b' }] } },
  },
  {
    name: 'an empty patch list leaves a merge list as it was',
    original: { spec: { containers: [{ name: 'a' }] } },
    patch: { spec: { containers: [] } },
    expected: { spec: { containers: [{ name: 'a' }] } },
  },
  {
    name: 'a value of another type replaces the original',
    original: { data: 'text', other: { a: 1 } },
    patch: { data: { nested: true }, other: 'flat' },
    expected: { data: { nested: true }, other: 'flat' },
  },
];

describe('strategicMergePatch', () => {
  it.each(cases)('$name', ({ schema, original, patch, expected }) => {
    expect(strategicMergePatch(original, patch, schema ?? podSchema)).toEqual(expected);
  });

  it('does not mutate its inputs and returns fresh objects', () => {
    const original = {
      metadata: { finalizers: ['a'], labels: { x: '1' } },
      spec: {
        containers: [{ name: 'c', env: [{ name: 'E', value: '1' }] }],
        volumes: [{ name: 'v', emptyDir: {} }],
      },
    };
    const patch = {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'], labels: { x: null } },
      spec: {
        '$setElementOrder/containers': [{ name: 'd' }, { name: 'c' }],
        containers: [{ name: 'c', env: [{ name: 'F', value: '2' }] }, { name: 'd' }],
        volumes: [{ name: 'v', $retainKeys: ['name', 'secret'], secret: { secretName: 's' } }],
      },
    };
    const originalCopy = structuredClone(original);
    const patchCopy = structuredClone(patch);
    const result = strategicMergePatch(original, patch, podSchema) as typeof original;
    expect(original).toEqual(originalCopy);
    expect(patch).toEqual(patchCopy);
    expect(result.spec.containers.map((c) => c.name)).toEqual(['d', 'c']);
    result.spec.volumes[0].name = 'changed';
    (result.metadata.labels as Record<string, string>).y = '2';
    expect(original).toEqual(originalCopy);
    expect(patch).toEqual(patchCopy);
  });

  it('treats a __proto__ key as an ordinary field', () => {
    const patch = JSON.parse('{"metadata": {"__proto__": {"polluted": true}}}') as unknown;
    const result = strategicMergePatch({ metadata: { name: 'p' } }, patch, podSchema) as {
      metadata: Record<string, unknown>;
    };
    expect(Object.getPrototypeOf(result.metadata)).toBe(Object.prototype);
    expect(Object.hasOwn(result.metadata, '__proto__')).toBe(true);
    expect((result.metadata as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  const badInput: {
    name: string;
    original?: unknown;
    patch: unknown;
    message: RegExp;
    schema?: ReturnType<typeof patchSchemaFor>;
  }[] = [
    { name: 'a patch that is a list', patch: [{ op: 'add' }], message: /must be a JSON object/ },
    { name: 'a patch that is a string', patch: 'x', message: /must be a JSON object/ },
    { name: 'a patch that is null', patch: null, message: /must be a JSON object/ },
    { name: 'an original that is not an object', original: [1], patch: {}, message: /patched value/ },
    {
      name: 'an unknown directive',
      patch: { spec: { $foo: 1, $bar: 2 } },
      message: /\$foo, \$bar in field "spec"/,
    },
    { name: 'an unknown $patch type', patch: { metadata: { $patch: 'explode' } }, message: /"explode"/ },
    {
      name: 'a list element without its merge key',
      patch: { spec: { containers: [{ image: 'x' }] } },
      message: /merge key "name"/,
    },
    {
      name: 'a malformed $retainKeys',
      patch: { spec: { strategy: { $retainKeys: 'type' } } },
      message: /\$retainKeys/,
      schema: deploymentSchema,
    },
    {
      name: 'a field set outside $retainKeys',
      patch: { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } },
      message: /spec\.strategy\.rollingUpdate/,
      schema: deploymentSchema,
    },
    {
      name: 'a $deleteFromPrimitiveList that is not a list',
      patch: { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } },
      message: /must be a list/,
    },
    {
      name: 'a $setElementOrder entry without the merge key',
      patch: { spec: { '$setElementOrder/containers': ['a'] } },
      message: /merge key "name"/,
    },
    {
      name: 'a merge list mixing objects and strings',
      patch: { spec: { containers: [{ name: 'a' }, 'b'] } },
      message: /mixes objects/,
    },
  ];

  it.each(badInput)('rejects $name with a BadRequest StatusError', ({ original, patch, message, schema }) => {
    const input = original ?? { metadata: { finalizers: ['a'] }, spec: { containers: [{ name: 'a' }] } };
    const before = structuredClone(input);
    let caught: unknown;
    try {
      strategicMergePatch(input, patch, schema ?? podSchema);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StatusError);
    expect(caught).toMatchObject({ reason: 'BadRequest', code: 400 });
    expect((caught as StatusError).message).toMatch(message);
    expect(input).toEqual(before);
  });
});

describe('supportsStrategicMergePatch', () => {
  it.each([
    ['', 'Pod', true],
    ['apps', 'Deployment', true],
    ['rbac.authorization.k8s.io', 'Role', true],
    ['example.com', 'Widget', false],
    ['stable.example.com', 'CronTab', false],
  ] as const)('%s/%s → %s', (group, kind, expected) => {
    expect(supportsStrategicMergePatch(group, kind)).toBe(expected);
  });
});
