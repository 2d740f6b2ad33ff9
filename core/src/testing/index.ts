// SPDX-License-Identifier: Apache-2.0
/**
 * cpkit's testing kit (`@cpkit/core/testing`): contract suites every implementation runs, fixture
 * builders, a fake clock and an in-process control plane for plugin integration tests.
 * @module
 */

export * from './api-client-contract.js';
export * from './etcd-cluster.js';
export * from './fake-clock.js';
export * from './fixtures.js';
export * from './json-lines-child.js';
export * from './scheduling-harness.js';
export * from './status-rejection.js';
export * from './store-contract.js';
export * from './test-control-plane.js';
