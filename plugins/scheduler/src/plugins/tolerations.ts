// SPDX-License-Identifier: Apache-2.0
/**
 * Taint and toleration matching as upstream's `v1.Toleration.ToleratesTaint`, shared by TaintToleration,
 * NodeUnschedulable and the topology-spreading plugins (`nodeTaintsPolicy: Honor`).
 * @module
 */
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';

/**
 * True when `toleration` tolerates `taint`: an empty effect matches every effect, an empty key (with
 * `Exists`) matches every key, `Exists` ignores the value, and `Equal` (or no operator) needs the same value.
 * @category Scheduler plugins
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator) {
    case undefined:
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** True when any of `tolerations` tolerates `taint`. @category Scheduler plugins */
export function tolerationsTolerateTaint(
  tolerations: readonly Toleration[] | undefined,
  taint: Taint,
): boolean {
  if (tolerations === undefined) return false;
  for (let i = 0; i < tolerations.length; i++) if (toleratesTaint(tolerations[i], taint)) return true;
  return false;
}

/** Taints with effect NoSchedule or NoExecute: the ones that keep a pod off a node. @category Scheduler plugins */
export function isDoNotScheduleTaint(taint: Taint): boolean {
  return taint.effect === 'NoSchedule' || taint.effect === 'NoExecute';
}

/**
 * The first taint among `taints` that passes `filter` and that no toleration tolerates, or `undefined`
 * when the pod tolerates them all.
 * @category Scheduler plugins
 */
export function findUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  filter: (taint: Taint) => boolean = isDoNotScheduleTaint,
): Taint | undefined {
  if (taints === undefined) return undefined;
  for (let i = 0; i < taints.length; i++) {
    const taint = taints[i];
    if (filter(taint) && !tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}
