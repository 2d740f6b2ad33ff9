// SPDX-License-Identifier: Apache-2.0
import type { ConfigMap, CronJob, Secret, StatefulSet } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { printerFor } from './print-table.js';
import { configMapPrinter, secretPrinter } from './simple-printers.js';
import type { KindPrinter } from './table.js';
import { cronJobPrinter, statefulSetPrinter } from './workload-printers.js';

const now = Date.parse('2026-11-22T20:00:00Z');
const created = '2026-11-20T15:00:00Z'; // 2d5h before now

describe('column definitions of the get-all kinds', () => {
  it.each<[string, KindPrinter, Array<[string, string, number]>]>([
    [
      'statefulsets',
      statefulSetPrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Ready', 'string', 0],
        ['Age', 'string', 0],
        ['Containers', 'string', 1],
        ['Images', 'string', 1],
      ],
    ],
    [
      'cronjobs',
      cronJobPrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Schedule', 'string', 0],
        ['Timezone', 'string', 0],
        ['Suspend', 'boolean', 0],
        ['Active', 'integer', 0],
        ['Last Schedule', 'string', 0],
        ['Age', 'string', 0],
        ['Containers', 'string', 1],
        ['Images', 'string', 1],
        ['Selector', 'string', 1],
      ],
    ],
    [
      'configmaps',
      configMapPrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Data', 'integer', 0],
        ['Age', 'string', 0],
      ],
    ],
    [
      'secrets',
      secretPrinter as KindPrinter,
      [
        ['Name', 'string', 0],
        ['Type', 'string', 0],
        ['Data', 'integer', 0],
        ['Age', 'string', 0],
      ],
    ],
  ])('%s', (_name, printer, expected) => {
    expect(printer.columns.map((c) => [c.name, c.type, c.priority])).toEqual(expected);
  });
});

describe('cells', () => {
  it.each<[string, KindPrinter, unknown, unknown[]]>([
    [
      'statefulset',
      statefulSetPrinter as KindPrinter,
      {
        metadata: { name: 'db', creationTimestamp: created },
        spec: {
          replicas: 3,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          template: { spec: { containers: [{ name: 'pg', image: 'postgres:17' }] } },
        },
        status: { replicas: 3, readyReplicas: 2 },
      } satisfies StatefulSet,
      ['db', '2/3', '2d5h', 'pg', 'postgres:17'],
    ],
    [
      'cronjob that ran',
      cronJobPrinter as KindPrinter,
      {
        metadata: { name: 'backup', creationTimestamp: created },
        spec: {
          schedule: '*/5 * * * *',
          timeZone: 'Etc/UTC',
          suspend: false,
          jobTemplate: { spec: { template: { spec: { containers: [{ name: 'b', image: 'backup:1' }] } } } },
        },
        status: { active: [{ kind: 'Job', name: 'backup-1' }], lastScheduleTime: '2026-11-22T19:55:00Z' },
      } satisfies CronJob,
      ['backup', '*/5 * * * *', 'Etc/UTC', 'False', 1, '5m', '2d5h', 'b', 'backup:1', '<none>'],
    ],
    [
      'cronjob never scheduled, suspend unset',
      cronJobPrinter as KindPrinter,
      {
        metadata: { name: 'report', creationTimestamp: created },
        spec: {
          schedule: '@daily',
          jobTemplate: {
            spec: {
              selector: { matchLabels: { job: 'report' } },
              template: { spec: { containers: [{ name: 'r', image: 'report:1' }] } },
            },
          },
        },
      } satisfies CronJob,
      ['report', '@daily', '<none>', '<unset>', 0, '<none>', '2d5h', 'r', 'report:1', 'job=report'],
    ],
    [
      'suspended cronjob',
      cronJobPrinter as KindPrinter,
      {
        metadata: { name: 'old', creationTimestamp: created },
        spec: {
          schedule: '0 3 * * *',
          suspend: true,
          jobTemplate: { spec: { template: { spec: { containers: [] } } } },
        },
      } satisfies CronJob,
      ['old', '0 3 * * *', '<none>', 'True', 0, '<none>', '2d5h', '', '', '<none>'],
    ],
    [
      'configmap with data and binaryData',
      configMapPrinter as KindPrinter,
      {
        metadata: { name: 'kube-root-ca.crt', creationTimestamp: created },
        data: { 'ca.crt': '...', extra: '' },
        binaryData: { blob: 'AAAA' },
      } satisfies ConfigMap,
      ['kube-root-ca.crt', 3, '2d5h'],
    ],
    [
      'empty configmap',
      configMapPrinter as KindPrinter,
      { metadata: { name: 'empty', creationTimestamp: created } } satisfies ConfigMap,
      ['empty', 0, '2d5h'],
    ],
    [
      'tls secret',
      secretPrinter as KindPrinter,
      {
        metadata: { name: 'web-tls', creationTimestamp: created },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': 'Y3J0', 'tls.key': 'a2V5' },
      } satisfies Secret,
      ['web-tls', 'kubernetes.io/tls', 2, '2d5h'],
    ],
  ])('%s', (_name, printer, input, expected) => {
    expect(printer.cells(input as never, now)).toEqual(expected);
  });

  it.each([
    ['StatefulSet', statefulSetPrinter],
    [{ group: 'batch', version: 'v1', kind: 'CronJob' }, cronJobPrinter],
    ['ConfigMap', configMapPrinter],
    [{ group: '', version: 'v1', kind: 'Secret' }, secretPrinter],
  ] as const)('printerFor(%o)', (kind, expected) => {
    expect(printerFor(kind)).toBe(expected);
  });
});
