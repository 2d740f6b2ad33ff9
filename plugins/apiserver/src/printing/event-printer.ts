// SPDX-License-Identifier: Apache-2.0
import type { Event } from '@cpkit/core';
import { timestampSince } from './duration.js';
import { column, type KindPrinter } from './table.js';

function source(event: Event): string {
  const component = event.source?.component || event.reportingComponent || '';
  const instance = event.source?.host || event.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

/**
 * Events (`core/v1`): `LAST SEEN TYPE REASON OBJECT MESSAGE`, wide `SUBOBJECT SOURCE FIRST SEEN
 * COUNT NAME`. The times fall back from `lastTimestamp` to `firstTimestamp` to `eventTime`; an
 * event series reports its own last time and count.
 * @category API server
 */
export const eventPrinter: KindPrinter<Event> = {
  columns: [
    column('Last Seen', 'string', 'Time since the event was last seen.'),
    column('Type', 'string', 'Normal or Warning.'),
    column('Reason', 'string', 'Why the event happened, in UpperCamelCase.'),
    column('Object', 'string', 'The object the event is about.'),
    column('Subobject', 'string', 'The field path of the object the event is about.', { priority: 1 }),
    column('Source', 'string', 'The component that reported the event.', { priority: 1 }),
    column('Message', 'string', 'A human-readable description of the event.'),
    column('First Seen', 'string', 'Time since the event was first seen.', { priority: 1 }),
    column('Count', 'string', 'How many times the event happened.', { priority: 1 }),
    column('Name', 'string', 'Name of the event object.', { priority: 1, format: 'name' }),
  ],
  cells(event, now) {
    const firstSeen = event.firstTimestamp
      ? timestampSince(event.firstTimestamp, now)
      : timestampSince(event.eventTime, now);
    let lastSeen = event.lastTimestamp ? timestampSince(event.lastTimestamp, now) : firstSeen;
    let count = event.count ?? 0;
    if (event.series) {
      lastSeen = timestampSince(event.series.lastObservedTime, now);
      count = event.series.count ?? 0;
    } else if (count === 0) {
      // Events written through events.k8s.io leave the count unset for a single occurrence.
      count = 1;
    }
    const involved = event.involvedObject;
    const kind = (involved?.kind ?? '').toLowerCase();
    const target = involved?.name ? `${kind}/${involved.name}` : kind;
    return [
      lastSeen,
      event.type ?? '',
      event.reason ?? '',
      target,
      involved?.fieldPath ?? '',
      source(event),
      (event.message ?? '').trim(),
      firstSeen,
      count,
      event.metadata?.name ?? '',
    ];
  },
};
