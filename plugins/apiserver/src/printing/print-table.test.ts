// SPDX-License-Identifier: Apache-2.0
import { type KubeObject, type Pod, StatusError } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { podPrinter } from './pod-printer.js';
import { printerFor, printTable } from './print-table.js';
import { defaultPrinter, leasePrinter } from './simple-printers.js';
import { deploymentPrinter } from './workload-printers.js';

const now = new Date('2026-11-22T20:00:00Z');

const nginx: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'nginx',
    namespace: 'default',
    uid: '7c1e',
    resourceVersion: '1009',
    labels: { app: 'nginx' },
    creationTimestamp: '2026-11-22T19:55:00Z',
  },
  spec: { nodeName: 'node-1', containers: [{ name: 'nginx', image: 'nginx' }] },
  status: {
    phase: 'Running',
    podIPs: [{ ip: '10.244.0.5' }],
    containerStatuses: [
      { name: 'nginx', image: 'nginx', imageID: '', ready: true, restartCount: 0, state: { running: {} } },
    ],
  },
};
const done: Pod = {
  ...nginx,
  metadata: { ...nginx.metadata, name: 'once' },
  status: { phase: 'Succeeded' },
};

describe('printTable', () => {
  it('renders the Table kubectl expects, rows in input order, with metadata-only objects by default', () => {
    const table = printTable('Pod', [nginx, done], { now, resourceVersion: '1010' });
    expect(table.kind).toBe('Table');
    expect(table.apiVersion).toBe('meta.k8s.io/v1');
    expect(table.metadata).toEqual({ resourceVersion: '1010' });
    expect(table.columnDefinitions.map((c) => c.name)).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
      'IP',
      'Node',
      'Nominated Node',
      'Readiness Gates',
    ]);
    expect(table.rows).toHaveLength(2);
    expect(table.rows[0]).toEqual({
      cells: ['nginx', '1/1', 'Running', '0', '5m', '10.244.0.5', 'node-1', '<none>', '<none>'],
      object: { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: nginx.metadata },
    });
    expect(table.rows[1].cells[2]).toBe('Succeeded');
    expect(table.rows[1].conditions).toEqual([
      {
        type: 'Completed',
        status: 'True',
        reason: 'Succeeded',
        message: 'The pod has completed successfully.',
      },
    ]);
    // The wire form is plain JSON.
    expect(JSON.parse(JSON.stringify(table))).toEqual(table);
  });

  it.each([
    ['Metadata', { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: nginx.metadata }],
    ['Object', nginx],
    ['None', undefined],
  ] as const)('includeObject %s', (includeObject, expected) => {
    const [row] = printTable('Pod', [nginx], { now, includeObject }).rows;
    expect(row.object).toEqual(expected);
    expect('object' in row).toBe(expected !== undefined);
  });

  it('a row of an object without metadata carries empty metadata', () => {
    const [row] = printTable('Widget', [{ kind: 'Widget' }], { now }).rows;
    expect(row.object).toEqual({ apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: {} });
  });

  it('carries the continue token and remaining item count of a paged list', () => {
    const table = printTable('Pod', [nginx], {
      now,
      resourceVersion: '7',
      continue: 'abc',
      remainingItemCount: 3,
    });
    expect(table.metadata).toEqual({ resourceVersion: '7', continue: 'abc', remainingItemCount: 3 });
  });

  it('noHeaders leaves the column definitions out but keeps every cell', () => {
    const table = printTable('Pod', [nginx], { now, noHeaders: true });
    expect(table.columnDefinitions).toEqual([]);
    expect(table.rows[0].cells).toHaveLength(9);
  });

  it('an empty list still has its columns', () => {
    const table = printTable('Deployment', [], { now, resourceVersion: '1' });
    expect(table.rows).toEqual([]);
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(deploymentPrinter.columns.map((c) => c.name));
  });

  it('measures ages against now given as epoch milliseconds', () => {
    const table = printTable('Pod', [nginx], { now: now.getTime() + 4 * 3600_000 });
    expect(table.rows[0].cells[4]).toBe('4h5m');
  });

  it('returns column definitions the caller may modify without affecting later tables', () => {
    const first = printTable('Pod', [], { now });
    first.columnDefinitions[0].name = 'changed';
    expect(printTable('Pod', [], { now }).columnDefinitions[0].name).toBe('Name');
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'includeObject',
      () => printTable('Pod', [nginx], { includeObject: 'Everything' as never }),
      /includeObject/,
    ],
    ['now', () => printTable('Pod', [nginx], { now: new Date('nonsense') }), /now/],
    ['objects', () => printTable('Pod', 'nginx' as never), /objects/],
    ['objects[1]', () => printTable('Pod', [nginx, null as unknown as KubeObject]), /objects\[1\]/],
  ])('rejects a bad %s with a BadRequest StatusError', (_name, call, message) => {
    let thrown: unknown;
    try {
      call();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StatusError);
    expect((thrown as StatusError).reason).toBe('BadRequest');
    expect((thrown as StatusError).message).toMatch(message);
  });
});

describe('printerFor', () => {
  it.each([
    ['Pod', podPrinter],
    ['Deployment', deploymentPrinter],
    ['Lease', leasePrinter],
    ['Widget', defaultPrinter],
    [{ group: '', version: 'v1', kind: 'Pod' }, podPrinter],
    [{ group: 'apps', version: 'v1', kind: 'Deployment' }, deploymentPrinter],
    [{ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' }, leasePrinter],
    // Same kind name in another group: a custom resource, printed with the default columns.
    [{ group: 'example.com', version: 'v1', kind: 'Pod' }, defaultPrinter],
    [{ group: 'events.k8s.io', version: 'v1', kind: 'Event' }, defaultPrinter],
  ] as const)('%o', (kind, expected) => {
    expect(printerFor(kind)).toBe(expected);
  });
});
