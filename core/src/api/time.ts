// SPDX-License-Identifier: Apache-2.0

/**
 * A Kubernetes `Time` as upstream writes it: RFC 3339 in UTC with seconds precision
 * (`2026-01-01T12:00:00Z`), from milliseconds since the epoch.
 * @category API
 */
export function formatTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
