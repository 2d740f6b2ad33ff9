// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { SchedulingStatus } from '../contracts/scheduler-plugin.js';
import { expectThrownStatusError } from '../testing/status-rejection.js';
import { PluginRegistry } from './plugin-registry.js';
import { resolveSchedulingProfile, type SchedulingProfile } from './scheduling-profile.js';

const plugin = (name: string) => ({
  name,
  factory: () => ({ name, filter: () => SchedulingStatus.success() }),
});
const registry = new PluginRegistry(['A', 'B', 'C', 'D', 'Foo'].map(plugin));

const thrown = expectThrownStatusError;

describe('PluginRegistry', () => {
  it('registers and looks up by name', () => {
    expect(registry.names()).toEqual(['A', 'B', 'C', 'D', 'Foo']);
    expect(registry.get('B')?.name).toBe('B');
    expect(registry.has('Z')).toBe(false);
  });

  it.each([
    [
      'duplicate',
      [plugin('A'), plugin('B'), plugin('A')],
      'scheduler plugin "A" is registered twice: registration #0 and registration #2',
    ],
    ['empty name', [plugin('')], 'scheduler plugin registration #0: name must be a non-empty string'],
    ['no factory', [{ name: 'X' }], 'scheduler plugin "X" (registration #0): factory must be a function'],
  ])('rejects %s', (_name, registrations, message) => {
    const error = thrown(() => new PluginRegistry(registrations as never));
    expect(error.reason).toBe('BadRequest');
    expect(error.message).toBe(message);
  });
});

const defaultProfile: SchedulingProfile = {
  plugins: {
    filter: { enabled: [{ name: 'A' }, { name: 'B' }] },
    score: {
      enabled: [
        { name: 'A', weight: 1 },
        { name: 'B', weight: 2 },
      ],
    },
  },
  pluginConfig: [{ name: 'A', args: { level: 1 } }],
};

describe('resolveSchedulingProfile', () => {
  it.each([
    ['defaults alone', {}, { filter: ['A', 'B'], score: ['A:1', 'B:2'] }],
    [
      'enable appends',
      { plugins: { filter: { enabled: [{ name: 'C' }] } } },
      { filter: ['A', 'B', 'C'], score: ['A:1', 'B:2'] },
    ],
    [
      'disable removes',
      { plugins: { filter: { disabled: [{ name: 'A' }] } } },
      { filter: ['B'], score: ['A:1', 'B:2'] },
    ],
    [
      'disable * drops defaults',
      { plugins: { filter: { enabled: [{ name: 'C' }], disabled: [{ name: '*' }] } } },
      { filter: ['C'], score: ['A:1', 'B:2'] },
    ],
    [
      're-enabled default keeps its place with new weight',
      {
        plugins: {
          score: {
            enabled: [
              { name: 'C', weight: 3 },
              { name: 'A', weight: 5 },
            ],
          },
        },
      },
      { filter: ['A', 'B'], score: ['A:5', 'B:2', 'C:3'] },
    ],
  ])('%s', (_name, profile: SchedulingProfile, want) => {
    const resolved = resolveSchedulingProfile(profile, { registry, defaultProfile });
    expect(resolved.plugins.filter.enabled.map((p) => p.name)).toEqual(want.filter);
    expect(resolved.plugins.score.enabled.map((p) => `${p.name}:${p.weight}`)).toEqual(want.score);
  });

  it('merges names, args and percentage', () => {
    const resolved = resolveSchedulingProfile(
      {
        schedulerName: 'mine',
        pluginConfig: [
          { name: 'A', args: { level: 2 } },
          { name: 'B', args: 'b' },
        ],
        percentageOfNodesToScore: 30,
      },
      { registry, defaultProfile, path: 'profiles[1]' },
    );
    expect(resolved.schedulerName).toBe('mine');
    expect(resolved.pluginArgs.get('A')).toEqual({ level: 2 });
    expect(resolved.pluginArgs.get('B')).toBe('b');
    expect(resolved.pluginArgSources.get('B')).toBe('profiles[1].pluginConfig[1].args');
    expect(resolved.percentageOfNodesToScore).toBe(30);
    expect(resolveSchedulingProfile({}, { registry }).schedulerName).toBe('default-scheduler');
  });

  it.each([
    [
      'unknown plugin in enabled',
      { plugins: { filter: { enabled: [{ name: 'A' }, { name: 'B' }, { name: 'Nope' }] } } },
      'profiles[0].plugins.filter.enabled[2].name: unknown plugin "Nope"',
    ],
    [
      'unknown plugin in disabled',
      { plugins: { score: { disabled: [{ name: 'Zed' }] } } },
      'profiles[0].plugins.score.disabled[0].name: unknown plugin "Zed"',
    ],
    [
      'unknown plugin in multiPoint',
      { plugins: { multiPoint: { enabled: [{ name: 'Q' }] } } },
      'profiles[0].plugins.multiPoint.enabled[0].name: unknown plugin "Q"',
    ],
    [
      'unknown plugin in pluginConfig',
      { pluginConfig: [{ name: 'Q', args: {} }] },
      'profiles[0].pluginConfig[0].name: unknown plugin "Q"',
    ],
    [
      'duplicate pluginConfig',
      { pluginConfig: [{ name: 'A' }, { name: 'A' }] },
      'profiles[0].pluginConfig[1].name: duplicate configuration for plugin "A"',
    ],
    [
      'unknown extension point',
      { plugins: { filters: {} } },
      'profiles[0].plugins.filters: unknown extension point',
    ],
    [
      'bad weight',
      { plugins: { score: { enabled: [{ name: 'A', weight: -1 }] } } },
      'profiles[0].plugins.score.enabled[0].weight: must be an integer between 1 and 100, got -1',
    ],
    [
      'bad percentage',
      { percentageOfNodesToScore: 150 },
      'profiles[0].percentageOfNodesToScore: must be an integer between 0 and 100, got 150',
    ],
    [
      'listed twice',
      { plugins: { filter: { enabled: [{ name: 'C' }, { name: 'C' }] } } },
      'profiles[0].plugins.filter.enabled[1].name: plugin "C" is listed twice',
    ],
    [
      'enabled not a list',
      { plugins: { filter: { enabled: { name: 'C' } } } },
      'profiles[0].plugins.filter.enabled: must be a list',
    ],
    [
      'missing name',
      { plugins: { filter: { enabled: [{ weight: 1 }] } } },
      'profiles[0].plugins.filter.enabled[0].name: must be a non-empty string',
    ],
  ])('rejects %s naming the field', (_name, profile, message) => {
    const error = thrown(() =>
      resolveSchedulingProfile(profile as SchedulingProfile, { registry, defaultProfile }),
    );
    expect(error.reason).toBe('Invalid');
    expect(error.code).toBe(422);
    expect(error.message).toContain(message);
    expect(error.details?.causes?.length).toBeGreaterThan(0);
  });

  it('lists every problem at once', () => {
    const error = thrown(() =>
      resolveSchedulingProfile(
        { plugins: { filter: { enabled: [{ name: 'X' }, { name: 'Y' }] } } },
        { registry },
      ),
    );
    expect(error.details?.causes?.map((c) => c.field)).toEqual([
      'profiles[0].plugins.filter.enabled[0].name',
      'profiles[0].plugins.filter.enabled[1].name',
    ]);
  });
});
