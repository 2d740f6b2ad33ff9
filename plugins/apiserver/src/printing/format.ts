// SPDX-License-Identifier: Apache-2.0
import type { LabelSelector, PodSpec } from '@cpkit/core';

/** One container of a pod spec (`@cpkit/core`'s `Container` is the DI container). */
export type PodContainer = PodSpec['containers'][number];

/**
 * `key=value` pairs sorted by key and joined by commas, or `<none>` (upstream `labels.FormatLabels`).
 */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((key) => `${key}=${labels?.[key]}`).join(',');
}

/**
 * A label selector in the string form upstream prints (`app=web,tier in (a,b),!legacy`):
 * requirements sorted by key, set values sorted. An empty or absent selector prints as `''`.
 */
export function formatSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  const requirements: Array<{ key: string; text: string }> = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push({ key, text: `${key}=${value}` });
  }
  for (const expression of selector.matchExpressions ?? []) {
    const values = [...(expression.values ?? [])].sort().join(',');
    const key = expression.key;
    switch (expression.operator) {
      case 'In':
        requirements.push({ key, text: `${key} in (${values})` });
        break;
      case 'NotIn':
        requirements.push({ key, text: `${key} notin (${values})` });
        break;
      case 'Exists':
        requirements.push({ key, text: key });
        break;
      case 'DoesNotExist':
        requirements.push({ key, text: `!${key}` });
        break;
      default:
        requirements.push({ key, text: `${key} ${expression.operator} (${values})` });
    }
  }
  // A stable sort by key keeps a matchLabels entry before an expression on the same key.
  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return requirements.map((requirement) => requirement.text).join(',');
}

/** The Containers and Images cells of workload printers: names and images joined by commas. */
export function containerCells(containers: PodContainer[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}
