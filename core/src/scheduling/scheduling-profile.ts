// SPDX-License-Identifier: Apache-2.0
import { type StatusCause, StatusError } from '../errors/status-error.js';
import type { PluginRegistry } from './plugin-registry.js';

/**
 * The extension points a profile configures, in the order a pod meets them. `multiPoint` (not listed)
 * enables a plugin at every point it implements.
 * @category Scheduling
 */
export const schedulingExtensionPoints = [
  'preEnqueue',
  'queueSort',
  'preFilter',
  'filter',
  'postFilter',
  'preScore',
  'score',
  'reserve',
  'permit',
  'preBind',
  'bind',
  'postBind',
] as const;

/** One of {@link schedulingExtensionPoints}. @category Scheduling */
export type SchedulingExtensionPoint = (typeof schedulingExtensionPoints)[number];

/** A plugin enabled at an extension point; `weight` only matters for Score (default 1). @category Scheduling */
export interface SchedulingPluginReference {
  name: string;
  weight?: number;
}

/**
 * Plugins enabled and disabled at one extension point. `disabled: [{ name: '*' }]` disables every plugin
 * the default profile enables there.
 * @category Scheduling
 */
export interface SchedulingPluginSet {
  enabled?: SchedulingPluginReference[];
  disabled?: { name: string }[];
}

/** The `plugins` field of a profile. @category Scheduling */
export type SchedulingProfilePlugins = Partial<
  Record<SchedulingExtensionPoint | 'multiPoint', SchedulingPluginSet>
>;

/** Arguments for one plugin (`pluginConfig[i]`). @category Scheduling */
export interface SchedulingPluginConfig {
  name: string;
  args?: unknown;
}

/**
 * A scheduling profile, shaped like one entry of KubeSchedulerConfiguration's `profiles`. A profile is
 * merged with the default profile as upstream merges it: at each extension point the default plugins
 * minus the disabled ones (a default plugin enabled again keeps its place with the new settings), then
 * the newly enabled plugins.
 * @category Scheduling
 */
export interface SchedulingProfile {
  /** Pods with this `spec.schedulerName` are scheduled with this profile. Default: `default-scheduler`. */
  schedulerName?: string;
  plugins?: SchedulingProfilePlugins;
  pluginConfig?: SchedulingPluginConfig[];
  /**
   * Share of the nodes (1–100) to find feasible before scoring stops the search. Absent or 0: the
   * adaptive default, `50 - nodes/125`, at least 5%, and never fewer than 100 nodes.
   */
  percentageOfNodesToScore?: number;
}

/** The scheduler name of profiles that name none. @category Scheduling */
export const DefaultSchedulerName = 'default-scheduler';

/** A plugin enabled at one point after merging, with where it was configured. @category Scheduling */
export interface ResolvedPluginReference {
  readonly name: string;
  /** The configured weight; 0 when none was given (Score then uses 1). */
  readonly weight: number;
  /** The field that enabled it, e.g. `profiles[0].plugins.score.enabled[1]`. */
  readonly source: string;
}

/** The plugins of one extension point after merging. @category Scheduling */
export interface ResolvedPluginSet {
  readonly enabled: readonly ResolvedPluginReference[];
  readonly disabled: ReadonlySet<string>;
}

/** A profile merged with the default profile and checked against the registry. @category Scheduling */
export interface ResolvedSchedulingProfile {
  readonly schedulerName: string;
  /** Where the profile came from, e.g. `profiles[0]`; used in error messages. */
  readonly path: string;
  readonly percentageOfNodesToScore: number | undefined;
  readonly plugins: Readonly<Record<SchedulingExtensionPoint | 'multiPoint', ResolvedPluginSet>>;
  /** Plugin arguments by plugin name (the profile's `pluginConfig` over the default's). */
  readonly pluginArgs: ReadonlyMap<string, unknown>;
  /** Where each plugin's args were configured, e.g. `profiles[0].pluginConfig[1].args`. */
  readonly pluginArgSources: ReadonlyMap<string, string>;
}

/** Options of {@link resolveSchedulingProfile}. @category Scheduling */
export interface ResolveSchedulingProfileOptions {
  registry: PluginRegistry;
  /** The profile the given one is merged into (typically the default plugins' profile). */
  defaultProfile?: SchedulingProfile;
  /** The profile's field path in error messages. Default: `profiles[0]`. */
  path?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Collected {
  enabled: ResolvedPluginReference[];
  disabled: Set<string>;
}

const allPoints: readonly (SchedulingExtensionPoint | 'multiPoint')[] = [
  ...schedulingExtensionPoints,
  'multiPoint',
];

/** Checks one profile's shape and plugin names, collecting causes; returns per-point sets with sources. */
function readProfile(
  profile: unknown,
  path: string,
  registry: PluginRegistry,
  causes: StatusCause[],
):
  | {
      points: Map<string, Collected>;
      args: Map<string, unknown>;
      sources: Map<string, string>;
      profile: SchedulingProfile;
    }
  | undefined {
  if (!isObject(profile)) {
    causes.push({ reason: 'FieldValueTypeInvalid', message: 'must be an object', field: path });
    return undefined;
  }
  const points = new Map<string, Collected>();
  const args = new Map<string, unknown>();
  const sources = new Map<string, string>();
  const bad = (field: string, message: string, reason = 'FieldValueInvalid'): void => {
    causes.push({ reason, message, field });
  };
  if (
    profile.schedulerName !== undefined &&
    (typeof profile.schedulerName !== 'string' || profile.schedulerName === '')
  ) {
    bad(`${path}.schedulerName`, 'must be a non-empty string');
  }
  const percentage = profile.percentageOfNodesToScore;
  if (
    percentage !== undefined &&
    (typeof percentage !== 'number' || !Number.isInteger(percentage) || percentage < 0 || percentage > 100)
  ) {
    bad(
      `${path}.percentageOfNodesToScore`,
      `must be an integer between 0 and 100, got ${JSON.stringify(percentage)}`,
    );
  }
  const plugins = profile.plugins;
  if (plugins !== undefined && !isObject(plugins)) {
    bad(`${path}.plugins`, 'must be an object', 'FieldValueTypeInvalid');
  } else if (plugins) {
    for (const key of Object.keys(plugins)) {
      if (!(allPoints as readonly string[]).includes(key)) {
        bad(
          `${path}.plugins.${key}`,
          `unknown extension point (known: ${allPoints.join(', ')})`,
          'FieldValueNotSupported',
        );
      }
    }
    for (const point of allPoints) {
      const set = plugins[point];
      if (set === undefined) continue;
      const setPath = `${path}.plugins.${point}`;
      if (!isObject(set)) {
        bad(setPath, 'must be an object', 'FieldValueTypeInvalid');
        continue;
      }
      const collected: Collected = { enabled: [], disabled: new Set() };
      points.set(point, collected);
      for (const [listName, list] of [
        ['enabled', set.enabled],
        ['disabled', set.disabled],
      ] as const) {
        if (list === undefined) continue;
        if (!Array.isArray(list)) {
          bad(`${setPath}.${listName}`, 'must be a list', 'FieldValueTypeInvalid');
          continue;
        }
        const seen = new Set<string>();
        list.forEach((entry: unknown, i: number) => {
          const entryPath = `${setPath}.${listName}[${i}]`;
          if (!isObject(entry) || typeof entry.name !== 'string' || entry.name === '') {
            bad(`${entryPath}.name`, 'must be a non-empty string', 'FieldValueRequired');
            return;
          }
          const name = entry.name;
          if (!(listName === 'disabled' && name === '*') && !registry.has(name)) {
            bad(`${entryPath}.name`, `unknown plugin "${name}"`, 'FieldValueNotFound');
            return;
          }
          if (seen.has(name)) {
            bad(`${entryPath}.name`, `plugin "${name}" is listed twice`, 'FieldValueDuplicate');
            return;
          }
          seen.add(name);
          if (listName === 'disabled') {
            collected.disabled.add(name);
            return;
          }
          let weight = 0;
          if (entry.weight !== undefined) {
            if (
              typeof entry.weight !== 'number' ||
              !Number.isInteger(entry.weight) ||
              entry.weight < 0 ||
              entry.weight > 100
            ) {
              bad(
                `${entryPath}.weight`,
                `must be an integer between 1 and 100, got ${JSON.stringify(entry.weight)}`,
              );
              return;
            }
            weight = entry.weight;
          }
          collected.enabled.push({ name, weight, source: entryPath });
        });
      }
    }
  }
  const pluginConfig = profile.pluginConfig;
  if (pluginConfig !== undefined && !Array.isArray(pluginConfig)) {
    bad(`${path}.pluginConfig`, 'must be a list', 'FieldValueTypeInvalid');
  } else if (pluginConfig) {
    pluginConfig.forEach((entry: unknown, i: number) => {
      const entryPath = `${path}.pluginConfig[${i}]`;
      if (!isObject(entry) || typeof entry.name !== 'string' || entry.name === '') {
        bad(`${entryPath}.name`, 'must be a non-empty string', 'FieldValueRequired');
      } else if (!registry.has(entry.name)) {
        bad(`${entryPath}.name`, `unknown plugin "${entry.name}"`, 'FieldValueNotFound');
      } else if (args.has(entry.name)) {
        bad(`${entryPath}.name`, `duplicate configuration for plugin "${entry.name}"`, 'FieldValueDuplicate');
      } else {
        args.set(entry.name, entry.args);
        sources.set(entry.name, `${entryPath}.args`);
      }
    });
  }
  return { points, args, sources, profile: profile as SchedulingProfile };
}

/** Upstream's mergePluginSet: defaults minus disabled (re-enabled defaults keep their place), then the rest. */
function mergeSet(defaults: Collected | undefined, custom: Collected | undefined): Collected {
  if (!custom) return defaults ?? { enabled: [], disabled: new Set() };
  if (!defaults) return custom;
  const enabled: ResolvedPluginReference[] = [];
  const customByName = new Map(custom.enabled.map((p, i) => [p.name, { p, i }]));
  const replaced = new Set<number>();
  if (!custom.disabled.has('*')) {
    for (const plugin of defaults.enabled) {
      if (custom.disabled.has(plugin.name)) continue;
      const override = customByName.get(plugin.name);
      if (override) {
        replaced.add(override.i);
        enabled.push(override.p);
      } else {
        enabled.push(plugin);
      }
    }
  }
  custom.enabled.forEach((p, i) => {
    if (!replaced.has(i)) enabled.push(p);
  });
  return { enabled, disabled: custom.disabled };
}

/**
 * Merges `profile` into `options.defaultProfile` and checks every plugin name against the registry.
 * Throws `Invalid` listing every problem with its field, e.g.
 * `profiles[0].plugins.filter.enabled[2].name: unknown plugin "Foo"`.
 * @category Scheduling
 */
export function resolveSchedulingProfile(
  profile: SchedulingProfile,
  options: ResolveSchedulingProfileOptions,
): ResolvedSchedulingProfile {
  const path = options.path ?? 'profiles[0]';
  const causes: StatusCause[] = [];
  const defaults = options.defaultProfile
    ? readProfile(options.defaultProfile, 'defaultProfile', options.registry, causes)
    : undefined;
  const custom = readProfile(profile, path, options.registry, causes);
  if (causes.length > 0 || !custom) throw invalidConfiguration(causes);

  const plugins = {} as Record<SchedulingExtensionPoint | 'multiPoint', ResolvedPluginSet>;
  for (const point of allPoints) {
    const merged = mergeSet(defaults?.points.get(point), custom.points.get(point));
    plugins[point] = { enabled: merged.enabled, disabled: merged.disabled };
  }
  const pluginArgs = new Map(defaults?.args ?? []);
  for (const [name, args] of custom.args) pluginArgs.set(name, args);
  const pluginArgSources = new Map(defaults?.sources ?? []);
  for (const [name, source] of custom.sources) pluginArgSources.set(name, source);
  const percentage = custom.profile.percentageOfNodesToScore ?? defaults?.profile.percentageOfNodesToScore;
  return {
    schedulerName: custom.profile.schedulerName ?? defaults?.profile.schedulerName ?? DefaultSchedulerName,
    path,
    percentageOfNodesToScore: percentage === 0 ? undefined : percentage,
    plugins,
    pluginArgs,
    pluginArgSources,
  };
}

/**
 * The `Invalid` error for a scheduler configuration: its message is the causes, `field: message`, joined
 * with `; `.
 * @category Scheduling
 */
export function invalidConfiguration(causes: StatusCause[]): StatusError {
  const message = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join('; ');
  return new StatusError('Invalid', message, { kind: 'KubeSchedulerConfiguration', causes });
}
