// SPDX-License-Identifier: Apache-2.0
/**
 * ClusterIP and NodePort allocation for Services, recorded in the store so that several API server
 * processes on one store never hand out the same address or port.
 *
 * Every allocated value is one store key, created when allocated and deleted when released:
 * - an IP is upstream's `IPAddress` object (`networking.k8s.io/v1`), stored where the registry would
 *   store it (`/registry/networking.k8s.io/ipaddresses/<ip>`), its `spec.parentRef` naming the Service;
 * - a node port is a small record under `/registry/internal.cpkit.io/servicenodeports/<port>`.
 * Allocating is `store.create`: whoever creates the key owns the value, a loser gets AlreadyExists and
 * tries another. No process keeps state that another one must learn about.
 *
 * The allocator is a {@link RegistryHook}, not an admission plugin: allocation must be undone when the
 * write fails after it (a name conflict, a validation error, a lost update race) and released only
 * when the Service is really gone (not when a delete merely marks it), and only the registry knows
 * either. A crash between allocating and storing leaves a record without a Service; {@link
 * StoreServiceAllocator.repair} (run before the first allocation of each process) removes such leaks
 * once they are older than a grace period, and records allocations Services hold without one.
 *
 * @module
 */

import type { UnstructuredObject } from '../api/object.js';
import type { RegisteredKind } from '../api/scheme.js';
import { formatTimestamp } from '../api/time.js';
import { fieldCauses } from '../api/validation.js';
import { type Clock, SystemClock } from '../clock/clock.js';
import type { Store, StoreEntry } from '../contracts/store.js';
import { errors, isStatusError, type StatusCause, StatusError } from '../errors/status-error.js';
import type { FinishWrite, RegistryHook, RegistryHookContext } from '../registry/registry.js';
import { PortRange, ServiceIPRange } from './ranges.js';

/** Options of the Service allocator. @category Services */
export interface ServiceAllocationOptions {
  /** The IPv4 range ClusterIPs come from (upstream's `--service-cluster-ip-range`). Default `10.96.0.0/12`. */
  serviceClusterIPRange?: string;
  /** The node-port range (upstream's `--service-node-port-range`). Default `30000-32767`. */
  nodePortRange?: string;
  /**
   * How old an allocation record without a Service must be before repair releases it, in
   * milliseconds: younger ones may belong to a create still in flight on another process. Default 60000.
   */
  leakGracePeriodMs?: number;
}

/**
 * Service identifier of the {@link ServiceAllocator} (bound by `registryModule()` unless
 * `serviceAllocation: false`).
 * @category Services
 */
export const ServiceAllocator = Symbol.for('cpkit.ServiceAllocator');

/** What {@link StoreServiceAllocator.repair} found and fixed. @category Services */
export interface AllocationRepairReport {
  /** Values Services held without a record, now recorded (`10.96.0.10`, `30080`). */
  recorded: string[];
  /** Records no Service holds (older than the grace period), now released. */
  released: string[];
  /** Values two Services hold at once, or a Service holds but another owns (`10.96.0.10 default/a`). */
  conflicts: string[];
}

/**
 * The allocator of Service ClusterIPs and NodePorts.
 * @category Services
 */
export interface ServiceAllocator {
  /** The ClusterIP range. */
  readonly ipRange: ServiceIPRange;
  /** The node-port range. */
  readonly nodePortRange: PortRange;
  /** The first usable address of the range: the `kubernetes` Service's ClusterIP, as upstream. */
  readonly kubernetesServiceIP: string;
  /** Reconciles the records with the stored Services (see {@link AllocationRepairReport}). */
  repair(): Promise<AllocationRepairReport>;
}

/** Who holds an allocated value. */
interface Owner {
  namespace: string;
  name: string;
  uid: string;
}

interface AllocationRecord {
  owner: Owner;
  createdAt: number;
}

const ipPrefix = '/registry/networking.k8s.io/ipaddresses/';
const portPrefix = '/registry/internal.cpkit.io/servicenodeports/';
const servicePrefix = '/registry/core/services/';
const randomProbes = 8;

type Loose = { [key: string]: unknown };

function asObject(value: unknown): Loose | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Loose) : undefined;
}

function ownerOf(service: UnstructuredObject): Owner {
  const meta = service.metadata ?? {};
  return {
    namespace: String(meta.namespace ?? ''),
    name: String(meta.name ?? ''),
    uid: String(meta.uid ?? ''),
  };
}

function sameOwner(a: Owner, b: Owner): boolean {
  return a.namespace === b.namespace && a.name === b.name && a.uid === b.uid;
}

function needsClusterIP(type: unknown): boolean {
  return type !== 'ExternalName';
}

function needsNodePorts(spec: Loose): boolean {
  return (
    spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false)
  );
}

function needsHealthCheckPort(spec: Loose): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

function portsOf(spec: Loose): Loose[] {
  return Array.isArray(spec.ports) ? (spec.ports.map(asObject).filter(Boolean) as Loose[]) : [];
}

function isSetPort(value: unknown): value is number {
  return typeof value === 'number' && value !== 0;
}

/** What a service holds: its IPs (not `None`) and node ports (including the health-check port). */
function heldBy(service: UnstructuredObject): { ips: string[]; ports: number[] } {
  const spec = asObject(service.spec) ?? {};
  const ips = new Set<string>();
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && spec.clusterIP !== 'None')
    ips.add(spec.clusterIP);
  for (const ip of Array.isArray(spec.clusterIPs) ? spec.clusterIPs : []) {
    if (typeof ip === 'string' && ip !== '' && ip !== 'None') ips.add(ip);
  }
  const ports = new Set<number>();
  for (const port of portsOf(spec)) if (isSetPort(port.nodePort)) ports.add(port.nodePort);
  if (isSetPort(spec.healthCheckNodePort)) ports.add(spec.healthCheckNodePort);
  return { ips: [...ips], ports: [...ports] };
}

/** Collects what one write allocated and what it frees, to commit or undo as a unit. */
class Transaction {
  /** Keys this write created (undone on failure). */
  readonly claimed: string[] = [];
  /** Keys to release once the write is stored. */
  readonly releaseOnCommit: string[] = [];

  constructor(
    private readonly allocator: StoreServiceAllocator,
    readonly owner: Owner,
    readonly dryRun: boolean,
  ) {}

  finish(): FinishWrite | undefined {
    if (this.claimed.length === 0 && this.releaseOnCommit.length === 0) return undefined;
    return async (stored) => {
      const keys = stored ? this.releaseOnCommit : this.claimed;
      await Promise.allSettled(keys.map((key) => this.allocator.releaseKey(key, this.owner)));
    };
  }

  async revert(): Promise<void> {
    await Promise.allSettled(this.claimed.map((key) => this.allocator.releaseKey(key, this.owner)));
  }
}

/**
 * The default {@link ServiceAllocator}: a {@link RegistryHook} for `v1 Service` that allocates on
 * create and update and releases after delete, recording each value as a store key.
 *
 * Rules (upstream's): types ClusterIP, NodePort and LoadBalancer get `spec.clusterIP` and
 * `spec.clusterIPs` (a requested address when it is in range and free, else 422 Invalid on
 * `spec.clusterIPs`); `None` makes a headless Service with none; ExternalName gets none. NodePort and
 * LoadBalancer (unless `allocateLoadBalancerNodePorts: false`) get a `nodePort` per port (a requested one
 * when free, else 422 `provided port is already allocated`), LoadBalancer with
 * `externalTrafficPolicy: Local` a `healthCheckNodePort`. Changing the type to ClusterIP drops the node
 * ports, to ExternalName the IPs; they are released once the update is stored. A dry run checks and
 * fills in values but records nothing.
 * @category Services
 */
export class StoreServiceAllocator implements ServiceAllocator, RegistryHook {
  readonly name = 'ServiceAllocation';
  readonly ipRange: ServiceIPRange;
  readonly nodePortRange: PortRange;
  readonly kubernetesServiceIP: string;
  private readonly leakGracePeriodMs: number;
  private readonly clock: Clock;
  private repaired: Promise<unknown> | undefined;

  constructor(
    private readonly store: Store,
    options: ServiceAllocationOptions = {},
    clock?: Clock,
  ) {
    this.ipRange = ServiceIPRange.parse(options.serviceClusterIPRange ?? '10.96.0.0/12');
    this.nodePortRange = PortRange.parse(options.nodePortRange ?? '30000-32767');
    this.kubernetesServiceIP = this.ipRange.at(0);
    this.leakGracePeriodMs = options.leakGracePeriodMs ?? 60_000;
    this.clock = clock ?? new SystemClock();
  }

  handles(kind: RegisteredKind): boolean {
    return kind.group === '' && kind.kind === 'Service';
  }

  async beforeCreate(
    service: UnstructuredObject,
    context: RegistryHookContext,
  ): Promise<FinishWrite | undefined> {
    const spec = asObject(service.spec);
    if (context.subresource !== '' || !spec) return undefined;
    await this.ensureRepaired();
    const txn = new Transaction(this, ownerOf(service), context.dryRun);
    try {
      const causes: StatusCause[] = [];
      if (needsClusterIP(spec.type)) await this.assignClusterIP(spec, undefined, txn, causes);
      else checkNoClusterIP(spec, undefined, causes);
      await this.assignNodePorts(spec, undefined, txn, causes);
      if (causes.length > 0) throw invalidService(service, causes);
    } catch (error) {
      await txn.revert();
      throw StatusError.from(error);
    }
    return txn.finish();
  }

  async beforeUpdate(
    service: UnstructuredObject,
    old: UnstructuredObject,
    context: RegistryHookContext,
  ): Promise<FinishWrite | undefined> {
    const spec = asObject(service.spec);
    if (context.subresource !== '' || !spec) return undefined;
    const oldSpec = asObject(old.spec) ?? {};
    await this.ensureRepaired();
    const txn = new Transaction(this, ownerOf(old), context.dryRun);
    try {
      const causes: StatusCause[] = [];
      if (needsClusterIP(spec.type)) await this.assignClusterIP(spec, oldSpec, txn, causes);
      else checkNoClusterIP(spec, oldSpec, causes);
      await this.assignNodePorts(spec, oldSpec, txn, causes);
      if (causes.length > 0) throw invalidService(service, causes);
      // What the old object held and the new one does not is released once the update is stored.
      const kept = heldBy(service);
      const before = heldBy(old);
      for (const ip of before.ips) if (!kept.ips.includes(ip)) txn.releaseOnCommit.push(ipPrefix + ip);
      for (const port of before.ports)
        if (!kept.ports.includes(port)) txn.releaseOnCommit.push(portPrefix + port);
    } catch (error) {
      await txn.revert();
      throw StatusError.from(error);
    }
    return txn.finish();
  }

  async afterDelete(service: UnstructuredObject): Promise<void> {
    const owner = ownerOf(service);
    const { ips, ports } = heldBy(service);
    await Promise.allSettled([
      ...ips.map((ip) => this.releaseKey(ipPrefix + ip, owner)),
      ...ports.map((port) => this.releaseKey(portPrefix + port, owner)),
    ]);
  }

  // ---------------------------------------------------------------------------------------------
  // ClusterIP

  private async assignClusterIP(
    spec: Loose,
    oldSpec: Loose | undefined,
    txn: Transaction,
    causes: StatusCause[],
  ): Promise<void> {
    const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : undefined;
    if (spec.clusterIPs !== undefined && spec.clusterIPs !== null && !ips) {
      causes.push(fieldCauses.invalid('spec.clusterIPs', spec.clusterIPs, 'must be a list of IP addresses'));
      return;
    }
    const first = typeof ips?.[0] === 'string' && ips[0] !== '' ? ips[0] : undefined;
    const single = typeof spec.clusterIP === 'string' && spec.clusterIP !== '' ? spec.clusterIP : undefined;
    if (spec.clusterIP !== undefined && spec.clusterIP !== null && typeof spec.clusterIP !== 'string') {
      causes.push(fieldCauses.invalid('spec.clusterIP', spec.clusterIP, 'must be an IP address or "None"'));
      return;
    }
    if (single && first && single !== first) {
      causes.push(fieldCauses.invalid('spec.clusterIPs', ips, 'element [0] must match clusterIP'));
      return;
    }
    if (ips && ips.length > 1) {
      causes.push(
        fieldCauses.invalid(
          'spec.clusterIPs',
          ips,
          'only one IP family (IPv4) is configured on this cluster',
        ),
      );
      return;
    }
    const requested = single ?? first;
    if (requested === 'None') {
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
        causes.push(
          fieldCauses.invalid('spec.clusterIPs[0]', 'None', `may not be "None" for ${spec.type} services`),
        );
        return;
      }
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
    } else {
      const oldIP = oldSpec && typeof oldSpec.clusterIP === 'string' ? oldSpec.clusterIP : undefined;
      let ip: string | undefined = requested;
      if (ip !== undefined && ip === oldIP) {
        // Kept from the old object: already this Service's.
      } else if (ip !== undefined) {
        if (!this.ipRange.contains(ip)) {
          causes.push(
            fieldCauses.invalid(
              'spec.clusterIPs',
              [ip],
              `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.ipRange.cidr}`,
            ),
          );
          return;
        }
        if (!(await this.claim(ipPrefix + ip, txn, this.ipRecord(ip, txn)))) {
          causes.push(
            fieldCauses.invalid(
              'spec.clusterIPs',
              [ip],
              `failed to allocate IP ${ip}: provided IP is already allocated`,
            ),
          );
          return;
        }
      } else {
        ip = await this.allocateIP(txn);
      }
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }

  private async allocateIP(txn: Transaction): Promise<string> {
    // Offset 0 is the kubernetes Service's and only handed out on request.
    const offset = await this.allocateNext(
      ipPrefix,
      this.ipRange.size - 1,
      (i) => this.ipRange.at(i + 1),
      txn,
      (value) => this.ipRecord(value, txn),
    );
    if (offset === undefined) throw errors.internal('failed to allocate a serviceIP: range is full');
    return offset;
  }

  private ipRecord(ip: string, txn: Transaction): string {
    const now = this.clock.now();
    return JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IPAddress',
      metadata: {
        name: ip,
        uid: crypto.randomUUID(),
        creationTimestamp: formatTimestamp(now),
        labels: {
          'ipaddress.kubernetes.io/ip-family': 'IPv4',
          'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io',
        },
        annotations: { 'cpkit.io/service-uid': txn.owner.uid, 'cpkit.io/allocated-at': String(now) },
      },
      spec: {
        parentRef: { group: '', resource: 'services', namespace: txn.owner.namespace, name: txn.owner.name },
      },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // NodePorts

  private async assignNodePorts(
    spec: Loose,
    oldSpec: Loose | undefined,
    txn: Transaction,
    causes: StatusCause[],
  ): Promise<void> {
    const ports = Array.isArray(spec.ports) ? spec.ports : [];
    const oldPorts = oldSpec ? portsOf(oldSpec) : [];
    const oldNodePorts = new Set(oldPorts.map((p) => p.nodePort).filter(isSetPort));
    const needed = needsNodePorts(spec);
    // Claimed in this write, by number: one service may use one node port for TCP and UDP alike.
    const mine = new Map<number, string>();
    for (let i = 0; i < ports.length; i++) {
      const port = asObject(ports[i]);
      if (!port) continue;
      const field = `spec.ports[${i}].nodePort`;
      const nodePort = port.nodePort;
      if (nodePort !== undefined && nodePort !== null && nodePort !== 0 && !isSetPort(nodePort)) continue; // validation reports it
      if (!needed) {
        // Switching to a type without node ports drops the ones the old object had (upstream's
        // dropTypeDependentFields); a node port the request sets anew is an error.
        if (isSetPort(nodePort) && oldNodePorts.has(nodePort)) delete port.nodePort;
        else if (isSetPort(nodePort))
          causes.push(
            fieldCauses.forbidden(field, `may not be used when \`type\` is '${String(spec.type)}'`),
          );
        continue;
      }
      const protocol = String(port.protocol ?? 'TCP');
      if (isSetPort(nodePort)) {
        const clash = mine.get(nodePort);
        if (clash !== undefined) {
          if (clash === protocol) causes.push(fieldCauses.duplicate(field, nodePort));
          continue;
        }
        mine.set(nodePort, protocol);
        if (oldNodePorts.has(nodePort)) continue;
        if (!this.nodePortRange.contains(nodePort)) {
          causes.push(
            fieldCauses.invalid(
              field,
              nodePort,
              `provided port is not in the valid range. The range of valid ports is ${this.nodePortRange}`,
            ),
          );
          continue;
        }
        if (!(await this.claim(portPrefix + nodePort, txn, this.portRecord(txn))))
          causes.push(fieldCauses.invalid(field, nodePort, 'provided port is already allocated'));
        continue;
      }
      // Left out on update (kubectl apply of a manifest without it): keep the old port of the same
      // port number and protocol, as upstream does, else allocate.
      const previous = oldPorts.find(
        (p) => p.port === port.port && String(p.protocol ?? 'TCP') === protocol && isSetPort(p.nodePort),
      )?.nodePort as number | undefined;
      if (previous !== undefined && !mine.has(previous)) {
        port.nodePort = previous;
        mine.set(previous, protocol);
        continue;
      }
      const allocated = await this.allocatePort(txn);
      port.nodePort = allocated;
      mine.set(allocated, protocol);
    }
    // The health-check port follows the same rules.
    const health = spec.healthCheckNodePort;
    const oldHealth = oldSpec?.healthCheckNodePort;
    if (!needsHealthCheckPort(spec)) {
      if (isSetPort(health) && health === oldHealth) delete spec.healthCheckNodePort;
      else if (isSetPort(health))
        causes.push(
          fieldCauses.invalid(
            'spec.healthCheckNodePort',
            health,
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
          ),
        );
    } else if (isSetPort(health)) {
      if (health !== oldHealth) {
        if (mine.has(health) || !(await this.claim(portPrefix + health, txn, this.portRecord(txn))))
          causes.push(
            fieldCauses.invalid('spec.healthCheckNodePort', health, 'provided port is already allocated'),
          );
      }
    } else if (isSetPort(oldHealth)) {
      spec.healthCheckNodePort = oldHealth;
    } else {
      spec.healthCheckNodePort = await this.allocatePort(txn);
    }
  }

  private async allocatePort(txn: Transaction): Promise<number> {
    const port = await this.allocateNext(
      portPrefix,
      this.nodePortRange.size,
      (i) => String(this.nodePortRange.base + i),
      txn,
      () => this.portRecord(txn),
    );
    if (port === undefined) throw errors.internal('failed to allocate a nodePort: range is full');
    return Number(port);
  }

  private portRecord(txn: Transaction): string {
    return JSON.stringify({ owner: txn.owner, createdAt: this.clock.now() } satisfies AllocationRecord);
  }

  // ---------------------------------------------------------------------------------------------
  // Records

  /**
   * Picks a free value: a few random probes (cheap while the range is mostly free), then a scan of
   * the recorded values from a random start (finds the last free ones, and proves the range full).
   * Each candidate is taken with `store.create`, so a value another process takes meanwhile is skipped.
   */
  private async allocateNext(
    prefix: string,
    size: number,
    valueAt: (index: number) => string,
    txn: Transaction,
    record: (value: string) => string,
  ): Promise<string | undefined> {
    if (size <= 0) return undefined;
    for (let probe = 0; probe < Math.min(randomProbes, size); probe++) {
      const value = valueAt(Math.floor(Math.random() * size));
      if (await this.claim(prefix + value, txn, record(value), false)) return value;
    }
    const used = new Set<string>();
    for (const entry of await this.listAll(prefix)) used.add(entry.key.slice(prefix.length));
    const start = Math.floor(Math.random() * size);
    for (let i = 0; i < size; i++) {
      const value = valueAt((start + i) % size);
      if (used.has(value)) continue;
      if (await this.claim(prefix + value, txn, record(value), false)) return value;
    }
    return undefined;
  }

  /**
   * Takes `key` for the transaction's owner. True when taken now or already held by the same owner;
   * false when someone else holds it. A dry run only looks.
   */
  private async claim(key: string, txn: Transaction, value: string, acceptOwn = true): Promise<boolean> {
    if (txn.dryRun) {
      const existing = await this.readRecord(key);
      return existing === undefined || (acceptOwn && sameOwner(existing.owner, txn.owner));
    }
    try {
      await this.store.create(key, value);
      txn.claimed.push(key);
      return true;
    } catch (error) {
      if (!isStatusError(error, 'AlreadyExists')) throw StatusError.from(error);
      if (!acceptOwn) return false;
      const existing = await this.readRecord(key);
      return existing !== undefined && sameOwner(existing.owner, txn.owner);
    }
  }

  /** Deletes `key` if `owner` holds it (never another Service's allocation). @internal */
  async releaseKey(key: string, owner: Owner): Promise<void> {
    let entry: StoreEntry;
    try {
      entry = await this.store.get(key);
    } catch (error) {
      if (isStatusError(error, 'NotFound')) return;
      throw error;
    }
    const record = parseRecord(entry.value);
    if (!record || !sameOwner(record.owner, owner)) return;
    try {
      await this.store.delete(key, { expectedRevision: entry.modRevision });
    } catch (error) {
      // Gone or changed meanwhile: someone else released or re-took it.
      if (!isStatusError(error, 'NotFound') && !isStatusError(error, 'Conflict')) throw error;
    }
  }

  private async readRecord(key: string): Promise<AllocationRecord | undefined> {
    try {
      return parseRecord((await this.store.get(key)).value);
    } catch (error) {
      if (isStatusError(error, 'NotFound')) return undefined;
      throw StatusError.from(error);
    }
  }

  private async listAll(prefix: string): Promise<StoreEntry[]> {
    const entries: StoreEntry[] = [];
    let token: string | undefined;
    do {
      const page = await this.store.list(prefix, { limit: 1000, continue: token });
      entries.push(...page.items);
      token = page.continue;
    } while (token);
    return entries;
  }

  // ---------------------------------------------------------------------------------------------
  // Repair

  private ensureRepaired(): Promise<unknown> {
    this.repaired ??= this.repair().catch((error: unknown) => {
      // Retried by the next write; allocation itself stays safe without repair.
      this.repaired = undefined;
      throw StatusError.from(error);
    });
    return this.repaired;
  }

  async repair(): Promise<AllocationRepairReport> {
    const report: AllocationRepairReport = { recorded: [], released: [], conflicts: [] };
    const holders = new Map<string, Owner>();
    for (const entry of await this.listAll(servicePrefix)) {
      let service: UnstructuredObject;
      try {
        service = JSON.parse(entry.value) as UnstructuredObject;
      } catch {
        continue;
      }
      const owner = ownerOf(service);
      const { ips, ports } = heldBy(service);
      const keys = [
        ...ips.filter((ip) => this.ipRange.contains(ip)).map((ip) => ipPrefix + ip),
        ...ports.filter((port) => this.nodePortRange.contains(port)).map((port) => portPrefix + port),
      ];
      for (const key of keys) {
        const label = key.slice(key.lastIndexOf('/') + 1);
        const other = holders.get(key);
        if (other) {
          report.conflicts.push(`${label} ${other.namespace}/${other.name} ${owner.namespace}/${owner.name}`);
          continue;
        }
        holders.set(key, owner);
        const txn = new Transaction(this, owner, false);
        const record = key.startsWith(ipPrefix) ? this.ipRecord(label, txn) : this.portRecord(txn);
        if (await this.claim(key, txn, record)) {
          if (txn.claimed.length > 0) report.recorded.push(label);
        } else {
          report.conflicts.push(`${label} ${owner.namespace}/${owner.name}`);
        }
      }
    }
    const now = this.clock.now();
    for (const prefix of [ipPrefix, portPrefix]) {
      for (const entry of await this.listAll(prefix)) {
        const holder = holders.get(entry.key);
        const record = parseRecord(entry.value);
        if (holder && record && sameOwner(holder, record.owner)) continue;
        if (record && now - record.createdAt < this.leakGracePeriodMs) continue;
        try {
          await this.store.delete(entry.key, { expectedRevision: entry.modRevision });
          report.released.push(entry.key.slice(prefix.length));
        } catch (error) {
          if (!isStatusError(error, 'NotFound') && !isStatusError(error, 'Conflict')) throw error;
        }
      }
    }
    return report;
  }
}

/** Reads either record shape (IPAddress object or node-port record) into owner + time. */
function parseRecord(value: string): AllocationRecord | undefined {
  let parsed: Loose;
  try {
    parsed = JSON.parse(value) as Loose;
  } catch {
    return undefined;
  }
  const owner = asObject(parsed.owner);
  if (owner) {
    return {
      owner: {
        namespace: String(owner.namespace ?? ''),
        name: String(owner.name ?? ''),
        uid: String(owner.uid ?? ''),
      },
      createdAt: Number(parsed.createdAt ?? 0),
    };
  }
  const parent = asObject(asObject(parsed.spec)?.parentRef);
  const annotations = asObject(asObject(parsed.metadata)?.annotations) ?? {};
  if (!parent) return undefined;
  return {
    owner: {
      namespace: String(parent.namespace ?? ''),
      name: String(parent.name ?? ''),
      uid: String(annotations['cpkit.io/service-uid'] ?? ''),
    },
    createdAt: Number(annotations['cpkit.io/allocated-at'] ?? 0),
  };
}

function checkNoClusterIP(spec: Loose, oldSpec: Loose | undefined, causes: StatusCause[]): void {
  // Changing to ExternalName drops the IPs the old object had (released once stored).
  const oldIP = oldSpec?.clusterIP;
  if (spec.clusterIP === undefined || spec.clusterIP === '' || spec.clusterIP === oldIP) {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    delete spec.ipFamilies;
    delete spec.ipFamilyPolicy;
    return;
  }
  causes.push(fieldCauses.forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
}

function invalidService(service: UnstructuredObject, causes: StatusCause[]): StatusError {
  return errors.invalid('Service', String(service.metadata?.name ?? ''), causes);
}
