// SPDX-License-Identifier: Apache-2.0
export * from './api-handler.js';
export * from './discovery.js';
export * from './filters/index.js';
export * from './http-api-server.js';
export * from './openapi.js';
export * from './protobuf.js';
export * from './request-info.js';
export * from './scale.js';
