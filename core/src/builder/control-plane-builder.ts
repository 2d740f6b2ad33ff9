// SPDX-License-Identifier: Apache-2.0
import { AsyncContainerModule, Container, type ContainerModule, type interfaces } from 'inversify';
import { AdmissionPlugin } from '../contracts/admission-plugin.js';
import { ApiClient } from '../contracts/api-client.js';
import { ApiServer } from '../contracts/api-server.js';
import { Authenticator } from '../contracts/authenticator.js';
import { Authorizer } from '../contracts/authorizer.js';
import { ContainerRuntime } from '../contracts/container-runtime.js';
import { Controller } from '../contracts/controller.js';
import { NodeAgent } from '../contracts/node-agent.js';
import { Runnable } from '../contracts/runnable.js';
import { SchedulerPlugin } from '../contracts/scheduler-plugin.js';
import { ServiceProxy } from '../contracts/service-proxy.js';
import { Store } from '../contracts/store.js';
import { errors } from '../errors/status-error.js';
import { createLogger, Logger } from '../observability/logger.js';
import { createMetricsRegistry, MetricsRegistry } from '../observability/metrics-registry.js';
import {
  ContainerContributionProvider,
  ContributionProvider,
  contributionProviderName,
} from './contribution-provider.js';
import { ControlPlane, DefaultGracePeriodMs } from './control-plane.js';
import { AlwaysLeaderGate, LeaderElectionGate } from './leader-election-gate.js';
import {
  checkStaticWiring,
  describeServiceIdentifier,
  explainResolutionError,
  wiringError,
} from './wiring-error.js';

/** Options of {@link ControlPlaneBuilder} and {@link createControlPlane}. @category Builder */
export interface ControlPlaneOptions {
  /** How long {@link ControlPlane.stop} waits for runnables to stop, in milliseconds. Default 30000. */
  gracePeriodMs?: number;
  /**
   * Extra service identifiers to resolve at build time, so that their wiring mistakes also fail the
   * build. The cpkit roles and contribution points are always resolved when bound.
   */
  validate?: interfaces.ServiceIdentifier[];
}

/** Options of {@link createControlPlane}. @category Builder */
export interface CreateControlPlaneOptions extends ControlPlaneOptions {
  /** The modules to compose, in order. */
  modules: (ContainerModule | AsyncContainerModule)[];
}

/**
 * Contribution points: any number of bindings; every contribution has a `name` that must be unique within
 * its point. `what` is how messages call one contribution.
 */
const contributionPoints: { id: symbol; what: string }[] = [
  { id: Runnable, what: 'runnables' },
  { id: Controller, what: 'controllers' },
  { id: SchedulerPlugin, what: 'scheduler plugins' },
  { id: AdmissionPlugin, what: 'admission plugins' },
  { id: Authenticator, what: 'authenticators' },
  { id: Authorizer, what: 'authorizers' },
  { id: NodeAgent, what: 'node agents' },
  { id: ServiceProxy, what: 'service proxies' },
];

/** Roles a control plane has at most one of; a second binding would make every injection ambiguous. */
const singleRoles: symbol[] = [Store, ApiClient, ApiServer, LeaderElectionGate, Logger, MetricsRegistry];

/** Roles resolved at build when bound, so missing dependencies surface before anything starts. */
const resolvedRoles: symbol[] = [...singleRoles, ContainerRuntime];

function contributionLabel(contribution: unknown, index: number): string {
  const constructorName =
    typeof contribution === 'object' && contribution !== null ? contribution.constructor?.name : undefined;
  const what = constructorName && constructorName !== 'Object' ? constructorName : 'an object';
  return `${what} (#${index + 1})`;
}

function hasStart(value: unknown): value is Runnable {
  return typeof value === 'object' && value !== null && typeof (value as Runnable).start === 'function';
}

/**
 * Composes inversify `ContainerModule`s into a control plane and validates the wiring before anything
 * starts:
 *
 * ```ts
 * const controlPlane = await new ControlPlaneBuilder()
 *   .withModules(embeddedStoreModule({ dataDir: '.cpkit' }), registryModule(), apiClientModule())
 *   .build();
 * await controlPlane.runUntilSignal();
 * ```
 *
 * `build()` loads the modules into one container (singleton scope by default), binds the defaults a
 * module did not bind (a {@link Logger}, a {@link MetricsRegistry}, the {@link AlwaysLeaderGate}, a
 * {@link ContributionProvider} per cpkit contribution point), then resolves every bound role and every
 * contribution (runnables, controllers, scheduler/admission plugins, authenticators, authorizers) and
 * checks them. Any mistake fails the build with one `cpkit wiring error: ...` naming it:
 * - a missing binding: `InProcessApiClient needs cpkit.Store, but no module binds it`;
 * - a single role bound twice (two Stores);
 * - two contributions of one point with the same name, naming both;
 * - a runnable without a name, a `dependsOn` naming an unknown runnable, a dependency cycle.
 * @category Builder
 */
export class ControlPlaneBuilder {
  private readonly modules: (ContainerModule | AsyncContainerModule)[] = [];
  private options: ControlPlaneOptions;

  constructor(options: ControlPlaneOptions = {}) {
    this.options = { ...options };
  }

  /** Adds modules; they load in the order given, after those added before. */
  withModules(...modules: (ContainerModule | AsyncContainerModule)[]): this {
    this.modules.push(...modules);
    return this;
  }

  /** Merges `options` into the builder's options. */
  withOptions(options: ControlPlaneOptions): this {
    this.options = {
      ...this.options,
      ...options,
      validate: [...(this.options.validate ?? []), ...(options.validate ?? [])],
    };
    return this;
  }

  /** Composes, validates and returns the control plane (not started). */
  build(): Promise<ControlPlane> {
    return guardLeakedRejections((failures) => this.compose(failures));
  }

  private async compose(resolutionFailures: Set<unknown>): Promise<ControlPlane> {
    const gracePeriodMs = this.options.gracePeriodMs ?? DefaultGracePeriodMs;
    if (!Number.isFinite(gracePeriodMs) || gracePeriodMs < 0) {
      throw errors.badRequest(
        `invalid gracePeriodMs ${gracePeriodMs}: must be a non-negative number of milliseconds`,
        [{ reason: 'FieldValueInvalid', message: 'must be a non-negative number', field: 'gracePeriodMs' }],
      );
    }

    const container = new Container({ defaultScope: 'Singleton' });
    for (const module of this.modules) {
      if (module instanceof AsyncContainerModule) await container.loadAsync(module);
      else container.load(module);
    }
    this.bindDefaults(container);

    const staticProblem = checkStaticWiring(container, [
      ...contributionPoints.map((p) => p.id),
      ...resolvedRoles,
      ...(this.options.validate ?? []),
    ]);
    if (staticProblem) throw staticProblem;

    // Contribution points first: their failures name the longest chain (runnable → client → store).
    const contributions = new Map<symbol, unknown[]>();
    for (const point of contributionPoints) {
      const instances = container.isBound(point.id)
        ? await resolveAll(container, point.id, resolutionFailures)
        : [];
      checkNames(point.id, point.what, instances);
      contributions.set(point.id, instances);
    }

    for (const id of [...resolvedRoles, ...(this.options.validate ?? [])]) {
      if (!container.isBound(id)) continue;
      const instances = await resolveAll(container, id, resolutionFailures);
      if (singleRoles.includes(id as symbol) && instances.length > 1) {
        const labels = instances.map(contributionLabel).join(' and ');
        throw wiringError(
          `${describeServiceIdentifier(id)} is bound ${instances.length} times (${labels}); a control plane has one, bind it in one module only`,
        );
      }
    }

    // Controllers built by the controller builder are Runnables; start them even when a module only bound
    // them as Controller. Objects contributed under both are started once.
    const runnables = [...(contributions.get(Runnable) as Runnable[])];
    for (const controller of contributions.get(Controller) ?? []) {
      if (hasStart(controller) && !runnables.includes(controller)) runnables.push(controller);
    }
    checkNames(Runnable, 'runnables', runnables);

    const gate = container.get<LeaderElectionGate>(LeaderElectionGate);
    const ordered = startOrder(runnables, hasStart(gate) && runnables.includes(gate) ? gate : undefined);
    return new ControlPlane(container, ordered, gate, container.get<Logger>(Logger), gracePeriodMs);
  }

  private bindDefaults(container: Container): void {
    if (!container.isBound(Logger)) container.bind(Logger).toConstantValue(createLogger());
    if (!container.isBound(MetricsRegistry))
      container.bind(MetricsRegistry).toConstantValue(createMetricsRegistry());
    if (!container.isBound(LeaderElectionGate))
      container.bind(LeaderElectionGate).toConstantValue(new AlwaysLeaderGate());
    for (const { id } of contributionPoints) {
      const name = contributionProviderName(id);
      if (container.isBoundNamed(ContributionProvider, name)) continue;
      container
        .bind(ContributionProvider)
        .toDynamicValue((context) => new ContainerContributionProvider(context.container, id))
        .whenTargetNamed(name);
    }
  }
}

/** Shorthand for `new ControlPlaneBuilder(options).withModules(...options.modules).build()`. @category Builder */
export function createControlPlane(options: CreateControlPlaneOptions): Promise<ControlPlane> {
  const { modules, ...rest } = options;
  return new ControlPlaneBuilder(rest).withModules(...modules).build();
}

async function resolveAll(
  container: Container,
  id: interfaces.ServiceIdentifier,
  resolutionFailures: Set<unknown>,
): Promise<unknown[]> {
  try {
    // The async form, so bindings to async values resolve too.
    return await container.getAllAsync(id);
  } catch (error) {
    resolutionFailures.add(error);
    throw explainResolutionError(container, id, error);
  }
}

/**
 * Runs `work` with the errors inversify threw at it collected in a set. inversify 6 also leaks those as
 * unhandled rejections when a `toService` binding fails (its singleton cache re-throws a rejected promise
 * nobody awaits), which would crash the process before our precise message is printed; this swallows
 * exactly those.
 */
async function guardLeakedRejections<T>(work: (resolutionFailures: Set<unknown>) => Promise<T>): Promise<T> {
  const resolutionFailures = new Set<unknown>();
  const listener = (reason: unknown): void => {
    if (resolutionFailures.has(reason)) return;
    // Not ours: behave as Node would without this listener, unless someone else handles rejections.
    if (process.listenerCount('unhandledRejection') === 1) throw reason;
  };
  process.on('unhandledRejection', listener);
  try {
    return await work(resolutionFailures);
  } finally {
    if (resolutionFailures.size > 0) {
      // The leaked rejection is reported after the current microtasks; wait for it before unhooking.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    process.off('unhandledRejection', listener);
  }
}

function checkNames(id: symbol, what: string, instances: unknown[]): void {
  const seen = new Map<string, number>();
  instances.forEach((instance, index) => {
    const name = (instance as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name.length === 0) {
      throw wiringError(
        `${contributionLabel(instance, index)} bound to ${describeServiceIdentifier(id)} has no name`,
      );
    }
    const first = seen.get(name);
    if (first !== undefined) {
      throw wiringError(
        `two ${what} are named "${name}": ${contributionLabel(instances[first], first)} and ${contributionLabel(instance, index)}; names must be unique`,
      );
    }
    seen.set(name, index);
  });
}

/**
 * Orders runnables so every one starts after its `dependsOn` (and, for runnables needing leader election,
 * after the gate when the gate is a runnable). Ties keep binding order. Fails on an unknown name or a cycle.
 */
function startOrder(runnables: Runnable[], gate: Runnable | undefined): Runnable[] {
  const byName = new Map(runnables.map((r) => [r.name, r]));
  const dependencies = new Map<Runnable, Runnable[]>();
  for (const runnable of runnables) {
    const deps: Runnable[] = [];
    for (const dependencyName of runnable.dependsOn ?? []) {
      const dependency = byName.get(dependencyName);
      if (!dependency) {
        const known = [...byName.keys()].join(', ');
        throw wiringError(
          `runnable "${runnable.name}" depends on "${dependencyName}", but no runnable has that name (runnables: ${known})`,
        );
      }
      deps.push(dependency);
    }
    if (gate && runnable.needsLeaderElection && runnable !== gate && !deps.includes(gate)) deps.push(gate);
    dependencies.set(runnable, deps);
  }

  const ordered: Runnable[] = [];
  const state = new Map<Runnable, 'visiting' | 'done'>();
  const visit = (runnable: Runnable, path: Runnable[]): void => {
    const current = state.get(runnable);
    if (current === 'done') return;
    if (current === 'visiting') {
      const cycle = [...path.slice(path.indexOf(runnable)), runnable].map((r) => `"${r.name}"`).join(' → ');
      throw wiringError(`runnables depend on each other in a cycle: ${cycle}`);
    }
    state.set(runnable, 'visiting');
    for (const dependency of dependencies.get(runnable) ?? []) visit(dependency, [...path, runnable]);
    state.set(runnable, 'done');
    ordered.push(runnable);
  };
  for (const runnable of runnables) visit(runnable, []);
  return ordered;
}
