// SPDX-License-Identifier: Apache-2.0
import { ContainerModule } from 'inversify';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import { DefaultScheme, type KindDefinition, Scheme } from '../api/scheme.js';
import { Clock } from '../clock/clock.js';
import { Store } from '../contracts/store.js';
import { Registry, RegistryOptions, StoreRegistry } from './registry.js';

/** Options of {@link registryModule}. @category Registry */
export interface RegistryModuleOptions extends RegistryOptions {
  /** Register the built-in kinds (Pod, Deployment, ...). Default: true. */
  builtinKinds?: boolean;
  /** Further kinds to register, after the built-in ones (your own resource kinds). */
  kinds?: KindDefinition[];
}

/**
 * Binds the API machinery on top of whatever {@link Store} another module binds:
 * - `Scheme` → one {@link DefaultScheme} holding the built-in kinds plus `options.kinds`;
 * - `Registry` → one {@link StoreRegistry} on the bound Store, Scheme and (when bound) Clock and
 *   `RegistryOptions` (the options passed here take precedence).
 *
 * Pair it with `inProcessApiClientModule()` to give components an in-process ApiClient.
 * @category Registry
 */
export function registryModule(options: RegistryModuleOptions = {}): ContainerModule {
  const { builtinKinds = true, kinds = [], ...registryOptions } = options;
  return new ContainerModule((bind) => {
    bind<Scheme>(Scheme)
      .toDynamicValue(() => {
        const scheme = new DefaultScheme();
        if (builtinKinds) registerBuiltinKinds(scheme);
        for (const kind of kinds) scheme.register(kind);
        return scheme;
      })
      .inSingletonScope();
    bind<Registry>(Registry)
      .toDynamicValue(
        (context) =>
          new StoreRegistry(
            context.container.get<Store>(Store),
            context.container.get<Scheme>(Scheme),
            context.container.isBound(Clock) ? context.container.get<Clock>(Clock) : undefined,
            // Options given to the module win over a RegistryOptions binding of another module.
            context.container.isBound(RegistryOptions)
              ? { ...context.container.get<RegistryOptions>(RegistryOptions), ...registryOptions }
              : registryOptions,
          ),
      )
      .inSingletonScope();
  });
}
