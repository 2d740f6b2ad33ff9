// SPDX-License-Identifier: Apache-2.0
import 'reflect-metadata';

export * from './errors/status-error.js';
export * from './api/object.js';
export * from './contracts/store.js';
export * from './contracts/api-client.js';
export * from './contracts/runnable.js';
export * from './contracts/controller.js';

// API machinery: built-in kind types, field paths and validation, selectors, quantities.
export * from './api/field-path.js';
export * from './api/field-selector.js';
export * from './api/label-selector.js';
export * from './api/quantity.js';
export * from './api/types.js';
export * from './api/validation.js';

// Role contracts (one file each), observability services and the control-plane builder.
export * from './builder/index.js';
export * from './contracts/admission-plugin.js';
export * from './contracts/api-server.js';
export * from './contracts/authenticator.js';
export * from './contracts/authorizer.js';
export * from './contracts/container-runtime.js';
export * from './contracts/node-agent.js';
export * from './contracts/scheduler-plugin.js';
export * from './contracts/service-proxy.js';
export * from './observability/index.js';

// The scheme (kind catalog + built-in kinds), the registry on a Store, and the in-process ApiClient.
export * from './api/scheme.js';
export * from './api/builtin-kinds.js';
export * from './registry/index.js';
export * from './client/index.js';

// Start-up bootstrap: the system namespaces.
export * from './bootstrap/system-namespaces.js';

// inversify, re-exported so every plugin shares core's single copy.
export { Container, ContainerModule, inject, injectable, type interfaces } from 'inversify';
