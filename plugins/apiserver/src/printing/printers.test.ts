// SPDX-License-Identifier: Apache-2.0
import type {
  DaemonSet,
  Deployment,
  Event,
  Job,
  Lease,
  Namespace,
  Node,
  ReplicaSet,
  Service,
} from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { eventPrinter } from './event-printer.js';
import { nodePrinter } from './node-printer.js';
import { servicePrinter } from './service-printer.js';
import { defaultPrinter, leasePrinter, namespacePrinter } from './simple-printers.js';
import type { KindPrinter } from './table.js';
import { daemonSetPrinter, deploymentPrinter, jobPrinter, replicaSetPrinter } from './workload-printers.js';

const now = Date.parse('2026-11-22T20:00:00Z');
const created = '2026-11-20T15:00:00Z'; // 2d5h before now

function columnsOf(printer: KindPrinter): Array<[string, string, number]> {
  return printer.columns.map((c) => [c.name, c.type, c.priority]);
}

describe('column definitions', () => {
  it.each<[string, KindPrinter, Array<[string, string, number]>]>([
    [
      'nodes',
      nodePrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Status', 'string', 0],
        ['Roles', 'string', 0],
        ['Age', 'string', 0],
        ['Version', 'string', 0],
        ['Internal-IP', 'string', 1],
        ['External-IP', 'string', 1],
        ['OS-Image', 'string', 1],
        ['Kernel-Version', 'string', 1],
        ['Container-Runtime', 'string', 1],
      ],
    ],
    [
      'namespaces',
      namespacePrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Status', 'string', 0],
        ['Age', 'string', 0],
      ],
    ],
    [
      'services',
      servicePrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Type', 'string', 0],
        ['Cluster-IP', 'string', 0],
        ['External-IP', 'string', 0],
        ['Port(s)', 'string', 0],
        ['Age', 'string', 0],
        ['Selector', 'string', 1],
      ],
    ],
    [
      'deployments',
      deploymentPrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Ready', 'string', 0],
        ['Up-to-date', 'integer', 0],
        ['Available', 'integer', 0],
        ['Age', 'string', 0],
        ['Containers', 'string', 1],
        ['Images', 'string', 1],
        ['Selector', 'string', 1],
      ],
    ],
    [
      'replicasets',
      replicaSetPrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Desired', 'integer', 0],
        ['Current', 'integer', 0],
        ['Ready', 'integer', 0],
        ['Age', 'string', 0],
        ['Containers', 'string', 1],
        ['Images', 'string', 1],
        ['Selector', 'string', 1],
      ],
    ],
    [
      'daemonsets',
      daemonSetPrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Desired', 'integer', 0],
        ['Current', 'integer', 0],
        ['Ready', 'integer', 0],
        ['Up-to-date', 'integer', 0],
        ['Available', 'integer', 0],
        ['Node Selector', 'string', 0],
        ['Age', 'string', 0],
        ['Containers', 'string', 1],
        ['Images', 'string', 1],
        ['Selector', 'string', 1],
      ],
    ],
    [
      'jobs',
      jobPrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Status', 'string', 0],
        ['Completions', 'string', 0],
        ['Duration', 'string', 0],
        ['Age', 'string', 0],
        ['Containers', 'string', 1],
        ['Images', 'string', 1],
        ['Selector', 'string', 1],
      ],
    ],
    [
      'events',
      eventPrinter as KindPrinter,
      [
        ['Last Seen', 'string', 0],
        ['Type', 'string', 0],
        ['Reason', 'string', 0],
        ['Object', 'string', 0],
        ['Subobject', 'string', 1],
        ['Source', 'string', 1],
        ['Message', 'string', 0],
        ['First Seen', 'string', 1],
        ['Count', 'string', 1],
        ['Name', 'string', 1],
      ],
    ],
    [
      'leases',
      leasePrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Holder', 'string', 0],
        ['Age', 'string', 0],
      ],
    ],
    [
      'any other kind',
      defaultPrinter,
      [
        ['Name', 'string', 0],
        ['Age', 'date', 0],
      ],
    ],
  ])('%s', (_name, printer, expected) => {
    expect(columnsOf(printer)).toEqual(expected);
    // Exactly one column is the object name, and every column is documented.
    expect(printer.columns.filter((c) => c.format === 'name')).toHaveLength(1);
    for (const c of printer.columns) expect(c.description).not.toBe('');
  });
});

function node(extra: {
  labels?: Record<string, string>;
  ready?: string;
  unschedulable?: boolean;
  bare?: boolean;
}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', creationTimestamp: created, labels: extra.labels },
    spec: { unschedulable: extra.unschedulable },
    status: extra.bare
      ? {}
      : {
          conditions: [
            { type: 'MemoryPressure', status: 'False' },
            ...(extra.ready ? [{ type: 'Ready', status: extra.ready }] : []),
          ],
          addresses: [
            { type: 'Hostname', address: 'node-1' },
            { type: 'InternalIP', address: '10.0.0.4' },
            { type: 'InternalIP', address: '10.0.0.5' },
          ],
          nodeInfo: {
            architecture: 'amd64',
            bootID: '',
            containerRuntimeVersion: 'containerd://1.7.22',
            kernelVersion: '6.1.0-26-amd64',
            kubeProxyVersion: '',
            kubeletVersion: 'v1.32.0',
            machineID: '',
            operatingSystem: 'linux',
            osImage: 'Debian GNU/Linux 12 (bookworm)',
            systemUUID: '',
          },
        },
  };
}

describe('node cells', () => {
  it.each<[string, Node, unknown[]]>([
    [
      'ready control plane',
      node({
        ready: 'True',
        labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'node-1' },
      }),
      [
        'node-1',
        'Ready',
        'control-plane',
        '2d5h',
        'v1.32.0',
        '10.0.0.4',
        '<none>',
        'Debian GNU/Linux 12 (bookworm)',
        '6.1.0-26-amd64',
        'containerd://1.7.22',
      ],
    ],
    [
      'cordoned, several roles sorted, legacy role label',
      node({
        ready: 'True',
        unschedulable: true,
        labels: {
          'node-role.kubernetes.io/worker': 'true',
          'kubernetes.io/role': 'ingress',
          'node-role.kubernetes.io/': 'x',
        },
      }),
      ['node-1', 'Ready,SchedulingDisabled', 'ingress,worker', '2d5h', 'v1.32.0'],
    ],
    ['not ready', node({ ready: 'False' }), ['node-1', 'NotReady', '<none>', '2d5h', 'v1.32.0']],
    ['ready unknown', node({ ready: 'Unknown' }), ['node-1', 'NotReady', '<none>', '2d5h', 'v1.32.0']],
    [
      'no status yet',
      node({ bare: true, unschedulable: true }),
      [
        'node-1',
        'Unknown,SchedulingDisabled',
        '<none>',
        '2d5h',
        '',
        '<none>',
        '<none>',
        '<unknown>',
        '<unknown>',
        '<unknown>',
      ],
    ],
  ])('%s', (_name, input, expected) => {
    const cells = nodePrinter.cells(input, now);
    expect(cells.slice(0, expected.length)).toEqual(expected);
    expect(cells).toHaveLength(nodePrinter.columns.length);
  });
});

function service(spec: Service['spec'], status?: Service['status']): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', creationTimestamp: created },
    spec,
    status,
  };
}

describe('service cells', () => {
  it.each<[string, Service, unknown[]]>([
    [
      'cluster IP with selector',
      service({
        type: 'ClusterIP',
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
        selector: { 'k8s-app': 'kube-dns', app: 'dns' },
      }),
      ['web', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP', '2d5h', 'app=dns,k8s-app=kube-dns'],
    ],
    [
      'headless without ports or selector; type defaulted',
      service({ clusterIP: 'None', clusterIPs: ['None'] }),
      ['web', 'ClusterIP', 'None', '<none>', '<none>', '2d5h', '<none>'],
    ],
    [
      'node port with external IPs, protocol defaulted',
      service({
        type: 'NodePort',
        clusterIPs: ['10.96.1.1'],
        externalIPs: ['1.2.3.4', '5.6.7.8'],
        ports: [{ port: 80, nodePort: 30080 }],
      }),
      ['web', 'NodePort', '10.96.1.1', '1.2.3.4,5.6.7.8', '80:30080/TCP', '2d5h', '<none>'],
    ],
    [
      'load balancer pending',
      service({
        type: 'LoadBalancer',
        clusterIPs: ['10.96.1.2'],
        ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }],
      }),
      ['web', 'LoadBalancer', '10.96.1.2', '<pending>', '443:31443/TCP', '2d5h', '<none>'],
    ],
    [
      'load balancer with ingress and external IPs',
      service(
        {
          type: 'LoadBalancer',
          clusterIPs: ['10.96.1.2'],
          externalIPs: ['9.9.9.9'],
          ports: [{ port: 80, protocol: 'TCP' }],
        },
        { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.com' }] } },
      ),
      ['web', 'LoadBalancer', '10.96.1.2', '203.0.113.7,lb.example.com,9.9.9.9', '80/TCP', '2d5h', '<none>'],
    ],
    [
      'external name',
      service({ type: 'ExternalName', externalName: 'db.example.com' }),
      ['web', 'ExternalName', '<none>', 'db.example.com', '<none>', '2d5h', '<none>'],
    ],
  ])('%s', (_name, input, expected) => {
    expect(servicePrinter.cells(input, now)).toEqual(expected);
  });
});

const template = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      { name: 'app', image: 'nginx:1.27' },
      { name: 'log', image: 'fluent-bit:3' },
    ],
  },
};

describe('workload cells', () => {
  it.each<[string, KindPrinter, unknown, unknown[]]>([
    [
      'deployment rolling out',
      deploymentPrinter as KindPrinter,
      {
        metadata: { name: 'web', creationTimestamp: created },
        spec: {
          replicas: 3,
          selector: {
            matchLabels: { app: 'web' },
            matchExpressions: [
              { key: 'tier', operator: 'In', values: ['front', 'edge'] },
              { key: 'legacy', operator: 'DoesNotExist' },
              { key: 'canary', operator: 'NotIn', values: ['true'] },
              { key: 'zone', operator: 'Exists' },
            ],
          },
          template,
        },
        status: { replicas: 3, readyReplicas: 2, updatedReplicas: 1, availableReplicas: 2 },
      } satisfies Deployment,
      [
        'web',
        '2/3',
        1,
        2,
        '2d5h',
        'app,log',
        'nginx:1.27,fluent-bit:3',
        'app=web,canary notin (true),!legacy,tier in (edge,front),zone',
      ],
    ],
    [
      'new deployment without status; replicas defaulted',
      deploymentPrinter as KindPrinter,
      {
        metadata: { name: 'api', creationTimestamp: created },
        spec: { selector: {}, template },
      } satisfies Deployment,
      ['api', '0/1', 0, 0, '2d5h', 'app,log', 'nginx:1.27,fluent-bit:3', ''],
    ],
    [
      'replicaset',
      replicaSetPrinter as KindPrinter,
      {
        metadata: { name: 'web-5d4f8', creationTimestamp: created },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f8' } },
          template,
        },
        status: { replicas: 3, readyReplicas: 1 },
      } satisfies ReplicaSet,
      ['web-5d4f8', 3, 3, 1, '2d5h', 'app,log', 'nginx:1.27,fluent-bit:3', 'app=web,pod-template-hash=5d4f8'],
    ],
    [
      'daemonset with node selector',
      daemonSetPrinter as KindPrinter,
      {
        metadata: { name: 'agent', creationTimestamp: created },
        spec: {
          selector: { matchLabels: { app: 'agent' } },
          template: {
            spec: {
              nodeSelector: { 'kubernetes.io/os': 'linux' },
              containers: [{ name: 'agent', image: 'agent:2' }],
            },
          },
        },
        status: {
          desiredNumberScheduled: 3,
          currentNumberScheduled: 3,
          numberReady: 2,
          updatedNumberScheduled: 3,
          numberAvailable: 2,
          numberMisscheduled: 0,
        },
      } satisfies DaemonSet,
      ['agent', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '2d5h', 'agent', 'agent:2', 'app=agent'],
    ],
    [
      'daemonset without node selector or status',
      daemonSetPrinter as KindPrinter,
      {
        metadata: { name: 'agent', creationTimestamp: created },
        spec: { selector: { matchLabels: { app: 'agent' } }, template },
      } satisfies DaemonSet,
      ['agent', 0, 0, 0, 0, 0, '<none>', '2d5h', 'app,log', 'nginx:1.27,fluent-bit:3', 'app=agent'],
    ],
  ])('%s', (_name, printer, input, expected) => {
    expect(printer.cells(input as never, now)).toEqual(expected);
  });
});

function job(spec: Partial<NonNullable<Job['spec']>>, status: Job['status'], deleting = false): Job {
  return {
    metadata: {
      name: 'pi',
      creationTimestamp: '2026-11-22T19:50:00Z',
      ...(deleting ? { deletionTimestamp: '2026-11-22T19:59:00Z' } : {}),
    },
    spec: {
      template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }] } },
      selector: { matchLabels: { 'job-name': 'pi' } },
      ...spec,
    },
    status,
  };
}

const cond = (type: string, status = 'True') => ({ type, status });

describe('job cells', () => {
  it.each<[string, Job, string[]]>([
    [
      'running, started 90s ago',
      job({ completions: 1 }, { active: 1, startTime: '2026-11-22T19:58:30Z' }),
      ['Running', '0/1', '90s'],
    ],
    [
      'complete; duration from start to completion',
      job(
        { completions: 3 },
        {
          succeeded: 3,
          startTime: '2026-11-22T19:50:00Z',
          completionTime: '2026-11-22T19:52:30Z',
          conditions: [cond('SuccessCriteriaMet'), cond('Complete')],
        },
      ),
      ['Complete', '3/3', '2m30s'],
    ],
    [
      'failed',
      job(
        { completions: 1 },
        { failed: 6, startTime: '2026-11-22T19:50:00Z', conditions: [cond('FailureTarget'), cond('Failed')] },
      ),
      ['Failed', '0/1', '10m'],
    ],
    [
      'terminating',
      job({ completions: 1 }, { startTime: '2026-11-22T19:55:00Z' }, true),
      ['Terminating', '0/1', '5m'],
    ],
    [
      'suspended, never started',
      job({ completions: 1, suspend: true }, { conditions: [cond('Suspended')] }),
      ['Suspended', '0/1', ''],
    ],
    [
      'resumed: a False condition does not count',
      job({ completions: 1 }, { conditions: [cond('Suspended', 'False')] }),
      ['Running', '0/1', ''],
    ],
    [
      'failure target',
      job({ completions: 1 }, { conditions: [cond('FailureTarget')] }),
      ['FailureTarget', '0/1', ''],
    ],
    [
      'success criteria met',
      job({ completions: 2 }, { succeeded: 2, conditions: [cond('SuccessCriteriaMet')] }),
      ['SuccessCriteriaMet', '2/2', ''],
    ],
    ['work queue with parallelism', job({ parallelism: 3 }, { succeeded: 1 }), ['Running', '1/1 of 3', '']],
    ['work queue without parallelism', job({}, {}), ['Running', '0/1', '']],
  ])('%s', (_name, input, expected) => {
    const cells = jobPrinter.cells(input, now);
    expect(cells.slice(1, 4)).toEqual(expected);
    expect(cells).toEqual(['pi', ...expected, '10m', 'pi', 'perl:5.34', 'job-name=pi']);
  });
});

function event(extra: Partial<Event>): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web.1798a', namespace: 'default', creationTimestamp: '2026-11-22T19:50:00Z' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{app}' },
    type: 'Normal',
    reason: 'Pulled',
    message: '  Container image "nginx" already present on machine\n',
    source: { component: 'kubelet', host: 'node-1' },
    ...extra,
  };
}

describe('event cells', () => {
  it.each<[string, Event, unknown[]]>([
    [
      'classic event with first and last timestamps',
      event({ firstTimestamp: '2026-11-22T19:00:00Z', lastTimestamp: '2026-11-22T19:58:00Z', count: 4 }),
      [
        '2m',
        'Normal',
        'Pulled',
        'pod/web',
        'spec.containers{app}',
        'kubelet, node-1',
        'Container image "nginx" already present on machine',
        '60m',
        4,
        'web.1798a',
      ],
    ],
    [
      'no last timestamp: last seen is first seen; a zero count prints as 1',
      event({ firstTimestamp: '2026-11-22T19:59:00Z' }),
      [
        '60s',
        'Normal',
        'Pulled',
        'pod/web',
        'spec.containers{app}',
        'kubelet, node-1',
        'Container image "nginx" already present on machine',
        '60s',
        1,
        'web.1798a',
      ],
    ],
    [
      'events.k8s.io style: eventTime, series, reporting controller',
      event({
        type: 'Warning',
        reason: 'FailedScheduling',
        message: '0/3 nodes are available',
        involvedObject: { kind: 'Pod', name: 'web' },
        source: undefined,
        eventTime: '2026-11-22T19:30:00.000000Z',
        series: { count: 7, lastObservedTime: '2026-11-22T19:59:50.000000Z' },
        reportingComponent: 'default-scheduler',
        reportingInstance: 'scheduler-1',
      }),
      [
        '10s',
        'Warning',
        'FailedScheduling',
        'pod/web',
        '',
        'default-scheduler, scheduler-1',
        '0/3 nodes are available',
        '30m',
        7,
        'web.1798a',
      ],
    ],
    [
      'no times at all, object without a name',
      event({ involvedObject: { kind: 'Node' }, source: { component: 'kubelet' } }),
      [
        '<unknown>',
        'Normal',
        'Pulled',
        'node',
        '',
        'kubelet',
        'Container image "nginx" already present on machine',
        '<unknown>',
        1,
        'web.1798a',
      ],
    ],
  ])('%s', (_name, input, expected) => {
    expect(eventPrinter.cells(input, now)).toEqual(expected);
  });
});

describe('other kinds', () => {
  it.each<[string, KindPrinter, unknown, unknown[]]>([
    [
      'namespace active',
      namespacePrinter as KindPrinter,
      {
        metadata: { name: 'default', creationTimestamp: created },
        status: { phase: 'Active' },
      } satisfies Namespace,
      ['default', 'Active', '2d5h'],
    ],
    [
      'namespace terminating',
      namespacePrinter as KindPrinter,
      {
        metadata: { name: 'old', creationTimestamp: '2023-07-26T20:00:00Z' },
        status: { phase: 'Terminating' },
      } satisfies Namespace,
      ['old', 'Terminating', '3y120d'],
    ],
    [
      'lease held',
      leasePrinter as KindPrinter,
      {
        metadata: { name: 'kube-scheduler', creationTimestamp: created },
        spec: { holderIdentity: 'node-1_5f2c' },
      } satisfies Lease,
      ['kube-scheduler', 'node-1_5f2c', '2d5h'],
    ],
    [
      'lease free',
      leasePrinter as KindPrinter,
      { metadata: { name: 'node-2', creationTimestamp: created }, spec: {} } satisfies Lease,
      ['node-2', '', '2d5h'],
    ],
    [
      'custom resource',
      defaultPrinter,
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w1', creationTimestamp: '2026-10-08T20:00:00Z' },
      },
      ['w1', '45d'],
    ],
    ['object without metadata', defaultPrinter, {}, ['', '<unknown>']],
  ])('%s', (_name, printer, input, expected) => {
    expect(printer.cells(input as never, now)).toEqual(expected);
  });
});
