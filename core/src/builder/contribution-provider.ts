// SPDX-License-Identifier: Apache-2.0
import type { interfaces } from 'inversify';

/**
 * Service identifier of {@link ContributionProvider}s. Inject one named after the contribution point:
 *
 * ```ts
 * constructor(
 *   @inject(ContributionProvider) @named(SchedulerPlugin)
 *   private readonly plugins: ContributionProvider<SchedulerPlugin>,
 * ) {}
 * ```
 *
 * The control-plane builder binds a provider for every cpkit contribution point (Runnable, Controller,
 * SchedulerPlugin, AdmissionPlugin, Authenticator, Authorizer, NodeAgent, ServiceProxy); call
 * {@link bindContributionProvider} in your module for contribution points of your own.
 * @category Builder
 */
export const ContributionProvider = Symbol.for('cpkit.ContributionProvider');

/**
 * Collects everything bound to one contribution point. Unlike a raw `@multiInject`, it returns `[]` when
 * nothing is bound instead of failing.
 * @category Builder
 */
export interface ContributionProvider<T> {
  /** Every contribution, in binding order (module load order, then bind order within a module). */
  getContributions(): T[];
}

/** Collects contributions from a container; caches them after the first call. @category Builder */
export class ContainerContributionProvider<T> implements ContributionProvider<T> {
  private cached: T[] | undefined;

  constructor(
    private readonly container: interfaces.Container,
    private readonly serviceIdentifier: interfaces.ServiceIdentifier<T>,
  ) {}

  getContributions(): T[] {
    if (this.cached === undefined) {
      this.cached = this.container.isBound(this.serviceIdentifier)
        ? this.container.getAll<T>(this.serviceIdentifier)
        : [];
    }
    return this.cached;
  }
}

/** The name under which the provider for `serviceIdentifier` is bound (`@named(...)` takes it). @category Builder */
export function contributionProviderName(serviceIdentifier: interfaces.ServiceIdentifier): string | symbol {
  if (typeof serviceIdentifier === 'symbol' || typeof serviceIdentifier === 'string')
    return serviceIdentifier;
  return (serviceIdentifier as { name?: string }).name ?? String(serviceIdentifier);
}

/**
 * Binds a {@link ContributionProvider} for `serviceIdentifier`, named after it. Call it once per
 * contribution point, in the module that defines the point.
 * @category Builder
 */
export function bindContributionProvider(
  bind: interfaces.Bind,
  serviceIdentifier: interfaces.ServiceIdentifier,
): void {
  bind(ContributionProvider)
    .toDynamicValue((context) => new ContainerContributionProvider(context.container, serviceIdentifier))
    .inSingletonScope()
    .whenTargetNamed(contributionProviderName(serviceIdentifier));
}
