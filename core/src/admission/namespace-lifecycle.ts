// SPDX-License-Identifier: Apache-2.0
/**
 * NamespaceLifecycle, the first built-in admission plugin, with upstream's rules.
 * @module
 */
import type { Namespace } from 'kubernetes-types/core/v1.js';
import type {
  AdmissionAttributes,
  AdmissionOperation,
  MutatingAdmissionPlugin,
} from '../contracts/admission-plugin.js';
import { errors } from '../errors/status-error.js';
import { admissionForbidden } from './admission-chain.js';

/**
 * Reads a namespace for {@link NamespaceLifecycle}: resolves with it, or with `undefined` when it
 * does not exist.
 * @category Admission
 */
export type NamespaceLookup = (name: string) => Promise<Namespace | undefined>;

/**
 * The namespaces upstream's NamespaceLifecycle never lets anyone delete.
 * @category Admission
 */
export const immortalNamespaces: readonly string[] = ['default', 'kube-system', 'kube-public'];

/** Groups whose kinds are questions about access, never stored content: upstream exempts them. */
const accessReviewGroups = new Set(['authorization.k8s.io', 'authentication.k8s.io']);

/** Options of {@link NamespaceLifecycle}. @category Admission */
export interface NamespaceLifecycleOptions {
  /** Namespaces that can never be deleted. Default: {@link immortalNamespaces}. */
  immortalNamespaces?: readonly string[];
}

/**
 * Upstream's `NamespaceLifecycle` admission plugin:
 * - a namespaced object (or a subresource such as `pods/binding`) can only be created in a namespace
 *   that exists (`NotFound`: `namespaces "x" not found`) and is not being deleted (`Forbidden`:
 *   `unable to create new content in namespace x because it is being terminated`, with a
 *   `NamespaceTerminating` cause on `metadata.namespace`);
 * - the namespaces `default`, `kube-system` and `kube-public` cannot be deleted (`Forbidden`).
 *
 * Updates and deletes of content in a terminating namespace stay allowed: that is how the namespace
 * gets emptied. Like upstream it runs in the mutating phase (it never changes the object) so that it
 * rejects before any other plugin does work for a request that cannot succeed.
 * @category Admission
 */
export class NamespaceLifecycle implements MutatingAdmissionPlugin {
  readonly name = 'NamespaceLifecycle';
  private readonly immortal: ReadonlySet<string>;

  /** @param lookup reads a namespace; the registry passes a direct read of its store. */
  constructor(
    private readonly lookup: NamespaceLookup,
    options: NamespaceLifecycleOptions = {},
  ) {
    this.immortal = new Set(options.immortalNamespaces ?? immortalNamespaces);
  }

  handles(operation: AdmissionOperation): boolean {
    return operation === 'CREATE' || operation === 'DELETE';
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    const { kind } = attributes;
    const isNamespace = kind.group === '' && kind.kind === 'Namespace';
    if (attributes.operation === 'DELETE') {
      if (isNamespace && attributes.subresource === '' && this.immortal.has(attributes.name)) {
        throw admissionForbidden(attributes, 'this namespace may not be deleted');
      }
      return;
    }
    // Cluster-scoped kinds (namespace '') and namespaces themselves are never content of a namespace.
    if (attributes.namespace === '' || isNamespace || accessReviewGroups.has(kind.group)) return;
    const namespace = await this.lookup(attributes.namespace);
    if (!namespace) throw errors.notFound({ resource: 'namespaces', name: attributes.namespace });
    if (namespace.status?.phase === 'Terminating' || namespace.metadata?.deletionTimestamp) {
      throw admissionForbidden(
        attributes,
        `unable to create new content in namespace ${attributes.namespace} because it is being terminated`,
        [
          {
            reason: 'NamespaceTerminating',
            message: `namespace ${attributes.namespace} is being terminated`,
            field: 'metadata.namespace',
          },
        ],
      );
    }
  }
}
