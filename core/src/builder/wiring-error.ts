// SPDX-License-Identifier: Apache-2.0
import { type interfaces, METADATA_KEY } from 'inversify';
import { StatusError } from '../errors/status-error.js';

/**
 * A wiring mistake found by the control-plane builder before anything starts: a missing binding, a
 * duplicate name, an unknown or cyclic dependency. Its message starts with `cpkit wiring error:` and names
 * the service identifier, plugin or runnable concerned.
 * @category Builder
 */
export function wiringError(message: string, cause?: unknown): StatusError {
  const error = new StatusError('InternalError', `cpkit wiring error: ${message}`);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** `cpkit.Store` for `Symbol.for('cpkit.Store')`, the class name for a class, the string for a string. */
export function describeServiceIdentifier(serviceIdentifier: unknown): string {
  if (typeof serviceIdentifier === 'symbol')
    return serviceIdentifier.description ?? serviceIdentifier.toString();
  if (typeof serviceIdentifier === 'function') return serviceIdentifier.name || '<anonymous class>';
  return String(serviceIdentifier);
}

/** How inversify prints an identifier (`Symbol(cpkit.Store)`) → how cpkit prints it (`cpkit.Store`). */
function tidy(printed: string): string {
  const symbol = /^Symbol\((.*)\)$/.exec(printed.trim());
  return symbol ? symbol[1] : printed.trim();
}

interface BindingLike {
  implementationType: unknown;
  /** inversify's binding type: `Instance`, `ConstantValue`, `DynamicValue`, ... */
  type?: string;
  /** The value of a constant binding. */
  cache?: unknown;
}

function describeBinding(binding: BindingLike): string {
  if (typeof binding.implementationType === 'function') return binding.implementationType.name;
  if (binding.type === 'ConstantValue') {
    const constructorName = (binding.cache as { constructor?: { name?: string } } | null | undefined)
      ?.constructor?.name;
    return constructorName && constructorName !== 'Object' ? constructorName : 'a constant value';
  }
  return binding.type === 'DynamicValue' ? 'a dynamic value' : 'a binding';
}

interface DependencyLike {
  serviceIdentifier: unknown;
  optional: boolean;
  /** The `@named(...)` name, when the injection is named. */
  named?: string | number | symbol;
}

// inversify 6 keeps bindings in a private dictionary; we only read it to explain a failure better, and fall
// back to inversify's own message when it is not there.
function allBindings(container: interfaces.Container): Map<unknown, BindingLike[]> {
  try {
    const dictionary = (
      container as unknown as { _bindingDictionary?: { getMap(): Map<unknown, BindingLike[]> } }
    )._bindingDictionary;
    return dictionary?.getMap() ?? new Map();
  } catch {
    return new Map();
  }
}

function implementationsOf(bindings: Map<unknown, BindingLike[]>, serviceIdentifier: unknown): Function[] {
  const implementations = (bindings.get(serviceIdentifier) ?? [])
    .map((b) => b.implementationType)
    .filter((t): t is Function => typeof t === 'function');
  // A class injected by its own identifier is its own implementation (`bind(X).toSelf()`).
  if (implementations.length === 0 && typeof serviceIdentifier === 'function')
    implementations.push(serviceIdentifier);
  return implementations;
}

type TaggedMetadata = Record<string, { key: unknown; value: unknown }[]>;

function dependenciesOf(implementation: Function): DependencyLike[] {
  const dependencies: DependencyLike[] = [];
  const collect = (metadata: TaggedMetadata | undefined): void => {
    for (const entries of Object.values(metadata ?? {})) {
      const injected = entries.find(
        (e) => e.key === METADATA_KEY.INJECT_TAG || e.key === METADATA_KEY.MULTI_INJECT_TAG,
      );
      if (!injected) continue;
      const optional = entries.some((e) => e.key === METADATA_KEY.OPTIONAL_TAG && e.value === true);
      const named = entries.find((e) => e.key === METADATA_KEY.NAMED_TAG)?.value as
        | string
        | symbol
        | undefined;
      dependencies.push({ serviceIdentifier: injected.value, optional, named });
    }
  };
  collect(Reflect.getMetadata(METADATA_KEY.TAGGED, implementation) as TaggedMetadata | undefined);
  collect(Reflect.getMetadata(METADATA_KEY.TAGGED_PROP, implementation) as TaggedMetadata | undefined);
  return dependencies;
}

/**
 * Walks the classes bound under `root` and their injections to find the chain of classes from `root` to
 * `needer`. Returns class names, outermost first, or undefined when bindings are opaque (dynamic values).
 */
function findChain(
  bindings: Map<unknown, BindingLike[]>,
  root: unknown,
  needer: Function,
): string[] | undefined {
  const visited = new Set<unknown>();
  const visit = (serviceIdentifier: unknown): string[] | undefined => {
    if (visited.has(serviceIdentifier)) return undefined;
    visited.add(serviceIdentifier);
    for (const implementation of implementationsOf(bindings, serviceIdentifier)) {
      if (implementation === needer) return [implementation.name];
      for (const dependency of dependenciesOf(implementation)) {
        const rest = visit(dependency.serviceIdentifier);
        if (rest) return [implementation.name, ...rest];
      }
    }
    return undefined;
  };
  return visit(root);
}

/** Every class the container can construct that injects `missing` (by printed name) without @optional. */
function findNeeders(bindings: Map<unknown, BindingLike[]>, missingName: string): Function[] {
  const classes = new Set<Function>();
  for (const [serviceIdentifier, list] of bindings) {
    for (const implementation of implementationsOf(bindings, serviceIdentifier)) classes.add(implementation);
    for (const binding of list)
      if (typeof binding.implementationType === 'function') classes.add(binding.implementationType);
  }
  return [...classes].filter((c) =>
    dependenciesOf(c).some(
      (d) => !d.optional && describeServiceIdentifier(d.serviceIdentifier) === missingName,
    ),
  );
}

const notRegistered = /^No matching bindings found for serviceIdentifier: ([^\n]+)/;
const requestedBy = /Trying to resolve bindings for "([^"]+)"/;
const ambiguous = /^Ambiguous match found for serviceIdentifier: ([^\n]+)/;
const circular = /^Circular dependency found: (.+)/;

/**
 * Turns an error thrown by inversify while resolving `root` (a contribution point or role) into one
 * precise wiring error, e.g. `cpkit wiring error: InProcessApiClient needs cpkit.Store, but no module
 * binds it`. Errors that are not inversify's (a constructor that threw) are reported as such.
 */
export function explainResolutionError(
  container: interfaces.Container,
  root: unknown,
  error: unknown,
): StatusError {
  const rootName = describeServiceIdentifier(root);
  const message = error instanceof Error ? error.message : String(error);

  const missing = notRegistered.exec(message);
  if (missing) {
    const missingName = tidy(missing[1]);
    const parent = requestedBy.exec(message);
    const parentName = parent ? tidy(parent[1]) : undefined;
    const bindings = allBindings(container);
    const needers = findNeeders(bindings, missingName);
    // Prefer the class inversify was constructing: named directly, or bound under the identifier it names.
    const needer =
      needers.find(
        (c) =>
          c.name === parentName ||
          [...bindings].some(
            ([id, list]) =>
              describeServiceIdentifier(id) === parentName && list.some((b) => b.implementationType === c),
          ),
      ) ?? (parentName === undefined || parentName === rootName ? needers[0] : undefined);
    if (needer) {
      const chain = findChain(bindings, root, needer);
      const via =
        chain && chain.length > 1 ? ` (${rootName} → ${chain.join(' → ')})` : ` (bound as ${rootName})`;
      return wiringError(
        `${needer.name} needs ${missingName}, but no module binds it${chain ? via : ''}`,
        error,
      );
    }
    const who = parentName !== undefined && parentName !== rootName ? parentName : `a ${rootName} binding`;
    return wiringError(`${who} needs ${missingName}, but no module binds it`, error);
  }

  const duplicate = ambiguous.exec(message);
  if (duplicate) {
    const printed = tidy(duplicate[1]);
    const bindings = allBindings(container);
    const key = [...bindings.keys()].find((k) => describeServiceIdentifier(k) === printed);
    const bound = key === undefined ? [] : (bindings.get(key) ?? []).map(describeBinding);
    const which = bound.length > 0 ? ` (${bound.join(', ')})` : '';
    return wiringError(
      `${printed} is bound more than once${which}, but it is injected as a single service; bind it in one module only`,
      error,
    );
  }

  const cycle = circular.exec(message);
  if (cycle) {
    const path = cycle[1]
      .split('-->')
      .map((part) => tidy(part))
      .join(' → ');
    return wiringError(`circular dependency: ${path}`, error);
  }

  return wiringError(`creating ${rootName} failed: ${message}`, error);
}

function describeDependency(dependency: DependencyLike): string {
  const name = describeServiceIdentifier(dependency.serviceIdentifier);
  return dependency.named === undefined
    ? name
    : `${name} named ${describeServiceIdentifier(dependency.named)}`;
}

/**
 * Checks, without constructing anything, that every class the container can construct has a binding for
 * each of its non-optional injections. Checking statically first gives precise messages even through
 * opaque bindings (`toService`, dynamic values), and avoids constructing half a control plane.
 * `roots` (contribution points and roles, in order) are used to show the chain that leads to the class.
 * Returns the first problem found, or undefined.
 */
export function checkStaticWiring(
  container: interfaces.Container,
  roots: readonly unknown[],
): StatusError | undefined {
  const bindings = allBindings(container);
  const classes = new Set<Function>();
  for (const [serviceIdentifier, list] of bindings) {
    for (const binding of list)
      if (typeof binding.implementationType === 'function') classes.add(binding.implementationType);
    if (typeof serviceIdentifier === 'function' && list.length === 0) classes.add(serviceIdentifier);
  }
  const problems: { needer: Function; dependency: DependencyLike }[] = [];
  for (const implementation of classes) {
    for (const dependency of dependenciesOf(implementation)) {
      if (dependency.optional) continue;
      const bound =
        dependency.named === undefined
          ? container.isBound(dependency.serviceIdentifier as interfaces.ServiceIdentifier)
          : container.isBoundNamed(
              dependency.serviceIdentifier as interfaces.ServiceIdentifier,
              dependency.named,
            );
      if (!bound) problems.push({ needer: implementation, dependency });
    }
  }
  if (problems.length === 0) return undefined;
  // Prefer a problem reachable from a root, in root order, so the message shows how it is needed.
  for (const root of roots) {
    for (const { needer, dependency } of problems) {
      const chain = findChain(bindings, root, needer);
      if (!chain) continue;
      const via =
        chain.length > 1
          ? ` (${describeServiceIdentifier(root)} → ${chain.join(' → ')})`
          : ` (bound as ${describeServiceIdentifier(root)})`;
      return wiringError(
        `${needer.name} needs ${describeDependency(dependency)}, but no module binds it${via}`,
      );
    }
  }
  const { needer, dependency } = problems[0];
  const boundAs = [...bindings]
    .filter(([, list]) => list.some((b) => b.implementationType === needer))
    .map(([id]) => describeServiceIdentifier(id));
  const suffix = boundAs.length > 0 ? ` (bound as ${boundAs.join(', ')})` : '';
  return wiringError(
    `${needer.name} needs ${describeDependency(dependency)}, but no module binds it${suffix}`,
  );
}
