// SPDX-License-Identifier: Apache-2.0
// Server-side apply and status writes on the status subresource, driven by the real kubectl 1.32
// against `npm start` (the single-node starter as a child process over HTTPS, in-memory store):
// `kubectl apply --server-side --subresource=status`, its managedFields entry with
// `subresource: status`, conflicts between status managers, --force-conflicts, and status patches
// recorded as Updates of the status subresource.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { useStarterWithKubectl } from './support/starter.js';

const { k, manifest } = useStarterWithKubectl();

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

interface Deployment {
  metadata: { managedFields?: Entry[]; generation?: number };
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  status?: Record<string, unknown>;
}

/** A Deployment manifest as a controller would apply its status: the whole object, spec included. */
const deploymentYaml = (name: string, replicas: number, status: string[]): string =>
  [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  replicas: ${replicas}`,
    '  selector:',
    '    matchLabels:',
    `      app: ${name}`,
    '  template:',
    '    metadata:',
    '      labels:',
    `        app: ${name}`,
    '    spec:',
    '      containers:',
    '      - name: web',
    '        image: nginx:changed',
    'status:',
    ...status.map((line) => `  ${line}`),
    '',
  ].join('\n');

async function getDeployment(name: string): Promise<Deployment> {
  return parseYaml(
    await k.ok('get', 'deployment', name, '-o', 'yaml', '--show-managed-fields'),
  ) as Deployment;
}

const entryOf = (d: Deployment, manager: string, subresource?: string): Entry | undefined =>
  d.metadata.managedFields?.find((e) => e.manager === manager && e.subresource === subresource);

describe('kubectl apply --server-side --subresource=status', () => {
  it('owns the applied status under subresource status and leaves the spec alone', async () => {
    await k.ok('create', 'deployment', 'web', '--image=nginx');
    const before = await getDeployment('web');
    const file = await manifest(
      'web-status.yaml',
      deploymentYaml('web', 5, [
        'replicas: 1',
        'readyReplicas: 1',
        'conditions:',
        '- type: Available',
        '  status: "True"',
        '  reason: MinimumReplicasAvailable',
      ]),
    );
    expect(await k.ok('apply', '--server-side', '--subresource=status', '-f', file)).toContain(
      'deployment.apps/web serverside-applied',
    );
    const after = await getDeployment('web');
    expect(after.spec.replicas).toBe(1);
    expect(after.spec.template.spec.containers[0]?.image).toBe('nginx');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.status).toMatchObject({
      replicas: 1,
      readyReplicas: 1,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
    });
    const status = entryOf(after, 'kubectl', 'status');
    expect(status).toMatchObject({ operation: 'Apply', apiVersion: 'apps/v1', subresource: 'status' });
    expect(status?.fieldsV1).toEqual({
      'f:status': {
        'f:replicas': {},
        'f:readyReplicas': {},
        'f:conditions': {
          'k:{"type":"Available"}': { '.': {}, 'f:type': {}, 'f:status': {}, 'f:reason': {} },
        },
      },
    });
    // The creator's entry is the main resource's and stays as it was; kubectl has no main entry.
    expect(entryOf(after, 'kubectl-create')).toEqual(entryOf(before, 'kubectl-create'));
    expect(entryOf(after, 'kubectl')).toBeUndefined();
    // The raw YAML shows the field as kubectl prints it.
    expect(await k.ok('get', 'deployment', 'web', '-o', 'yaml', '--show-managed-fields')).toContain(
      'subresource: status',
    );
  });

  it('another status manager conflicts, --force-conflicts takes the field, a dropped field goes', async () => {
    await k.ok('create', 'deployment', 'race', '--image=nginx');
    const first = await manifest(
      'race-a.yaml',
      deploymentYaml('race', 1, ['replicas: 1', 'readyReplicas: 1', 'availableReplicas: 1']),
    );
    await k.ok('apply', '--server-side', '--subresource=status', '--field-manager=ctrl-a', '-f', first);
    const second = await manifest('race-b.yaml', deploymentYaml('race', 1, ['readyReplicas: 0']));
    const conflict = await k.run(
      'apply',
      '--server-side',
      '--subresource=status',
      '--field-manager=ctrl-b',
      '-f',
      second,
    );
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain(
      'Apply failed with 1 conflict: conflict with "ctrl-a" with subresource "status"',
    );
    expect(conflict.stderr).toContain('.status.readyReplicas');
    expect(conflict.stderr).toContain('--force-conflicts');
    await k.ok(
      'apply',
      '--server-side',
      '--subresource=status',
      '--field-manager=ctrl-b',
      '--force-conflicts',
      '-f',
      second,
    );
    let race = await getDeployment('race');
    expect(race.status).toMatchObject({ replicas: 1, readyReplicas: 0, availableReplicas: 1 });
    expect(entryOf(race, 'ctrl-a', 'status')?.fieldsV1).toEqual({
      'f:status': { 'f:replicas': {}, 'f:availableReplicas': {} },
    });
    expect(entryOf(race, 'ctrl-b', 'status')?.fieldsV1).toEqual({ 'f:status': { 'f:readyReplicas': {} } });
    // ctrl-a stops applying availableReplicas: nobody else owns it, so it is removed.
    const dropped = await manifest('race-a2.yaml', deploymentYaml('race', 1, ['replicas: 1']));
    await k.ok('apply', '--server-side', '--subresource=status', '--field-manager=ctrl-a', '-f', dropped);
    race = await getDeployment('race');
    expect(race.status).toEqual({ replicas: 1, readyReplicas: 0 });
  });

  it('a missing object is NotFound: a status apply never creates', async () => {
    const file = await manifest('ghost.yaml', deploymentYaml('ghost', 1, ['replicas: 1']));
    const result = await k.run('apply', '--server-side', '--subresource=status', '-f', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('NotFound');
    expect((await k.run('get', 'deployment', 'ghost')).code).toBe(1);
  });

  it('kubectl patch --subresource=status records an Update with subresource status', async () => {
    await k.ok('create', 'deployment', 'patched', '--image=nginx');
    await k.ok(
      'patch',
      'deployment',
      'patched',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"observedGeneration":1},"spec":{"replicas":4}}',
    );
    const patched = await getDeployment('patched');
    expect(patched.spec.replicas).toBe(1);
    expect(patched.status).toMatchObject({ observedGeneration: 1 });
    expect(entryOf(patched, 'kubectl-patch', 'status')).toMatchObject({
      operation: 'Update',
      apiVersion: 'apps/v1',
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:observedGeneration': {} } },
    });
    expect(entryOf(patched, 'kubectl-patch')).toBeUndefined();
  });
});
