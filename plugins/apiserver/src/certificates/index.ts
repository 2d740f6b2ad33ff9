// SPDX-License-Identifier: Apache-2.0
export * from './admin-kubeconfig.js';
export * from './client-certificate.js';
export type { CertificateAuthority } from './pki.js';
export * from './serving-certificates.js';
