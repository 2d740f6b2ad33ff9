// SPDX-License-Identifier: Apache-2.0
import type { SchedulerPlugin } from '../contracts/scheduler-plugin.js';
import { errors } from '../errors/status-error.js';

/**
 * The plugins a scheduler knows by name (name → factory), kept apart from the profiles that decide which
 * of them run, as in the Kubernetes scheduling framework.
 *
 * ```ts
 * const registry = new PluginRegistry([...defaultPluginRegistrations, myPlugin]);
 * ```
 * @category Scheduling
 */
export class PluginRegistry {
  readonly #entries = new Map<string, { registration: SchedulerPlugin; position: number }>();

  /** Registers each of `registrations`, in order; throws like {@link PluginRegistry.register}. */
  constructor(registrations: Iterable<SchedulerPlugin> = []) {
    for (const registration of registrations) this.register(registration);
  }

  /**
   * Adds a registration. Throws `BadRequest` when the name is empty, the factory is missing, or the name
   * is already registered (naming both positions).
   */
  register(registration: SchedulerPlugin): this {
    const position = this.#entries.size;
    const name = registration?.name;
    if (typeof name !== 'string' || name === '') {
      throw errors.badRequest(`scheduler plugin registration #${position}: name must be a non-empty string`);
    }
    if (typeof registration.factory !== 'function') {
      throw errors.badRequest(
        `scheduler plugin "${name}" (registration #${position}): factory must be a function`,
      );
    }
    const existing = this.#entries.get(name);
    if (existing) {
      throw errors.badRequest(
        `scheduler plugin "${name}" is registered twice: registration #${existing.position} and registration #${position}`,
      );
    }
    this.#entries.set(name, { registration, position });
    return this;
  }

  /** The registration named `name`, or `undefined`. */
  get(name: string): SchedulerPlugin | undefined {
    return this.#entries.get(name)?.registration;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Registered names, in registration order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }
}
