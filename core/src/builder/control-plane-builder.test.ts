// SPDX-License-Identifier: Apache-2.0
import 'reflect-metadata';
import { ContainerModule, inject, injectable, named, optional } from 'inversify';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../contracts/api-client.js';
import { Controller } from '../contracts/controller.js';
import { Runnable } from '../contracts/runnable.js';
import { SchedulerPlugin } from '../contracts/scheduler-plugin.js';
import { Store } from '../contracts/store.js';
import { isStatusError } from '../errors/status-error.js';
import { createLogger, Logger } from '../observability/logger.js';
import { MetricsRegistry } from '../observability/metrics-registry.js';
import { bindContributionProvider, ContributionProvider } from './contribution-provider.js';
import { ControlPlaneBuilder, createControlPlane } from './control-plane-builder.js';
import { AlwaysLeaderGate, LeaderElectionGate } from './leader-election-gate.js';

const quiet = new ContainerModule((bind) => {
  bind(Logger).toConstantValue(createLogger({ level: 'silent' }));
});

@injectable()
class InProcessApiClient {
  constructor(@inject(Store) readonly store: unknown) {}
}

@injectable()
class KubeScheduler implements Runnable {
  readonly name = 'scheduler';
  constructor(@inject(ApiClient) readonly client: unknown) {}
  async start(): Promise<void> {}
}

@injectable()
class Metrics {
  constructor(@inject(Symbol.for('cpkit.Clock')) @optional() readonly clock: unknown) {}
}

@injectable()
class NeedsMetrics implements Runnable {
  readonly name = 'needs-metrics';
  constructor(@inject(Metrics) readonly metrics: Metrics) {}
  async start(): Promise<void> {}
}

function runnable(name: string, extra: Partial<Runnable> = {}): Runnable {
  return { name, start: async () => {}, ...extra };
}

async function buildError(...modules: ContainerModule[]): Promise<Error> {
  try {
    await new ControlPlaneBuilder().withModules(quiet, ...modules).build();
  } catch (error) {
    expect(isStatusError(error)).toBe(true);
    return error as Error;
  }
  throw new Error('build() succeeded, but a wiring error was expected');
}

describe('ControlPlaneBuilder wiring validation', () => {
  it.each([
    [
      'a runnable bound with to(), through a role bound with to()',
      new ContainerModule((bind) => {
        bind(ApiClient).to(InProcessApiClient);
        bind(Runnable).to(KubeScheduler);
      }),
      'cpkit wiring error: InProcessApiClient needs cpkit.Store, but no module binds it (cpkit.Runnable → KubeScheduler → InProcessApiClient)',
    ],
    [
      'a runnable bound with toService()',
      new ContainerModule((bind) => {
        bind(ApiClient).to(InProcessApiClient);
        bind(KubeScheduler).toSelf();
        bind(Runnable).toService(KubeScheduler);
      }),
      'cpkit wiring error: InProcessApiClient needs cpkit.Store, but no module binds it (bound as cpkit.ApiClient)',
    ],
    [
      'a role only (nothing contributes a runnable)',
      new ContainerModule((bind) => {
        bind(ApiClient).to(InProcessApiClient);
      }),
      'cpkit wiring error: InProcessApiClient needs cpkit.Store, but no module binds it (bound as cpkit.ApiClient)',
    ],
    [
      'a class dependency that is not bound',
      new ContainerModule((bind) => {
        bind(Runnable).to(NeedsMetrics);
      }),
      'cpkit wiring error: NeedsMetrics needs Metrics, but no module binds it (bound as cpkit.Runnable)',
    ],
    [
      'a dynamic value that gets a missing service',
      new ContainerModule((bind) => {
        bind(Runnable).toDynamicValue((context) =>
          context.container.get<Runnable>(Symbol.for('cpkit.Missing')),
        );
      }),
      'cpkit wiring error: a cpkit.Runnable binding needs cpkit.Missing, but no module binds it',
    ],
  ])('names the missing binding and who needs it: %s', async (_label, module, message) => {
    const error = await buildError(module);
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.message).toBe(message);
  });

  it('accepts an @optional dependency that is not bound', async () => {
    const controlPlane = await new ControlPlaneBuilder()
      .withModules(
        quiet,
        new ContainerModule((bind) => {
          bind(Metrics).toSelf();
          bind(Runnable).to(NeedsMetrics);
        }),
      )
      .build();
    expect(controlPlane.runnables.map((r) => r.name)).toEqual(['needs-metrics']);
  });

  it.each([
    [
      'runnables',
      new ContainerModule((bind) => {
        bind(Runnable).toConstantValue(runnable('informers'));
        bind(Runnable).to(KubeScheduler);
        bind(ApiClient).toConstantValue({});
        bind(Runnable).toConstantValue(runnable('scheduler'));
      }),
      'cpkit wiring error: two runnables are named "scheduler": KubeScheduler (#2) and an object (#3); names must be unique',
    ],
    [
      'scheduler plugins',
      new ContainerModule((bind) => {
        bind(SchedulerPlugin).toConstantValue({ name: 'NodeResourcesFit', factory: () => ({ name: 'x' }) });
        bind(SchedulerPlugin).toConstantValue({ name: 'NodeResourcesFit', factory: () => ({ name: 'y' }) });
      }),
      'cpkit wiring error: two scheduler plugins are named "NodeResourcesFit": an object (#1) and an object (#2); names must be unique',
    ],
    [
      'controllers',
      new ContainerModule((bind) => {
        bind(Controller).toConstantValue({ name: 'replicaset' });
        bind(Controller).toConstantValue({ name: 'replicaset' });
      }),
      'cpkit wiring error: two controllers are named "replicaset": an object (#1) and an object (#2); names must be unique',
    ],
    [
      'a runnable and a controller-runnable',
      new ContainerModule((bind) => {
        bind(Runnable).toConstantValue(runnable('replicaset'));
        bind(Controller).toConstantValue(runnable('replicaset'));
      }),
      'cpkit wiring error: two runnables are named "replicaset": an object (#1) and an object (#2); names must be unique',
    ],
  ])('fails on duplicate names among %s, naming both', async (_label, module, message) => {
    expect((await buildError(module)).message).toBe(message);
  });

  it('fails when a single role is bound twice', async () => {
    class SqliteStore {}
    class EtcdStore {}
    const error = await buildError(
      new ContainerModule((bind) => {
        bind(Store).toConstantValue(new SqliteStore());
        bind(Store).toConstantValue(new EtcdStore());
      }),
    );
    expect(error.message).toBe(
      'cpkit wiring error: cpkit.Store is bound 2 times (SqliteStore (#1) and EtcdStore (#2)); a control plane has one, bind it in one module only',
    );
  });

  it('fails when a runnable has no name', async () => {
    const error = await buildError(
      new ContainerModule((bind) => {
        bind(Runnable).toConstantValue({ start: async () => {} });
      }),
    );
    expect(error.message).toBe('cpkit wiring error: an object (#1) bound to cpkit.Runnable has no name');
  });

  it.each([
    [
      'an unknown dependency',
      [runnable('store'), runnable('controllers', { dependsOn: ['api-server'] })],
      'cpkit wiring error: runnable "controllers" depends on "api-server", but no runnable has that name (runnables: store, controllers)',
    ],
    [
      'a cycle',
      [
        runnable('a', { dependsOn: ['c'] }),
        runnable('b', { dependsOn: ['a'] }),
        runnable('c', { dependsOn: ['b'] }),
      ],
      'cpkit wiring error: runnables depend on each other in a cycle: "a" → "c" → "b" → "a"',
    ],
    [
      'a self-dependency',
      [runnable('a', { dependsOn: ['a'] })],
      'cpkit wiring error: runnables depend on each other in a cycle: "a" → "a"',
    ],
  ])('fails on %s', async (_label, runnables, message) => {
    const error = await buildError(
      new ContainerModule((bind) => {
        for (const r of runnables) bind(Runnable).toConstantValue(r);
      }),
    );
    expect(error.message).toBe(message);
  });

  it('names a service bound twice but injected as one', async () => {
    const Cache = Symbol.for('test.Cache');
    @injectable()
    class UsesCache implements Runnable {
      readonly name = 'uses-cache';
      constructor(@inject(Cache) readonly cache: unknown) {}
      async start(): Promise<void> {}
    }
    class PodCache {}
    class NodeCache {}
    const error = await buildError(
      new ContainerModule((bind) => {
        bind(Cache).to(PodCache);
        bind(Cache).to(NodeCache);
        bind(Runnable).to(UsesCache);
      }),
    );
    expect(error.message).toBe(
      'cpkit wiring error: test.Cache is bound more than once (PodCache, NodeCache), but it is injected as a single service; bind it in one module only',
    );
  });

  it('names a circular dependency', async () => {
    const A = Symbol.for('test.A');
    const B = Symbol.for('test.B');
    @injectable()
    class First {
      constructor(@inject(B) readonly b: unknown) {}
    }
    @injectable()
    class Second {
      constructor(@inject(A) readonly a: unknown) {}
    }
    @injectable()
    class Top implements Runnable {
      readonly name = 'top';
      constructor(@inject(A) readonly a: unknown) {}
      async start(): Promise<void> {}
    }
    const error = await buildError(
      new ContainerModule((bind) => {
        bind(A).to(First);
        bind(B).to(Second);
        bind(Runnable).to(Top);
      }),
    );
    expect(error.message).toMatch(/^cpkit wiring error: circular dependency: .*test\.A → test\.B → test\.A/);
  });

  it('reports a constructor that throws, naming the contribution point', async () => {
    @injectable()
    class Exploding implements Runnable {
      readonly name = 'exploding';
      constructor() {
        throw new Error('no config');
      }
      async start(): Promise<void> {}
    }
    const error = await buildError(new ContainerModule((bind) => bind(Runnable).to(Exploding)));
    expect(error.message).toBe('cpkit wiring error: creating cpkit.Runnable failed: no config');
  });

  it('orders runnables by dependency and keeps binding order otherwise', async () => {
    const controlPlane = await createControlPlane({
      modules: [
        quiet,
        new ContainerModule((bind) => {
          bind(Runnable).toConstantValue(
            runnable('controllers', { dependsOn: ['informers', 'leader-election'] }),
          );
          bind(Runnable).toConstantValue(runnable('informers', { dependsOn: ['api'] }));
          bind(Runnable).toConstantValue(runnable('store'));
          bind(Runnable).toConstantValue(runnable('api', { dependsOn: ['store'] }));
          bind(Runnable).toConstantValue(runnable('leader-election'));
        }),
      ],
    });
    expect(controlPlane.runnables.map((r) => r.name)).toEqual([
      'store',
      'api',
      'informers',
      'leader-election',
      'controllers',
    ]);
  });

  it('starts controllers that are runnables once, even when bound under both points', async () => {
    const replicaset = runnable('replicaset');
    const controlPlane = await createControlPlane({
      modules: [
        quiet,
        new ContainerModule((bind) => {
          bind(Controller).toConstantValue(replicaset);
          bind(Runnable).toConstantValue(replicaset);
          bind(Controller).toConstantValue(runnable('deployment'));
          bind(Controller).toConstantValue({ name: 'not-runnable' });
        }),
      ],
    });
    expect(controlPlane.runnables.map((r) => r.name)).toEqual(['replicaset', 'deployment']);
  });

  it('binds a logger, a metrics registry and the always-leader gate when no module does', async () => {
    const controlPlane = await new ControlPlaneBuilder().build();
    expect(typeof controlPlane.get<Logger>(Logger).child).toBe('function');
    expect(typeof controlPlane.get<MetricsRegistry>(MetricsRegistry).metrics).toBe('function');
    expect(controlPlane.get(LeaderElectionGate)).toBeInstanceOf(AlwaysLeaderGate);
    expect(controlPlane.runnables).toEqual([]);
  });

  it('keeps the logger and registry a module binds', async () => {
    const logger = createLogger({ level: 'silent' });
    const controlPlane = await new ControlPlaneBuilder()
      .withModules(new ContainerModule((bind) => bind(Logger).toConstantValue(logger)))
      .build();
    expect(controlPlane.get(Logger)).toBe(logger);
  });

  it('gives every component a contribution provider that returns [] when nothing is bound', async () => {
    const Widget = Symbol.for('test.Widget');
    @injectable()
    class Consumer {
      constructor(
        @inject(ContributionProvider)
        @named(SchedulerPlugin)
        readonly plugins: ContributionProvider<SchedulerPlugin>,
        @inject(ContributionProvider) @named(Runnable) readonly runnables: ContributionProvider<Runnable>,
        @inject(ContributionProvider) @named(Widget) readonly widgets: ContributionProvider<{ id: number }>,
      ) {}
    }
    const controlPlane = await new ControlPlaneBuilder()
      .withModules(
        quiet,
        new ContainerModule((bind) => {
          bind(Consumer).toSelf();
          bindContributionProvider(bind, Widget);
          bind(Widget).toConstantValue({ id: 1 });
          bind(Widget).toConstantValue({ id: 2 });
          bind(Runnable).toConstantValue(runnable('only'));
        }),
      )
      .build();
    const consumer = controlPlane.get(Consumer);
    expect(consumer.plugins.getContributions()).toEqual([]);
    expect(consumer.runnables.getContributions().map((r) => r.name)).toEqual(['only']);
    expect(consumer.widgets.getContributions()).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('resolves extra identifiers listed in validate', async () => {
    const Cache = Symbol.for('test.Cache');
    @injectable()
    class NodeCache {
      constructor(@inject(Symbol.for('test.Clock')) readonly clock: unknown) {}
    }
    await expect(
      new ControlPlaneBuilder({ validate: [Cache] })
        .withModules(quiet, new ContainerModule((bind) => bind(Cache).to(NodeCache)))
        .build(),
    ).rejects.toThrow(
      'cpkit wiring error: NodeCache needs test.Clock, but no module binds it (bound as test.Cache)',
    );
  });

  it('rejects a negative grace period, naming the option', async () => {
    await expect(new ControlPlaneBuilder({ gracePeriodMs: -1 }).build()).rejects.toThrow(
      /invalid gracePeriodMs -1/,
    );
  });
});
