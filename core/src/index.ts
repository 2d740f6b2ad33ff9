// SPDX-License-Identifier: Apache-2.0
/**
 * `@cpkit/core`: the contracts (one file each under `contracts/`), the API machinery (`api/`), the
 * registry, the in-process ApiClient, informers, the work queue, the controller runtime, leader
 * election, the control-plane builder and observability. inversify is re-exported so that every plugin
 * shares core's single copy.
 * @module
 */
import 'reflect-metadata';

export { Container, ContainerModule, inject, injectable, type interfaces } from 'inversify';
export * from './admission/index.js';
export * from './api/builtin-kinds.js';
export * from './api/events.js';
export * from './api/field-path.js';
export * from './api/field-selector.js';
export * from './api/label-selector.js';
export * from './api/object.js';
export * from './api/quantity.js';
export * from './api/scheme.js';
export * from './api/time.js';
export * from './api/types.js';
export * from './api/validation.js';
export * from './bootstrap/namespace-finalizer.js';
export * from './bootstrap/system-namespaces.js';
export * from './builder/index.js';
export * from './client/index.js';
export * from './clock/index.js';
export * from './contracts/admission-plugin.js';
export * from './contracts/api-client.js';
export * from './contracts/api-server.js';
export * from './contracts/authenticator.js';
export * from './contracts/authorizer.js';
export * from './contracts/container-runtime.js';
export * from './contracts/controller.js';
export * from './contracts/node-agent.js';
export * from './contracts/runnable.js';
export * from './contracts/scheduler-plugin.js';
export * from './contracts/service-proxy.js';
export * from './contracts/store.js';
export * from './controller-runtime/index.js';
export * from './errors/status-error.js';
export * from './informers/index.js';
export * from './leader-election/index.js';
export * from './observability/index.js';
export * from './registry/index.js';
export * from './scheduling/index.js';
export * from './services/index.js';
export * from './store/store-arguments.js';
export * from './workqueue/index.js';
