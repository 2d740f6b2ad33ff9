// SPDX-License-Identifier: Apache-2.0
/**
 * The admission chain the registry runs on every write: the mutating phase (plugins in binding
 * order), then the kind's defaulting and validation (done by the registry), then the validating
 * phase, then the store.
 *
 * @module
 */
import {
  type AdmissionAttributes,
  type AdmissionOperation,
  type AdmissionPlugin,
  isMutatingAdmissionPlugin,
  isValidatingAdmissionPlugin,
  type MutatingAdmissionPlugin,
  type ValidatingAdmissionPlugin,
} from '../contracts/admission-plugin.js';
import type { UserInfo } from '../contracts/authenticator.js';
import { type StatusCause, StatusError } from '../errors/status-error.js';

/**
 * The identity of in-process callers that pass no user to the registry (controllers, the scheduler,
 * bootstrap code in the same process): a member of `system:masters`, like the loopback client
 * upstream's API server uses for itself.
 * @category Admission
 */
export const controlPlaneUser: Readonly<UserInfo> = Object.freeze({
  username: 'system:cpkit:control-plane',
  groups: Object.freeze(['system:masters', 'system:authenticated']) as unknown as string[],
});

const operations: readonly AdmissionOperation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

/**
 * Runs a fixed list of {@link AdmissionPlugin}s. Which plugins handle which operation is worked out
 * once, at construction, so a write that no plugin cares about costs one array lookup.
 *
 * Every rejection reaches the caller as a {@link StatusError}: a plugin's own StatusError unchanged,
 * anything else it throws as `InternalError` naming the plugin.
 * @category Admission
 */
export class AdmissionChain {
  /** The plugins in the order they were given. */
  readonly plugins: readonly AdmissionPlugin[];
  private readonly mutating = new Map<AdmissionOperation, MutatingAdmissionPlugin[]>();
  private readonly validating = new Map<AdmissionOperation, ValidatingAdmissionPlugin[]>();

  constructor(plugins: readonly AdmissionPlugin[] = []) {
    this.plugins = [...plugins];
    const names = new Set<string>();
    for (const plugin of this.plugins) {
      if (typeof plugin?.name !== 'string' || typeof plugin.handles !== 'function') {
        throw new TypeError('an admission plugin needs a name and a handles(operation) method');
      }
      if (!isMutatingAdmissionPlugin(plugin) && !isValidatingAdmissionPlugin(plugin)) {
        throw new TypeError(`admission plugin ${plugin.name} has neither admit() nor validate()`);
      }
      if (names.has(plugin.name)) throw new TypeError(`admission plugin ${plugin.name} is bound twice`);
      names.add(plugin.name);
    }
    for (const operation of operations) {
      const handling = this.plugins.filter((plugin) => plugin.handles(operation));
      this.mutating.set(operation, handling.filter(isMutatingAdmissionPlugin));
      this.validating.set(operation, handling.filter(isValidatingAdmissionPlugin));
    }
  }

  /** The mutating plugins that handle `operation`, in order. */
  mutatingFor(operation: AdmissionOperation): readonly MutatingAdmissionPlugin[] {
    return this.mutating.get(operation) ?? [];
  }

  /** The validating plugins that handle `operation`, in order. */
  validatingFor(operation: AdmissionOperation): readonly ValidatingAdmissionPlugin[] {
    return this.validating.get(operation) ?? [];
  }

  /** True when some plugin (mutating or validating) handles `operation`. */
  handles(operation: AdmissionOperation): boolean {
    return this.mutatingFor(operation).length > 0 || this.validatingFor(operation).length > 0;
  }

  /** The mutating phase: each mutating plugin in order; the first rejection stops it. */
  async admit(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.mutatingFor(attributes.operation)) {
      try {
        await plugin.admit(attributes);
      } catch (error) {
        throw rejection(plugin, error);
      }
    }
  }

  /** The validating phase: each validating plugin in order; the first rejection stops it. */
  async validate(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.validatingFor(attributes.operation)) {
      try {
        await plugin.validate(attributes);
      } catch (error) {
        throw rejection(plugin, error);
      }
    }
  }
}

function rejection(plugin: AdmissionPlugin, error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StatusError(
    'InternalError',
    `Internal error occurred: admission plugin "${plugin.name}" failed: ${message}`,
  );
}

/**
 * The `Forbidden` (403) error an admission plugin rejects with, worded as upstream's
 * `admission.NewForbidden`: `configmaps "c" is forbidden: <reason>`.
 * @category Admission
 */
export function admissionForbidden(
  attributes: Pick<AdmissionAttributes, 'resource' | 'name' | 'subresource'>,
  reason: string,
  causes?: StatusCause[],
): StatusError {
  const { group, resource } = attributes.resource;
  const qualified = group ? `${resource}.${group}` : resource;
  return new StatusError('Forbidden', `${qualified} "${attributes.name}" is forbidden: ${reason}`, {
    name: attributes.name,
    group: group || undefined,
    kind: resource,
    ...(causes ? { causes } : {}),
  });
}
