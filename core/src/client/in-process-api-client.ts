// SPDX-License-Identifier: Apache-2.0
import type { Binding } from 'kubernetes-types/core/v1.js';
import type { Observable } from 'rxjs';
import type { KindReference, KubeList, KubeObject } from '../api/object.js';
import type {
  ApiClient,
  CreateOptions,
  DeleteOptions,
  GetOptions,
  ListOptions,
  PatchOptions,
  PatchType,
  UpdateOptions,
  WatchEvent,
  WatchOptions,
} from '../contracts/api-client.js';
import { errors } from '../errors/status-error.js';
import type { Registry } from '../registry/registry.js';

/** A deep copy of JSON data; anything JSON cannot hold is a BadRequest, not a DataCloneError. */
function copy<T>(value: T, what: string): T {
  try {
    return structuredClone(value);
  } catch (error) {
    throw errors.badRequest(
      `${what} is not plain JSON data: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * The in-process transport of the {@link ApiClient}: every call goes straight into the
 * {@link Registry} (same defaulting, validation, concurrency and errors as over HTTP, without HTTP).
 *
 * Objects never cross the boundary by reference: arguments are deep-copied on the way in, and the
 * registry hands back objects it does not keep, so a caller can never mutate stored state and two
 * watchers never share an object.
 * @category Client
 */
export class InProcessApiClient implements ApiClient {
  constructor(private readonly registry: Registry) {}

  async get<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: GetOptions,
  ): Promise<T> {
    return this.registry.get<T>(kind, name, options && copy(options, 'options'));
  }

  async list<T extends KubeObject = KubeObject>(
    kind: KindReference,
    options?: ListOptions,
  ): Promise<KubeList<T>> {
    return this.registry.list<T>(kind, options && copy(options, 'options'));
  }

  async create<T extends KubeObject>(object: T, options?: CreateOptions): Promise<T> {
    return this.registry.create<T>(copy(object, 'object'), options && copy(options, 'options'));
  }

  async update<T extends KubeObject>(object: T, options?: UpdateOptions): Promise<T> {
    return this.registry.update<T>(
      copy(object, 'object'),
      options && { ...copy(options, 'options'), subresource: undefined },
    );
  }

  async updateStatus<T extends KubeObject>(object: T, options?: UpdateOptions): Promise<T> {
    return this.registry.update<T>(copy(object, 'object'), {
      ...copy(options ?? {}, 'options'),
      subresource: 'status',
    });
  }

  async patch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    type: PatchType,
    patch: unknown,
    options?: PatchOptions,
  ): Promise<T> {
    return this.registry.patch<T>(
      kind,
      name,
      type,
      copy(patch, 'patch'),
      options && copy(options, 'options'),
    );
  }

  async bind(binding: Binding, options?: CreateOptions): Promise<void> {
    return this.registry.bind(copy(binding, 'binding'), options && copy(options, 'options'));
  }

  async delete<T extends KubeObject = KubeObject>(
    kind: KindReference,
    name: string,
    options?: DeleteOptions,
  ): Promise<T> {
    return this.registry.delete<T>(kind, name, options && copy(options, 'options'));
  }

  watch<T extends KubeObject = KubeObject>(
    kind: KindReference,
    options?: WatchOptions,
  ): Observable<WatchEvent<T>> {
    return this.registry.watch<T>(kind, options && { ...options });
  }
}
