// SPDX-License-Identifier: Apache-2.0

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/**
 * Formats a duration the way Kubernetes prints ages (`duration.HumanDuration`): `45s`, `2m30s`,
 * `3h`, `2d5h`, `45d`, `3y120d`. The precision drops as the duration grows, so a column of ages
 * stays narrow. Durations up to a second in the future print as `0s` (clock skew between
 * machines); further in the future they print as `<invalid>`.
 * @param ms The duration in milliseconds.
 * @category API server
 */
export function humanDuration(ms: number): string {
  // Go truncates toward zero when converting a Duration to whole units; so do we.
  const seconds = Math.trunc(ms / second);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / minute);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(ms / hour);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/**
 * The age of a timestamp as kubectl shows it: {@link humanDuration} of `now - timestamp`, or
 * `<unknown>` when the timestamp is absent or unparsable (upstream prints `<unknown>` for a zero
 * time).
 * @param timestamp An RFC 3339 timestamp (`metadata.creationTimestamp`, ...).
 * @param now Milliseconds since the Unix epoch.
 * @category API server
 */
export function timestampSince(timestamp: string | undefined, now: number): string {
  const at = parseTimestamp(timestamp);
  return at === undefined ? '<unknown>' : humanDuration(now - at);
}

/** Milliseconds since the epoch, or undefined for an absent or unparsable timestamp. */
export function parseTimestamp(timestamp: string | undefined): number | undefined {
  if (!timestamp) return undefined;
  const at = Date.parse(timestamp);
  return Number.isNaN(at) ? undefined : at;
}
