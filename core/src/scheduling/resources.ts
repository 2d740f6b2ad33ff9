// SPDX-License-Identifier: Apache-2.0
/**
 * Pod resource requests in the scheduler's units, computed as upstream's `PodRequests` does and cached
 * per pod object because every scheduling cycle reads them.
 * @module
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../api/quantity.js';
import type { SchedulingResources } from '../contracts/scheduler-plugin.js';
import { errors, StatusError } from '../errors/status-error.js';

/** CPU counted for a container without a CPU request when spreading pods (100m). @category Scheduling */
export const DefaultMilliCPURequest = 100;
/** Memory counted for a container without a memory request when spreading pods (200Mi). @category Scheduling */
export const DefaultMemoryRequest = 200 * 1024 * 1024;

/** A mutable {@link SchedulingResources}. @category Scheduling */
export interface MutableSchedulingResources extends SchedulingResources {
  scalar: Record<string, number>;
}

/** The requests of one pod, as {@link computePodRequests} returns them. @category Scheduling */
export interface PodResourceRequests {
  /** What the pod requests (`pods` is 1). */
  readonly requests: Readonly<SchedulingResources>;
  /** Like `requests`, with 100m CPU / 200Mi memory for each container that requests none. */
  readonly nonZeroRequests: Readonly<SchedulingResources>;
}

/** A fresh all-zero resource amount. @category Scheduling */
export function emptyResources(): MutableSchedulingResources {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
}

/** A deep copy (the scalar record is copied too). @category Scheduling */
export function cloneResources(resources: Readonly<SchedulingResources>): MutableSchedulingResources {
  return {
    milliCPU: resources.milliCPU,
    memory: resources.memory,
    ephemeralStorage: resources.ephemeralStorage,
    pods: resources.pods,
    scalar: { ...resources.scalar },
  };
}

/** Adds `delta` (times `sign`, 1 or -1) into `target`. @category Scheduling */
export function addResources(
  target: MutableSchedulingResources,
  delta: Readonly<SchedulingResources>,
  sign: 1 | -1 = 1,
): void {
  target.milliCPU += sign * delta.milliCPU;
  target.memory += sign * delta.memory;
  target.ephemeralStorage += sign * delta.ephemeralStorage;
  target.pods += sign * delta.pods;
  for (const name in delta.scalar)
    target.scalar[name] = (target.scalar[name] ?? 0) + sign * delta.scalar[name];
}

// Parsed quantities by text. The set of distinct strings in a cluster is small (`100m`, `1Gi`, ...), and
// parsing goes through BigInt, so a plain cache pays off; it is cleared when it grows past a bound so a
// stream of unusual values cannot grow it without limit.
const maxCachedQuantities = 10_000;
const milliCache = new Map<string, number>();
const valueCache = new Map<string, number>();

function cachedParse(
  cache: Map<string, number>,
  text: string | number,
  milli: boolean,
  fieldPath: string,
  name: string,
): number {
  const key = String(text);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let quantity: Quantity;
  try {
    quantity = Quantity.parse(text);
  } catch (error) {
    const why = error instanceof StatusError ? error.message : String(error);
    const field = `${fieldPath}.${name}`;
    throw errors.badRequest(`${field}: ${why}`, [{ reason: 'FieldValueInvalid', message: why, field }]);
  }
  const parsed = milli ? quantity.milliValue() : quantity.value();
  if (cache.size >= maxCachedQuantities) cache.clear();
  cache.set(key, parsed);
  return parsed;
}

/**
 * Converts a resource list (`{ cpu: '250m', memory: '1Gi', 'nvidia.com/gpu': '1' }`) into scheduler units:
 * CPU in millicores, everything else in whole units (bytes for memory, storage and hugepages). `pods` is
 * read too (node allocatable). Throws `BadRequest` naming `fieldPath` when a quantity is invalid.
 * @category Scheduling
 */
export function resourceListToResources(
  list: Readonly<Record<string, string | number>> | undefined,
  fieldPath = 'resources',
): MutableSchedulingResources {
  const result = emptyResources();
  if (list) addResourceList(result, list, fieldPath);
  return result;
}

function addResourceList(
  target: MutableSchedulingResources,
  list: Readonly<Record<string, string | number>>,
  fieldPath: string,
): void {
  for (const name in list) {
    const text = list[name];
    // The field path is only built on error: this runs for every pod and node the cache sees.
    switch (name) {
      case 'cpu':
        target.milliCPU += cachedParse(milliCache, text, true, fieldPath, name);
        break;
      case 'memory':
        target.memory += cachedParse(valueCache, text, false, fieldPath, name);
        break;
      case 'ephemeral-storage':
        target.ephemeralStorage += cachedParse(valueCache, text, false, fieldPath, name);
        break;
      case 'pods':
        target.pods += cachedParse(valueCache, text, false, fieldPath, name);
        break;
      default:
        target.scalar[name] =
          (target.scalar[name] ?? 0) + cachedParse(valueCache, text, false, fieldPath, name);
    }
  }
}

function maxInto(target: MutableSchedulingResources, other: Readonly<SchedulingResources>): void {
  if (other.milliCPU > target.milliCPU) target.milliCPU = other.milliCPU;
  if (other.memory > target.memory) target.memory = other.memory;
  if (other.ephemeralStorage > target.ephemeralStorage) target.ephemeralStorage = other.ephemeralStorage;
  for (const name in other.scalar) {
    if (other.scalar[name] > (target.scalar[name] ?? 0)) target.scalar[name] = other.scalar[name];
  }
}

function containerRequests(
  container: Container,
  fieldPath: string,
  nonZero: boolean,
): MutableSchedulingResources {
  const requests = container.resources?.requests as Record<string, string | number> | undefined;
  const result = resourceListToResources(requests, `${fieldPath}.resources.requests`);
  if (nonZero) {
    // Only a missing request gets the default: an explicit `cpu: 0` stays zero, as upstream.
    if (requests?.cpu === undefined) result.milliCPU = DefaultMilliCPURequest;
    if (requests?.memory === undefined) result.memory = DefaultMemoryRequest;
  }
  return result;
}

function podRequests(pod: Pod, nonZero: boolean): MutableSchedulingResources {
  const spec = pod.spec;
  const total = emptyResources();
  const containers = spec?.containers ?? [];
  for (let i = 0; i < containers.length; i++) {
    addResources(total, containerRequests(containers[i], `spec.containers[${i}]`, nonZero));
  }
  const initContainers = spec?.initContainers;
  if (initContainers && initContainers.length > 0) {
    // Sidecars (restartPolicy Always) keep running beside everything started after them: they add to
    // the pod's total, and each later init container runs on top of the sidecars started before it.
    const sidecars = emptyResources();
    const initMax = emptyResources();
    for (let i = 0; i < initContainers.length; i++) {
      const container = initContainers[i];
      const requests = containerRequests(container, `spec.initContainers[${i}]`, nonZero);
      if (container.restartPolicy === 'Always') {
        addResources(total, requests);
        addResources(sidecars, requests);
        maxInto(initMax, sidecars);
      } else {
        addResources(requests, sidecars);
        maxInto(initMax, requests);
      }
    }
    maxInto(total, initMax);
  }
  const overhead = spec?.overhead as Record<string, string | number> | undefined;
  if (overhead) addResourceList(total, overhead, 'spec.overhead');
  total.pods = 1;
  return total;
}

const requestsCache = new WeakMap<Pod, PodResourceRequests>();

/**
 * The pod's resource requests as the scheduler counts them, like upstream: the sum over containers, at
 * least the largest init container (plus the sidecar init containers started before it), sidecar init
 * containers (`restartPolicy: Always`) added, plus `spec.overhead`. Cached per pod object: do not mutate
 * a pod's containers after asking (informer objects are never mutated).
 *
 * Throws `BadRequest` naming the field (`spec.containers[0].resources.requests.cpu`) for an invalid
 * quantity.
 * @category Scheduling
 */
export function computePodRequests(pod: Pod): PodResourceRequests {
  let cached = requestsCache.get(pod);
  if (cached === undefined) {
    cached = { requests: podRequests(pod, false), nonZeroRequests: podRequests(pod, true) };
    requestsCache.set(pod, cached);
  }
  return cached;
}

/** Shorthand for `computePodRequests(pod).nonZeroRequests`. @category Scheduling */
export function nonZeroRequests(pod: Pod): Readonly<SchedulingResources> {
  return computePodRequests(pod).nonZeroRequests;
}
