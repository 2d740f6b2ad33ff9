// SPDX-License-Identifier: Apache-2.0
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectThrownStatusError } from '@cpkit/core/testing';
import { describe, expect, it } from 'vitest';
import {
  loadSchedulerConfiguration,
  parseSchedulerConfiguration,
  validateSchedulerConfiguration,
} from './scheduler-configuration.js';

const failure = expectThrownStatusError;

describe('scheduler configuration', () => {
  it('parses a KubeSchedulerConfiguration file', () => {
    const config = parseSchedulerConfiguration(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
parallelism: 8
profiles:
  - schedulerName: default-scheduler
  - schedulerName: packer
    plugins:
      score:
        disabled: [{ name: NodeResourcesBalancedAllocation }]
        enabled: [{ name: NodeResourcesFit, weight: 2 }]
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy: { type: MostAllocated }
`);
    expect(config.percentageOfNodesToScore).toBe(30);
    expect(config.profiles?.[1].plugins?.score?.enabled).toEqual([{ name: 'NodeResourcesFit', weight: 2 }]);
    expect(config.profiles?.[1].pluginConfig?.[0].args).toEqual({
      scoringStrategy: { type: 'MostAllocated' },
    });
  });

  it('accepts an empty file as all defaults', () => {
    expect(parseSchedulerConfiguration('')).toEqual({});
  });

  it.each<[string, unknown, string, string]>([
    ['an unknown top-level field', { podBackoff: 1 }, 'podBackoff', 'unknown field "podBackoff"'],
    ['a wrong apiVersion', { apiVersion: 'v1' }, 'apiVersion', 'must be equal to constant'],
    ['a negative percentage', { percentageOfNodesToScore: -1 }, 'percentageOfNodesToScore', 'must be >= 0'],
    [
      'a percentage above 100',
      { percentageOfNodesToScore: 101 },
      'percentageOfNodesToScore',
      'must be <= 100',
    ],
    ['a zero initial backoff', { podInitialBackoffSeconds: 0 }, 'podInitialBackoffSeconds', 'must be >= 1'],
    ['a fractional parallelism', { parallelism: 1.5 }, 'parallelism', 'must be integer'],
    [
      'a max backoff below the initial one',
      { podInitialBackoffSeconds: 5, podMaxBackoffSeconds: 2 },
      'podMaxBackoffSeconds',
      'must be greater than or equal to podInitialBackoffSeconds',
    ],
    ['profiles that are not a list', { profiles: {} }, 'profiles', 'must be array'],
    [
      'an unknown extension point',
      { profiles: [{ plugins: { scoring: {} } }] },
      'profiles[0].plugins.scoring',
      'unknown field "scoring"',
    ],
    [
      'a negative weight',
      {
        profiles: [{}, { schedulerName: 'x', plugins: { score: { enabled: [{ name: 'A', weight: -1 }] } } }],
      },
      'profiles[1].plugins.score.enabled[0].weight',
      'must be >= 0',
    ],
    [
      'a plugin without a name',
      { profiles: [{ plugins: { filter: { disabled: [{}] } } }] },
      'profiles[0].plugins.filter.disabled[0].name',
      'Required value',
    ],
    [
      'plugin args that are not an object',
      { profiles: [{ pluginConfig: [{ name: 'A', args: 3 }] }] },
      'profiles[0].pluginConfig[0].args',
      'must be object',
    ],
    [
      'two profiles with one scheduler name',
      { profiles: [{ schedulerName: 'a' }, { schedulerName: 'a' }] },
      'profiles[1].schedulerName',
      'Duplicate value: "a"',
    ],
  ])('rejects %s, naming the field', (_, value, field, message) => {
    const error = failure(() => validateSchedulerConfiguration(value, 'test.yaml'));
    expect(error.reason).toBe('Invalid');
    expect(error.message).toContain('invalid scheduler configuration test.yaml');
    expect(error.details?.causes).toContainEqual(
      expect.objectContaining({ field, message: expect.stringContaining(message) }),
    );
  });

  it('reports YAML syntax errors and missing files plainly', async () => {
    const syntax = failure(() => parseSchedulerConfiguration('profiles: [\n', 'bad.yaml'));
    expect(syntax.reason).toBe('Invalid');
    expect(syntax.message).toContain('bad.yaml: YAML:');
    await expect(loadSchedulerConfiguration('/nonexistent/scheduler.yaml')).rejects.toMatchObject({
      reason: 'BadRequest',
      message: expect.stringContaining('/nonexistent/scheduler.yaml'),
    });
  });

  it('loads a file from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpkit-scheduler-config-'));
    try {
      const path = join(dir, 'scheduler.yaml');
      await writeFile(path, 'parallelism: 4\nprofiles:\n  - schedulerName: a\n');
      expect(await loadSchedulerConfiguration(path)).toEqual({
        parallelism: 4,
        profiles: [{ schedulerName: 'a' }],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
