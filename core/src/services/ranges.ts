// SPDX-License-Identifier: Apache-2.0
/**
 * The ranges Service allocation draws from: an IPv4 service CIDR and a node-port range.
 * @module
 */

/**
 * An IPv4 service CIDR such as `10.96.0.0/12`. As upstream, the network address and (for ranges of
 * more than two addresses) the broadcast address are never handed out, and the first usable address
 * is the `kubernetes` Service's.
 * @category Services
 */
export class ServiceIPRange {
  /** The CIDR as given, normalised (`10.96.0.0/12`). */
  readonly cidr: string;
  /** First usable address as a 32-bit number. */
  readonly first: number;
  /** Number of usable addresses. */
  readonly size: number;

  private constructor(cidr: string, first: number, size: number) {
    this.cidr = cidr;
    this.first = first;
    this.size = size;
  }

  /** Parses `a.b.c.d/n`; throws a TypeError naming the problem. IPv6 ranges are not supported yet. */
  static parse(cidr: string): ServiceIPRange {
    const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
    const address = match ? parseIPv4(match[1] as string) : undefined;
    const bits = match ? Number(match[2]) : Number.NaN;
    if (address === undefined || !(bits >= 1 && bits <= 30)) {
      throw new TypeError(
        `service CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR with a prefix length between 1 and 30`,
      );
    }
    const total = 2 ** (32 - bits);
    const network = address - (address % total);
    return new ServiceIPRange(`${formatIPv4(network)}/${bits}`, network + 1, total - 2);
  }

  /** True when `ip` (dotted quad) is a usable address of the range. */
  contains(ip: string): boolean {
    const value = parseIPv4(ip);
    return value !== undefined && value >= this.first && value < this.first + this.size;
  }

  /** The usable address at `offset` (0 is the first). */
  at(offset: number): string {
    return formatIPv4(this.first + offset);
  }

  /** The offset of a usable address, or undefined when `ip` is not one. */
  offsetOf(ip: string): number | undefined {
    return this.contains(ip) ? (parseIPv4(ip) as number) - this.first : undefined;
  }
}

/**
 * An inclusive port range such as `30000-32767` (upstream's `--service-node-port-range`).
 * @category Services
 */
export class PortRange {
  private constructor(
    /** Lowest port. */
    readonly base: number,
    /** Number of ports. */
    readonly size: number,
  ) {}

  /** Parses `from-to` (or a single port); throws a TypeError naming the problem. */
  static parse(range: string): PortRange {
    const match = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(range.trim());
    const from = match ? Number(match[1]) : Number.NaN;
    const to = match?.[2] !== undefined ? Number(match[2]) : from;
    if (!(from >= 1 && to <= 65535 && from <= to)) {
      throw new TypeError(
        `port range ${JSON.stringify(range)} is not "from-to" with 1 <= from <= to <= 65535`,
      );
    }
    return new PortRange(from, to - from + 1);
  }

  /** True when `port` is in the range. */
  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.base && port < this.base + this.size;
  }

  /** `30000-32767`, as upstream prints it in errors. */
  toString(): string {
    return `${this.base}-${this.base + this.size - 1}`;
  }
}

/** A dotted-quad IPv4 address as a number, or undefined when it is not one (no leading zeros). */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
