// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  errors,
  type SchedulingProfile,
  type StatusCause,
  StatusError,
  schedulingExtensionPoints,
} from '@cpkit/core';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';

/** The `apiVersion` of a scheduler configuration file. @category Scheduler */
export const SchedulerConfigurationApiVersion = 'kubescheduler.config.k8s.io/v1';

/**
 * The scheduler's configuration, shaped like upstream's KubeSchedulerConfiguration (the fields cpkit
 * implements). Every field is optional.
 * @category Scheduler
 */
export interface SchedulerConfiguration {
  apiVersion?: typeof SchedulerConfigurationApiVersion;
  kind?: 'KubeSchedulerConfiguration';
  /**
   * The scheduling profiles, one per scheduler name. Absent or empty: one profile, `default-scheduler`,
   * with the default plugins. Each profile is merged with the default profile as upstream merges it.
   */
  profiles?: SchedulingProfile[];
  /**
   * Share of the nodes (0–100) to find feasible before the search stops, for profiles that set none.
   * 0 or absent: upstream's adaptive default (`50 − nodes/125`, at least 5 %, at least 100 nodes).
   */
  percentageOfNodesToScore?: number;
  /** Backoff after a pod's first failed attempt, in seconds. Default 1. */
  podInitialBackoffSeconds?: number;
  /** Longest backoff, in seconds. Default 10. */
  podMaxBackoffSeconds?: number;
  /** How many nodes are filtered and scored concurrently. Default 16. */
  parallelism?: number;
}

const pluginSetSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1 },
          weight: { type: 'integer', minimum: 0 },
        },
      },
    },
    disabled: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: { type: 'string', minLength: 1 } },
      },
    },
  },
} as const;

// A profile's plugin sets: one per extension point, plus multiPoint.
const extensionPointNames: readonly string[] = ['multiPoint', ...schedulingExtensionPoints];

/**
 * The JSON schema of a {@link SchedulerConfiguration} (draft 7, for ajv). Unknown fields are errors, as
 * upstream's strict decoding makes them.
 * @category Scheduler
 */
export const schedulerConfigurationSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    apiVersion: { const: SchedulerConfigurationApiVersion },
    kind: { const: 'KubeSchedulerConfiguration' },
    percentageOfNodesToScore: { type: 'integer', minimum: 0, maximum: 100 },
    podInitialBackoffSeconds: { type: 'integer', minimum: 1 },
    podMaxBackoffSeconds: { type: 'integer', minimum: 1 },
    parallelism: { type: 'integer', minimum: 1 },
    profiles: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          schedulerName: { type: 'string', minLength: 1 },
          percentageOfNodesToScore: { type: 'integer', minimum: 0, maximum: 100 },
          plugins: {
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(extensionPointNames.map((point) => [point, pluginSetSchema])),
          },
          pluginConfig: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name'],
              properties: { name: { type: 'string', minLength: 1 }, args: { type: 'object' } },
            },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateShape = ajv.compile(schedulerConfigurationSchema);

/** `/profiles/0/plugins` → `profiles[0].plugins`. */
function fieldPath(instancePath: string): string {
  let path = '';
  for (const segment of instancePath.split('/').slice(1)) {
    const name = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(name) ? `[${name}]` : path === '' ? name : `.${name}`;
  }
  return path;
}

function causeOf(error: ErrorObject, value: unknown): StatusCause {
  const field = fieldPath(error.instancePath);
  const join = (child: string): string => (field === '' ? child : `${field}.${child}`);
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String((error.params as { additionalProperty: string }).additionalProperty);
      return { reason: 'FieldValueNotSupported', field: join(name), message: `unknown field "${name}"` };
    }
    case 'required': {
      const name = String((error.params as { missingProperty: string }).missingProperty);
      return { reason: 'FieldValueRequired', field: join(name), message: 'Required value' };
    }
    case 'type':
      return {
        reason: 'FieldValueTypeInvalid',
        field,
        message: `Invalid value: ${JSON.stringify(value)}: ${error.message}`,
      };
    default:
      return {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${JSON.stringify(value)}: ${error.message}`,
      };
  }
}

function valueAt(root: unknown, instancePath: string): unknown {
  let value = root;
  for (const segment of instancePath.split('/').slice(1)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

function invalid(causes: StatusCause[], source: string): StatusError {
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
  return new StatusError('Invalid', `invalid scheduler configuration ${source}: ${summary}`, {
    kind: 'KubeSchedulerConfiguration',
    group: 'kubescheduler.config.k8s.io',
    name: source,
    causes,
  });
}

/**
 * Checks a configuration object (parsed JSON or YAML) and returns it typed. Rejects with a
 * `StatusError` `Invalid` listing one cause per problem, each naming the exact field
 * (`profiles[0].plugins.score.enabled[1].weight`) and why. Plugin names are checked later, against the
 * plugin registry, when the scheduler builds its profiles.
 * @category Scheduler
 */
export function validateSchedulerConfiguration(value: unknown, source = 'object'): SchedulerConfiguration {
  const causes: StatusCause[] = [];
  if (!validateShape(value)) {
    // A `const`/`enum` error repeats for nested alternatives: one cause per field and keyword is enough.
    const seen = new Set<string>();
    for (const error of validateShape.errors ?? []) {
      const cause = causeOf(error, valueAt(value, error.instancePath));
      const id = `${cause.field}|${cause.reason}`;
      if (seen.has(id)) continue;
      seen.add(id);
      causes.push(cause);
    }
    throw invalid(causes, source);
  }
  const config = value as SchedulerConfiguration;
  if (
    config.podInitialBackoffSeconds !== undefined &&
    config.podMaxBackoffSeconds !== undefined &&
    config.podMaxBackoffSeconds < config.podInitialBackoffSeconds
  ) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'podMaxBackoffSeconds',
      message: `Invalid value: ${config.podMaxBackoffSeconds}: must be greater than or equal to podInitialBackoffSeconds`,
    });
  }
  const names = new Map<string, number>();
  for (const [index, profile] of (config.profiles ?? []).entries()) {
    const name = profile.schedulerName ?? 'default-scheduler';
    if (names.has(name)) {
      causes.push({
        reason: 'FieldValueDuplicate',
        field: `profiles[${index}].schedulerName`,
        message: `Duplicate value: "${name}"`,
      });
    }
    names.set(name, index);
  }
  if (causes.length > 0) throw invalid(causes, source);
  return config;
}

/**
 * Parses and checks a configuration file's text (YAML, hence JSON too). YAML syntax errors are
 * `Invalid` with the line and column.
 * @category Scheduler
 */
export function parseSchedulerConfiguration(text: string, source = 'file'): SchedulerConfiguration {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const causes = document.errors.map(
      (error): StatusCause => ({
        reason: 'FieldValueInvalid',
        message: `YAML: ${error.message.split('\n')[0]}`,
      }),
    );
    throw invalid(causes, source);
  }
  return validateSchedulerConfiguration(document.toJS() ?? {}, source);
}

/**
 * Reads, parses and checks a configuration file. A missing or unreadable file is `BadRequest` naming
 * the path.
 * @category Scheduler
 */
export async function loadSchedulerConfiguration(path: string): Promise<SchedulerConfiguration> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw errors.badRequest(
      `cannot read the scheduler configuration file ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseSchedulerConfiguration(text, path);
}

/**
 * {@link loadSchedulerConfiguration}, synchronously: for module factories, so a bad file fails the
 * wiring of the control plane before anything starts.
 * @category Scheduler
 */
export function loadSchedulerConfigurationSync(path: string): SchedulerConfiguration {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw errors.badRequest(
      `cannot read the scheduler configuration file ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseSchedulerConfiguration(text, path);
}
