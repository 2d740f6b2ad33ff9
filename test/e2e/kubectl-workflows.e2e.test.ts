// SPDX-License-Identifier: Apache-2.0
// The real kubectl 1.32 against `npm start` (the single-node starter as a child process, embedded
// in-memory store): the everyday commands beyond get/create/apply that kubectl.e2e covers —
// annotate, all three patch types, delete -l, diff, describe of the common kinds, status patches.
import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { useStarterWithKubectl } from './support/starter.js';

// A service range of our own: the starter's --service-cluster-ip-range reaches the allocator.
const { k, manifest } = useStarterWithKubectl({
  args: [
    '--in-memory',
    '--service-cluster-ip-range',
    '10.200.0.0/16',
    '--service-node-port-range',
    '31000-31099',
  ],
});

/** Lines of `kubectl describe` output that end in a label with nothing after it. */
const emptyFields = (out: string, labels: string[]): string[] =>
  out.split('\n').filter((line) => labels.some((label) => new RegExp(`^\\s*${label}:\\s*$`).test(line)));

describe('kubectl workflows against npm start', () => {
  it('annotate sets and removes an annotation', async () => {
    await k.ok('create', 'configmap', 'notes', '--from-literal=a=1');
    expect(await k.ok('annotate', 'configmap', 'notes', 'owner=team-a')).toContain(
      'configmap/notes annotated',
    );
    expect(await k.ok('get', 'cm', 'notes', '-o', 'jsonpath={.metadata.annotations.owner}')).toBe('team-a');
    const again = await k.run('annotate', 'configmap', 'notes', 'owner=team-b');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      "--overwrite is false but found the following declared annotation(s): 'owner'",
    );
    await k.ok('annotate', 'configmap', 'notes', 'owner-');
    expect(await k.ok('get', 'cm', 'notes', '-o', 'jsonpath={.metadata.annotations}')).toBe('');
  });

  it('patch with --type=json, merge and strategic', async () => {
    await k.ok('create', 'configmap', 'patched', '--from-literal=k=v1', '--from-literal=gone=x');
    await k.ok(
      'patch',
      'cm',
      'patched',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/data/k","value":"v2"},{"op":"remove","path":"/data/gone"}]',
    );
    expect(JSON.parse(await k.ok('get', 'cm', 'patched', '-o', 'json')).data).toEqual({ k: 'v2' });
    await k.ok('patch', 'cm', 'patched', '--type=merge', '-p', '{"data":{"k":null,"n":"1"}}');
    expect(JSON.parse(await k.ok('get', 'cm', 'patched', '-o', 'json')).data).toEqual({ n: '1' });
    const failed = await k.run(
      'patch',
      'cm',
      'patched',
      '--type=json',
      '-p',
      '[{"op":"test","path":"/data/n","value":"2"}]',
    );
    expect(failed.code).toBe(1);
    // A failed `test` operation is the client's error (4xx): kubectl reports it, nothing changes.
    expect(failed.stderr).toMatch(/is invalid|Error from server/);
    expect(JSON.parse(await k.ok('get', 'cm', 'patched', '-o', 'json')).data).toEqual({ n: '1' });
  });

  it('delete -l deletes exactly the labelled objects', async () => {
    for (const name of ['l1', 'l2', 'l3']) {
      await k.ok('create', 'configmap', name, '--from-literal=a=1');
      await k.ok('label', 'configmap', name, 'batch=one');
    }
    await k.ok('create', 'configmap', 'keep', '--from-literal=a=1');
    await k.ok('label', 'configmap', 'keep', 'batch=two');
    const out = await k.ok('delete', 'configmaps', '-l', 'batch=one');
    expect(out.trim().split('\n').sort()).toEqual([
      'configmap "l1" deleted',
      'configmap "l2" deleted',
      'configmap "l3" deleted',
    ]);
    expect((await k.ok('get', 'cm', '-l', 'batch', '-o', 'name')).trim()).toBe('configmap/keep');
    const none = await k.run('delete', 'configmaps', '-l', 'batch=one');
    expect(none).toMatchObject({ code: 0 });
    expect(`${none.stdout}${none.stderr}`).toContain('No resources found');
  });

  it('diff: nothing for the live state, a unified diff and exit 1 for a change, and nothing is written', async () => {
    const write = (value: string) =>
      manifest(
        'diffed.yaml',
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: diffed\ndata:\n  k: ${value}\n`,
      );
    await k.ok('apply', '-f', await write('one'));
    const same = await k.run('diff', '-f', await write('one'));
    expect(same).toMatchObject({ code: 0, stdout: '' });
    const changed = await k.run('diff', '-f', await write('two'));
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^-\s+k: one$/m);
    expect(changed.stdout).toMatch(/^\+\s+k: two$/m);
    // diff runs the change as a server-side dry run: the live object is untouched.
    expect(await k.ok('get', 'cm', 'diffed', '-o', 'jsonpath={.data.k}')).toBe('one');
  });

  it('describe pod, deployment, node, namespace and service show the defaulted fields', async () => {
    const path = await manifest(
      'describe.yaml',
      `apiVersion: v1
kind: Node
metadata:
  name: node-d
  labels: {kubernetes.io/hostname: node-d}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  labels: {app: web}
spec:
  nodeSelector: {kubernetes.io/hostname: node-d}
  containers:
  - name: web
    image: nginx:1.27
    ports: [{containerPort: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
`,
    );
    await k.ok('create', '-f', path);
    // The node reports capacity through the status subresource (kubectl patch --subresource=status),
    // so the starter's scheduler can bind the pod to it.
    await k.ok(
      'patch',
      'node',
      'node-d',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"ready"}]}}',
    );
    await eventually(
      async () => (await k.ok('get', 'pod', 'web-0', '-o', 'jsonpath={.spec.nodeName}')) === 'node-d',
      'the scheduler binds web-0 to node-d',
      20_000,
    );

    const pod = await k.ok('describe', 'pod', 'web-0');
    expect(pod).toMatch(/^Node:\s+node-d\/$/m);
    expect(pod).toMatch(/^\s+Port:\s+80\/TCP$/m);
    expect(pod).toMatch(/^QoS Class:\s+BestEffort$/m);
    expect(pod).toMatch(
      /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/web-0 to node-d/,
    );
    expect(emptyFields(pod, ['Image', 'Port', 'Status', 'QoS Class', 'Node'])).toEqual([]);

    const deployment = await k.ok('describe', 'deployment', 'web');
    expect(deployment).toMatch(/^StrategyType:\s+RollingUpdate$/m);
    expect(deployment).toMatch(/^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$/m);
    expect(deployment).toMatch(/^MinReadySeconds:\s+0$/m);
    expect(deployment).toMatch(/^\s+Port:\s+80\/TCP$/m);
    expect(emptyFields(deployment, ['StrategyType', 'RollingUpdateStrategy', 'Port', 'Selector'])).toEqual(
      [],
    );

    const described = await k.ok('describe', 'node', 'node-d');
    expect(described).toMatch(/^Unschedulable:\s+false$/m);
    expect(described).toMatch(/^\s+Ready\s+True\s+.*KubeletReady\s+ready$/m);
    // The node's pods come from a spec.nodeName + status.phase!= field selector.
    expect(described).toMatch(/^Non-terminated Pods:\s+\(1 in total\)$/m);
    expect(described).toMatch(/^\s+default\s+web-0\s/m);

    const namespace = await k.ok('describe', 'namespace', 'default');
    expect(namespace).toMatch(/^Status:\s+Active$/m);
    expect(namespace).toMatch(/^Labels:\s+kubernetes\.io\/metadata\.name=default$/m);

    const service = await k.ok('describe', 'service', 'web');
    expect(service).toMatch(/^Type:\s+ClusterIP$/m);
    // Allocated from the range given on the command line; .1 belongs to the kubernetes Service.
    expect(service).toMatch(/^IP:\s+10\.200\.\d+\.\d+$/m);
    expect(service).not.toMatch(/^IP:\s+10\.200\.0\.1$/m);
    expect(await k.ok('get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}')).toBe('10.200.0.1');
    await k.ok('create', 'service', 'nodeport', 'np', '--tcp=80:8080');
    const nodePort = Number(await k.ok('get', 'service', 'np', '-o', 'jsonpath={.spec.ports[0].nodePort}'));
    expect(nodePort).toBeGreaterThanOrEqual(31000);
    expect(nodePort).toBeLessThanOrEqual(31099);
    expect(service).toMatch(/^IP Families:\s+IPv4$/m);
    expect(service).toMatch(/^TargetPort:\s+80\/TCP$/m);
    expect(service).toMatch(/^Session Affinity:\s+None$/m);
    expect(emptyFields(service, ['Type', 'IP', 'TargetPort', 'Session Affinity'])).toEqual([]);
  });
});
