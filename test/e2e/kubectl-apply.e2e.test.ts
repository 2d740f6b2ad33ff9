// SPDX-License-Identifier: Apache-2.0
// Server-side apply with field ownership, driven by the real kubectl 1.32 against `npm start` (the
// single-node starter as a child process over HTTPS, embedded in-memory store).
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { useStarterWithKubectl } from './support/starter.js';

const { k, manifest } = useStarterWithKubectl();

const configMap = (name: string, labels: Record<string, string>, data: Record<string, string>): string =>
  [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    `  name: ${name}`,
    ...(Object.keys(labels).length > 0
      ? ['  labels:', ...Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`)]
      : []),
    'data:',
    ...Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`),
    '',
  ].join('\n');

interface Entry {
  manager: string;
  operation: string;
  fieldsV1: Record<string, unknown>;
}

async function managedFields(kind: string, name: string): Promise<Entry[]> {
  const yaml = await k.ok('get', kind, name, '-o', 'yaml', '--show-managed-fields');
  return ((parseYaml(yaml) as { metadata: { managedFields?: Entry[] } }).metadata.managedFields ??
    []) as Entry[];
}

describe('kubectl apply --server-side with field ownership', () => {
  it('one manager applies twice: a dropped label is removed', async () => {
    const first = await manifest('own1.yaml', configMap('owned', { team: 'a', tier: 'web' }, { key: 'v1' }));
    expect(await k.ok('apply', '--server-side', '-f', first)).toContain('configmap/owned serverside-applied');
    const second = await manifest('own2.yaml', configMap('owned', { team: 'a' }, { key: 'v1' }));
    expect(await k.ok('apply', '--server-side', '-f', second)).toContain(
      'configmap/owned serverside-applied',
    );
    const object = JSON.parse(await k.ok('get', 'configmap', 'owned', '-o', 'json'));
    expect(object.metadata.labels).toEqual({ team: 'a' });
    expect(object.data).toEqual({ key: 'v1' });
  });

  it('a second manager changing an owned field conflicts; --force-conflicts takes it; both managers show', async () => {
    await k.ok(
      'apply',
      '--server-side',
      '-f',
      await manifest('c1.yaml', configMap('contested', {}, { key: 'mine', extra: 'x' })),
    );
    const theirs = await manifest('c2.yaml', configMap('contested', {}, { key: 'theirs' }));
    const conflict = await k.run('apply', '--server-side', '--field-manager=other', '-f', theirs);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .data.key');
    expect(conflict.stderr).toContain('--force-conflicts');
    expect(JSON.parse(await k.ok('get', 'cm', 'contested', '-o', 'json')).data.key).toBe('mine');

    const forced = await k.ok(
      'apply',
      '--server-side',
      '--field-manager=other',
      '--force-conflicts',
      '-f',
      theirs,
    );
    expect(forced).toContain('configmap/contested serverside-applied');
    expect(JSON.parse(await k.ok('get', 'cm', 'contested', '-o', 'json')).data).toEqual({
      key: 'theirs',
      extra: 'x',
    });

    // kubectl hides managedFields by default (client side) and shows them on request.
    expect(await k.ok('get', 'cm', 'contested', '-o', 'yaml')).not.toContain('managedFields');
    const entries = await managedFields('cm', 'contested');
    expect(entries.map((e) => `${e.manager}/${e.operation}`).sort()).toEqual([
      'kubectl/Apply',
      'other/Apply',
    ]);
    expect(entries.find((e) => e.manager === 'other')?.fieldsV1).toEqual({ 'f:data': { 'f:key': {} } });
    expect(entries.find((e) => e.manager === 'kubectl')?.fieldsV1).toEqual({ 'f:data': { 'f:extra': {} } });
  });

  it('kubectl apply (client-side), then --server-side takes over; a later edit is recorded as an Update', async () => {
    const deployment = (image: string, replicas: number) =>
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: migrate',
        'spec:',
        `  replicas: ${replicas}`,
        '  selector:',
        '    matchLabels: {app: migrate}',
        '  template:',
        '    metadata:',
        '      labels: {app: migrate}',
        '    spec:',
        '      containers:',
        '      - name: web',
        `        image: ${image}`,
        '',
      ].join('\n');
    const path = await manifest('migrate.yaml', deployment('nginx:1.27', 1));
    expect(await k.ok('apply', '-f', path)).toContain('deployment.apps/migrate created');
    let entries = await managedFields('deployment', 'migrate');
    expect(entries.map((e) => `${e.manager}/${e.operation}`)).toContain('kubectl-client-side-apply/Update');

    // The same manifest, now server side: no conflict with the client-side apply's fields.
    expect(await k.ok('apply', '--server-side', '-f', path)).toContain('serverside-applied');
    // A changed manifest: the fields client-side apply set are kubectl's to change.
    await writeFile(path, deployment('nginx:1.28', 2));
    expect(await k.ok('apply', '--server-side', '-f', path)).toContain('serverside-applied');
    const object = JSON.parse(await k.ok('get', 'deployment', 'migrate', '-o', 'json'));
    expect(object.spec.replicas).toBe(2);
    expect(object.spec.template.spec.containers[0].image).toBe('nginx:1.28');
    entries = await managedFields('deployment', 'migrate');
    const applied = entries.find((e) => e.manager === 'kubectl' && e.operation === 'Apply');
    expect(applied?.fieldsV1).toMatchObject({ 'f:spec': { 'f:replicas': {} } });

    // Another tool's write is recorded under its manager and then conflicts with a forced change.
    await k.ok('scale', 'deployment', 'migrate', '--replicas=3');
    entries = await managedFields('deployment', 'migrate');
    expect(entries.some((e) => e.manager === 'kubectl' && e.operation === 'Update')).toBe(true);
    const conflict = await k.run('apply', '--server-side', '-f', path);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(
      /conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas/,
    );
  });
});
