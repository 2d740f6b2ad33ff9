// SPDX-License-Identifier: Apache-2.0
import { ContainerModule, type interfaces } from 'inversify';
import { namespaceFinalizerModule } from '../bootstrap/namespace-finalizer.js';
import { systemNamespacesModule } from '../bootstrap/system-namespaces.js';
import type { ControlPlane } from '../builder/control-plane.js';
import { ControlPlaneBuilder } from '../builder/control-plane-builder.js';
import { inProcessApiClientModule } from '../client/in-process-api-client-module.js';
import { ApiClient } from '../contracts/api-client.js';
import { Store } from '../contracts/store.js';
import { createLogger, Logger } from '../observability/logger.js';
import { type RegistryModuleOptions, registryModule } from '../registry/registry-module.js';

/** Options of {@link startTestControlPlane}. @category Testing */
export interface TestControlPlaneOptions {
  /**
   * The Store to run on, usually a fresh in-memory one: `await openEmbeddedStore()` from
   * `@cpkit/store-embedded`. The handle closes it on {@link TestControlPlane.stop}.
   */
  store: Store;
  /** The modules under test (controllers, scheduler plugins, ...), loaded after the API machinery. */
  modules?: interfaces.ContainerModule[];
  /** Options of the registry: your own kinds (`kinds`), `builtinKinds: false`, ... */
  registry?: RegistryModuleOptions;
  /** Log level of the control plane. Default: `silent` (`CPKIT_TEST_LOG_LEVEL` overrides it). */
  logLevel?: string;
  /** Milliseconds {@link TestControlPlane.stop} waits for runnables. Default 5000. */
  gracePeriodMs?: number;
}

/** A started in-process control plane. @category Testing */
export interface TestControlPlane {
  /** The in-process ApiClient: the same one the modules under test get injected. */
  readonly client: ApiClient;
  /** The control plane itself, for `get(ServiceIdentifier)`. */
  readonly controlPlane: ControlPlane;
  /** Stops every runnable in reverse order and closes the store. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a complete in-process control plane for a plugin's integration test: the given store, the
 * scheme with the built-in kinds, the registry, the in-process ApiClient, the system namespaces, the
 * namespace finalizer, and `modules`. Resolves once every runnable has started; wiring mistakes reject
 * with the builder's precise message.
 *
 * ```ts
 * const cp = await startTestControlPlane({ store: await openEmbeddedStore(), modules: [myControllerModule()] });
 * afterEach(() => cp.stop());
 * await cp.client.create(podFixture({ name: 'web' }));
 * ```
 * @category Testing
 */
export async function startTestControlPlane(options: TestControlPlaneOptions): Promise<TestControlPlane> {
  const logger = createLogger({
    level: process.env.CPKIT_TEST_LOG_LEVEL ?? options.logLevel ?? 'silent',
    name: 'test-control-plane',
  });
  const { store } = options;
  const controlPlane = await new ControlPlaneBuilder({ gracePeriodMs: options.gracePeriodMs ?? 5000 })
    .withModules(
      new ContainerModule((bind) => {
        bind(Logger).toConstantValue(logger);
        bind(Store).toConstantValue(store);
      }),
      registryModule(options.registry),
      inProcessApiClientModule(),
      systemNamespacesModule(),
      namespaceFinalizerModule(),
      ...(options.modules ?? []),
    )
    .build();
  try {
    await controlPlane.start();
  } catch (error) {
    await store.close();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    client: controlPlane.get<ApiClient>(ApiClient),
    controlPlane,
    stop(): Promise<void> {
      stopped ??= (async () => {
        try {
          await controlPlane.stop();
        } finally {
          await store.close();
        }
      })();
      return stopped;
    },
  };
}
