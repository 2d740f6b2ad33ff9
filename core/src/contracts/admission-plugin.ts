// SPDX-License-Identifier: Apache-2.0
import type { GroupVersionKind, GroupVersionResource, KubeObject } from '../api/object.js';
import type { UserInfo } from './authenticator.js';

/**
 * Service identifier under which admission plugins are contributed. On every write the API server runs
 * the mutating plugins first (in binding order), then defaulting and validation of the kind, then the
 * validating plugins, then stores the object.
 * @category Contracts
 */
export const AdmissionPlugin = Symbol.for('cpkit.AdmissionPlugin');

/** The operations admission sees. `CONNECT` is exec, attach, port-forward and proxy. @category Contracts */
export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** Everything an admission plugin may look at, as Kubernetes' `admission.Attributes`. @category Contracts */
export interface AdmissionAttributes {
  operation: AdmissionOperation;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  /** `''` for the main resource, else e.g. `status`, `scale`, `binding`, `exec`. */
  subresource: string;
  /** `''` for cluster-scoped kinds. */
  namespace: string;
  /** The object's name; may be `''` on CREATE with `generateName`. */
  name: string;
  /**
   * The incoming object: for CREATE and UPDATE the new state (mutating plugins may change it in place),
   * for CONNECT the options object (e.g. PodExecOptions); absent for DELETE.
   */
  object?: KubeObject;
  /** The stored object for UPDATE and DELETE; absent for CREATE and CONNECT. */
  oldObject?: KubeObject;
  userInfo: UserInfo;
  /** True when the request is a dry run: plugins must not cause side effects. */
  dryRun: boolean;
  /** The request's options object (CreateOptions, UpdateOptions, DeleteOptions), when there is one. */
  options?: unknown;
}

/**
 * Common part of every admission plugin.
 * Rejections are `StatusError`s: `Forbidden` (403) for policy ("namespace is terminating", quota
 * exceeded), `Invalid` (422, with field causes) for a bad object; anything else thrown becomes an
 * `InternalError` and fails the request too. A rejecting plugin stops the chain and nothing is stored.
 * @category Contracts
 */
export interface AdmissionPlugin {
  /** PascalCase name as upstream uses them, e.g. `NamespaceLifecycle`, `ServiceAccount`, `LimitRanger`. */
  readonly name: string;
  /** Whether the plugin wants to see this operation; plugins not handling it are not called. */
  handles(operation: AdmissionOperation): boolean;
}

/**
 * An admission plugin that may change the object: it mutates `attributes.object` in place (defaults,
 * injected fields) and resolves, or rejects to refuse the request.
 * @category Contracts
 */
export interface MutatingAdmissionPlugin extends AdmissionPlugin {
  admit(attributes: AdmissionAttributes): Promise<void>;
}

/**
 * An admission plugin that only checks: it must not change `attributes.object`; it resolves to accept and
 * rejects to refuse.
 * @category Contracts
 */
export interface ValidatingAdmissionPlugin extends AdmissionPlugin {
  validate(attributes: AdmissionAttributes): Promise<void>;
}

/** True when `plugin` implements {@link MutatingAdmissionPlugin}. @category Contracts */
export function isMutatingAdmissionPlugin(plugin: AdmissionPlugin): plugin is MutatingAdmissionPlugin {
  return typeof (plugin as Partial<MutatingAdmissionPlugin>).admit === 'function';
}

/** True when `plugin` implements {@link ValidatingAdmissionPlugin}. @category Contracts */
export function isValidatingAdmissionPlugin(plugin: AdmissionPlugin): plugin is ValidatingAdmissionPlugin {
  return typeof (plugin as Partial<ValidatingAdmissionPlugin>).validate === 'function';
}
