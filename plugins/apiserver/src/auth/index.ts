// SPDX-License-Identifier: Apache-2.0

export * from './access-reviews.js';
export * from './authentication.js';
export * from './authorization.js';
export * from './bootstrap-policy.js';
export * from './impersonation.js';
export * from './rbac-authorizer.js';
export * from './rbac-escalation.js';
export * from './rbac-rules.js';
export * from './server-security.js';
export * from './service-account-tokens.js';
export * from './token-file-authenticator.js';
export * from './x509-authenticator.js';
