// SPDX-License-Identifier: Apache-2.0
import { ContainerModule } from 'inversify';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import { DefaultScheme, type KindDefinition, Scheme } from '../api/scheme.js';
import { Clock } from '../clock/clock.js';
import { AdmissionPlugin } from '../contracts/admission-plugin.js';
import { Store } from '../contracts/store.js';
import {
  type ServiceAllocationOptions,
  ServiceAllocator,
  StoreServiceAllocator,
} from '../services/service-allocator.js';
import { Registry, RegistryHook, RegistryOptions, StoreRegistry } from './registry.js';

/** Options of {@link registryModule}. @category Registry */
export interface RegistryModuleOptions extends RegistryOptions {
  /** Register the built-in kinds (Pod, Deployment, ...). Default: true. */
  builtinKinds?: boolean;
  /** Further kinds to register, after the built-in ones (your own resource kinds). */
  kinds?: KindDefinition[];
  /**
   * Service ClusterIP and NodePort allocation (a {@link StoreServiceAllocator}, bound as
   * `ServiceAllocator` and used as a registry hook), with these ranges; `false` leaves Services as
   * written. Default: enabled with upstream's ranges (`10.96.0.0/12`, `30000-32767`).
   */
  serviceAllocation?: ServiceAllocationOptions | false;
}

/**
 * Binds the API machinery on top of whatever {@link Store} another module binds:
 * - `Scheme` → one {@link DefaultScheme} holding the built-in kinds plus `options.kinds`;
 * - `Registry` → one {@link StoreRegistry} on the bound Store, Scheme and (when bound) Clock and
 *   `RegistryOptions` (the options passed here take precedence). Its admission chain is the built-in
 *   NamespaceLifecycle followed by every plugin multi-bound under `AdmissionPlugin`, in binding
 *   order; its hooks are every {@link RegistryHook} bound (none is required);
 * - `ServiceAllocator` → a {@link StoreServiceAllocator} (also a `RegistryHook`) unless
 *   `serviceAllocation: false`.
 *
 * Pair it with `inProcessApiClientModule()` to give components an in-process ApiClient.
 * @category Registry
 */
export function registryModule(options: RegistryModuleOptions = {}): ContainerModule {
  const { builtinKinds = true, kinds = [], serviceAllocation = {}, ...registryOptions } = options;
  return new ContainerModule((bind) => {
    if (serviceAllocation !== false) {
      bind<StoreServiceAllocator>(ServiceAllocator)
        .toDynamicValue(
          (context) =>
            new StoreServiceAllocator(
              context.container.get<Store>(Store),
              serviceAllocation,
              context.container.isBound(Clock) ? context.container.get<Clock>(Clock) : undefined,
            ),
        )
        .inSingletonScope();
      bind(RegistryHook).toService(ServiceAllocator);
    }
    bind<Scheme>(Scheme)
      .toDynamicValue(() => {
        const scheme = new DefaultScheme();
        if (builtinKinds) registerBuiltinKinds(scheme);
        for (const kind of kinds) scheme.register(kind);
        return scheme;
      })
      .inSingletonScope();
    bind<Registry>(Registry)
      .toDynamicValue((context) => {
        const { container } = context;
        // Options given to the module win over a RegistryOptions binding of another module.
        const options: RegistryOptions = container.isBound(RegistryOptions)
          ? { ...container.get<RegistryOptions>(RegistryOptions), ...registryOptions }
          : { ...registryOptions };
        if (container.isBound(AdmissionPlugin)) {
          options.admissionPlugins = [
            ...(options.admissionPlugins ?? []),
            ...container.getAll<AdmissionPlugin>(AdmissionPlugin),
          ];
        }
        if (container.isBound(RegistryHook)) {
          options.hooks = [...(options.hooks ?? []), ...container.getAll<RegistryHook>(RegistryHook)];
        }
        return new StoreRegistry(
          container.get<Store>(Store),
          container.get<Scheme>(Scheme),
          container.isBound(Clock) ? container.get<Clock>(Clock) : undefined,
          options,
        );
      })
      .inSingletonScope();
  });
}
