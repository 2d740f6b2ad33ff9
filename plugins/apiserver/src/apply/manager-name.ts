// SPDX-License-Identifier: Apache-2.0

/**
 * The field manager of a write: the `fieldManager` query parameter, else (as upstream) the
 * User-Agent up to its first `/` (`kubectl-client-side-apply/v1.32.4 (linux/amd64) ...` →
 * `kubectl-client-side-apply`), cut to 128 characters, else `unknown`.
 * @category API server
 */
export function defaultFieldManager(
  fieldManager: string | null | undefined,
  userAgent: string | undefined,
): string {
  if (fieldManager) return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0]?.trim() ?? '';
  return prefix === '' ? 'unknown' : prefix.slice(0, 128);
}
