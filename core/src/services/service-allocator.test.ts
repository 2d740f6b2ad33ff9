// SPDX-License-Identifier: Apache-2.0
import { EmbeddedStore } from '@cpkit/store-embedded';
import { afterEach, describe, expect, it } from 'vitest';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import type { UnstructuredObject } from '../api/object.js';
import { DefaultScheme } from '../api/scheme.js';
import type { Store } from '../contracts/store.js';
import { StatusError } from '../errors/status-error.js';
import { StoreRegistry } from '../registry/registry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { expectStatusError } from '../testing/status-rejection.js';
import { PortRange, ServiceIPRange } from './ranges.js';
import { type ServiceAllocationOptions, StoreServiceAllocator } from './service-allocator.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const clock = new FakeClock(Date.UTC(2026, 0, 1));

async function openStore(): Promise<EmbeddedStore> {
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  cleanups.push(() => store.close());
  return store;
}

/** A registry with Service allocation on `store`; namespaces `default` and `other` are ensured. */
async function registryOn(store: Store, options: ServiceAllocationOptions = {}) {
  const scheme = new DefaultScheme();
  registerBuiltinKinds(scheme);
  const allocator = new StoreServiceAllocator(store, options, clock);
  const registry = new StoreRegistry(store, scheme, clock, { hooks: [allocator] });
  for (const name of ['default', 'other']) {
    await registry
      .create<UnstructuredObject>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })
      .catch((error: StatusError) => {
        if (error.reason !== 'AlreadyExists') throw error;
      });
  }
  return { registry, allocator, store };
}

async function setup(options: ServiceAllocationOptions = {}) {
  return registryOn(await openStore(), options);
}

type Spec = Record<string, unknown>;

function service(name: string, spec: Spec = {}, namespace = 'default'): UnstructuredObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { ports: [{ port: 80 }], ...spec },
  };
}

const specOf = (object: UnstructuredObject) => object.spec as Spec & { ports: Spec[] };

async function recordedKeys(store: Store, prefix: string): Promise<string[]> {
  return (await store.list(prefix)).items.map((entry) => entry.key.slice(entry.key.lastIndexOf('/') + 1));
}
const ipKeys = (store: Store) => recordedKeys(store, '/registry/networking.k8s.io/ipaddresses/');
const portKeys = (store: Store) => recordedKeys(store, '/registry/internal.cpkit.io/servicenodeports/');

describe('ranges', () => {
  it('parses a CIDR and leaves out the network and broadcast addresses', () => {
    const range = ServiceIPRange.parse('10.96.0.0/12');
    expect(range.cidr).toBe('10.96.0.0/12');
    expect(range.at(0)).toBe('10.96.0.1');
    expect(range.size).toBe(2 ** 20 - 2);
    expect(range.contains('10.111.255.254')).toBe(true);
    expect(range.contains('10.111.255.255')).toBe(false);
    expect(range.contains('10.96.0.0')).toBe(false);
    expect(range.contains('10.95.255.255')).toBe(false);
    expect(ServiceIPRange.parse('192.168.1.77/24').cidr).toBe('192.168.1.0/24');
  });

  it.each(['10.96.0.0', '10.96.0.0/33', '10.96.0.0/31', 'fd00::/108', '10.96.0.256/12', '010.1.1.1/8'])(
    'rejects the CIDR %s',
    (cidr) => {
      expect(() => ServiceIPRange.parse(cidr)).toThrow(TypeError);
    },
  );

  it('parses port ranges', () => {
    const range = PortRange.parse('30000-32767');
    expect([range.base, range.size, range.toString()]).toEqual([30000, 2768, '30000-32767']);
    expect(range.contains(32767)).toBe(true);
    expect(range.contains(32768)).toBe(false);
    for (const bad of ['0-10', '10-5', '1-70000', 'x']) expect(() => PortRange.parse(bad)).toThrow(TypeError);
  });
});

describe('ClusterIP allocation', () => {
  it('gives ClusterIP, NodePort and LoadBalancer services an IP from the range, recorded as an IPAddress', async () => {
    const { registry, store } = await setup();
    const ips: string[] = [];
    for (const [name, type] of [
      ['a', 'ClusterIP'],
      ['b', 'NodePort'],
      ['c', 'LoadBalancer'],
    ]) {
      const created = await registry.create<UnstructuredObject>(service(name as string, { type }));
      const spec = specOf(created);
      expect(ServiceIPRange.parse('10.96.0.0/12').contains(spec.clusterIP as string)).toBe(true);
      expect(spec.clusterIP).not.toBe('10.96.0.1');
      expect(spec.clusterIPs).toEqual([spec.clusterIP]);
      expect(spec.ipFamilies).toEqual(['IPv4']);
      expect(spec.ipFamilyPolicy).toBe('SingleStack');
      ips.push(spec.clusterIP as string);
    }
    expect(new Set(ips).size).toBe(3);
    expect((await ipKeys(store)).sort()).toEqual([...ips].sort());
    const record = JSON.parse(
      (await store.get(`/registry/networking.k8s.io/ipaddresses/${ips[0]}`)).value,
    ) as UnstructuredObject;
    expect(record).toMatchObject({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IPAddress',
      metadata: { name: ips[0] },
      spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'a' } },
    });
  });

  it('gives headless and ExternalName services no IP', async () => {
    const { registry, store } = await setup();
    const headless = await registry.create<UnstructuredObject>(service('h', { clusterIP: 'None' }));
    expect(specOf(headless).clusterIP).toBe('None');
    expect(specOf(headless).clusterIPs).toEqual(['None']);
    const external = await registry.create<UnstructuredObject>(
      service('e', { type: 'ExternalName', externalName: 'example.com', ports: undefined }),
    );
    expect(specOf(external).clusterIP).toBeUndefined();
    expect(await ipKeys(store)).toEqual([]);
    const error = await expectStatusError(
      registry.create<UnstructuredObject>(service('n', { type: 'NodePort', clusterIP: 'None' })),
    );
    expect(error.reason).toBe('Invalid');
  });

  it('honours a requested IP that is free and in range, and answers 422 with a field cause otherwise', async () => {
    const { registry, store } = await setup({ serviceClusterIPRange: '10.0.0.0/24' });
    const first = await registry.create<UnstructuredObject>(service('a', { clusterIP: '10.0.0.10' }));
    expect(specOf(first).clusterIPs).toEqual(['10.0.0.10']);
    const taken = await expectStatusError(
      registry.create<UnstructuredObject>(service('b', { clusterIP: '10.0.0.10' })),
    );
    expect(taken.reason).toBe('Invalid');
    expect(taken.code).toBe(422);
    expect(taken.details?.causes?.[0]).toMatchObject({
      field: 'spec.clusterIPs',
      message: expect.stringContaining('provided IP is already allocated'),
    });
    const outside = await expectStatusError(
      registry.create<UnstructuredObject>(service('c', { clusterIPs: ['10.1.0.10'] })),
    );
    expect(outside.reason).toBe('Invalid');
    expect(outside.details?.causes?.[0]?.message).toContain('The range of valid IPs is 10.0.0.0/24');
    // The failed creates stored nothing and recorded nothing.
    expect(await ipKeys(store)).toEqual(['10.0.0.10']);
    expect((await registry.list('services')).items.map((s) => s.metadata?.name)).toEqual(['a']);
  });

  it('hands the first IP only to whoever asks for it (the kubernetes service)', async () => {
    const { registry, allocator } = await setup({ serviceClusterIPRange: '10.0.0.0/29' });
    expect(allocator.kubernetesServiceIP).toBe('10.0.0.1');
    const ips = [];
    for (let i = 0; i < 5; i++) {
      ips.push(specOf(await registry.create<UnstructuredObject>(service(`s${i}`))).clusterIP);
    }
    expect(ips).not.toContain('10.0.0.1');
    const kubernetes = await registry.create<UnstructuredObject>(
      service('kubernetes', { clusterIP: '10.0.0.1' }),
    );
    expect(specOf(kubernetes).clusterIP).toBe('10.0.0.1');
  });

  it('fails with a range-full error when the range is exhausted, storing nothing', async () => {
    const { registry, store } = await setup({ serviceClusterIPRange: '10.0.0.0/29' });
    // 6 usable addresses, the first kept for the kubernetes service: 5 to hand out.
    for (let i = 0; i < 5; i++) await registry.create<UnstructuredObject>(service(`s${i}`));
    const before = await store.currentRevision();
    const full = await expectStatusError(registry.create<UnstructuredObject>(service('one-too-many')));
    expect(full.reason).toBe('InternalError');
    expect(full.message).toContain('failed to allocate a serviceIP: range is full');
    expect(await store.currentRevision()).toBe(before);
  });

  it('releases the IP on delete so it can be reused', async () => {
    const { registry, store } = await setup({ serviceClusterIPRange: '10.0.0.0/29' });
    for (let i = 0; i < 5; i++) await registry.create<UnstructuredObject>(service(`s${i}`));
    const victim = await registry.get<UnstructuredObject>('services', 's2', { namespace: 'default' });
    await registry.delete('services', 's2', { namespace: 'default' });
    expect(await ipKeys(store)).not.toContain(specOf(victim).clusterIP);
    const reused = await registry.create<UnstructuredObject>(service('again'));
    expect(specOf(reused).clusterIP).toBe(specOf(victim).clusterIP);
  });

  it('keeps the IP while a finalizer holds the service and releases it once it is gone', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(service('held', {}, 'default'));
    const ip = specOf(created).clusterIP as string;
    await registry.patch(
      'services',
      'held',
      'merge',
      { metadata: { finalizers: ['example.com/hold'] } },
      {
        namespace: 'default',
      },
    );
    await registry.delete('services', 'held', { namespace: 'default' });
    expect(await ipKeys(store)).toContain(ip);
    await registry.patch(
      'services',
      'held',
      'merge',
      { metadata: { finalizers: null } },
      { namespace: 'default' },
    );
    expect(await ipKeys(store)).not.toContain(ip);
  });

  it('rolls the allocation back when the create fails after it (name taken, invalid object)', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(service('a'));
    const before = await ipKeys(store);
    expect((await expectStatusError(registry.create<UnstructuredObject>(service('a')))).reason).toBe(
      'AlreadyExists',
    );
    const invalid = await expectStatusError(
      registry.create<UnstructuredObject>(service('b', { ports: [{ port: 70000 }] })),
    );
    expect(invalid.reason).toBe('Invalid');
    expect(await ipKeys(store)).toEqual(before);
  });

  it('does not record anything for a dry run, but fills in the values', async () => {
    const { registry, store } = await setup();
    const before = await store.currentRevision();
    const dry = await registry.create<UnstructuredObject>(service('d', { type: 'NodePort' }), {
      dryRun: ['All'],
    });
    expect(specOf(dry).clusterIP).toMatch(/^10\./);
    expect(specOf(dry).ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(await store.currentRevision()).toBe(before);
    // A dry run still reports a conflict with a real allocation.
    const real = await registry.create<UnstructuredObject>(service('r', { clusterIP: '10.96.0.50' }));
    expect(specOf(real).clusterIP).toBe('10.96.0.50');
    const conflict = await expectStatusError(
      registry.create<UnstructuredObject>(service('d', { clusterIP: '10.96.0.50' }), { dryRun: ['All'] }),
    );
    expect(conflict.reason).toBe('Invalid');
    // A dry-run delete releases nothing.
    await registry.delete('services', 'r', { namespace: 'default', dryRun: ['All'] });
    expect(await ipKeys(store)).toEqual(['10.96.0.50']);
  });

  it('drops the IP when the type changes to ExternalName and releases it once stored', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(service('x'));
    const ip = specOf(created).clusterIP as string;
    const changed = await registry.patch<UnstructuredObject>(
      'services',
      'x',
      'merge',
      { spec: { type: 'ExternalName', externalName: 'example.com' } },
      { namespace: 'default' },
    );
    expect(specOf(changed).clusterIP).toBeUndefined();
    expect(specOf(changed).clusterIPs).toBeUndefined();
    expect(await ipKeys(store)).not.toContain(ip);
    // And back: a fresh IP.
    const back = await registry.patch<UnstructuredObject>(
      'services',
      'x',
      'merge',
      { spec: { type: 'ClusterIP', externalName: null } },
      { namespace: 'default' },
    );
    expect(await ipKeys(store)).toEqual([specOf(back).clusterIP]);
  });

  it('never hands one IP to two of many parallel creates', async () => {
    const { registry, store } = await setup({ serviceClusterIPRange: '10.0.0.0/26' });
    // 61 addresses to hand out, 80 creates: exactly 61 succeed, with distinct IPs.
    const results = await Promise.allSettled(
      Array.from({ length: 80 }, (_, i) => registry.create<UnstructuredObject>(service(`p${i}`))),
    );
    const ips = results.flatMap((r) => (r.status === 'fulfilled' ? [specOf(r.value).clusterIP] : []));
    expect(ips.length).toBe(61);
    expect(new Set(ips).size).toBe(61);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as StatusError).message).toContain('range is full');
    }
    expect((await ipKeys(store)).length).toBe(61);
  });

  it('never hands one IP to services created through two registries on one store', async () => {
    const store = await openStore();
    const one = await registryOn(store, { serviceClusterIPRange: '10.0.0.0/27' });
    const two = await registryOn(store, { serviceClusterIPRange: '10.0.0.0/27' });
    // 29 addresses to hand out, 40 creates split over both registries.
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? one : two).registry.create<UnstructuredObject>(service(`q${i}`)),
      ),
    );
    const ips = results.flatMap((r) => (r.status === 'fulfilled' ? [specOf(r.value).clusterIP] : []));
    expect(ips.length).toBe(29);
    expect(new Set(ips).size).toBe(29);
    // A delete through one frees the IP for the other.
    const name = results.findIndex((r) => r.status === 'fulfilled');
    await one.registry.delete('services', `q${name}`, { namespace: 'default' });
    const reused = await two.registry.create<UnstructuredObject>(service('late'));
    expect(ips).toContain(specOf(reused).clusterIP);
  });
});

describe('NodePort allocation', () => {
  it('allocates one node port per port for NodePort and LoadBalancer services', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(
      service('np', {
        type: 'NodePort',
        ports: [
          { name: 'http', port: 80 },
          { name: 'https', port: 443 },
        ],
      }),
    );
    const ports = specOf(created).ports.map((p) => p.nodePort as number);
    expect(new Set(ports).size).toBe(2);
    for (const port of ports) expect(port >= 30000 && port <= 32767).toBe(true);
    expect((await portKeys(store)).map(Number).sort()).toEqual([...ports].sort());
    const lb = await registry.create<UnstructuredObject>(
      service('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }),
    );
    expect(specOf(lb).ports[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(specOf(lb).healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    const noPorts = await registry.create<UnstructuredObject>(
      service('lb2', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }),
    );
    expect(specOf(noPorts).ports[0]?.nodePort).toBeUndefined();
    const plain = await registry.create<UnstructuredObject>(service('cip'));
    expect(specOf(plain).ports[0]?.nodePort).toBeUndefined();
    expect((await portKeys(store)).length).toBe(4);
  });

  it('honours a requested node port, refuses a taken or out-of-range one with 422', async () => {
    const { registry } = await setup();
    const first = await registry.create<UnstructuredObject>(
      service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
    );
    expect(specOf(first).ports[0]?.nodePort).toBe(30080);
    const taken = await expectStatusError(
      registry.create<UnstructuredObject>(
        service('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
      ),
    );
    expect(taken.reason).toBe('Invalid');
    expect(taken.details?.causes).toEqual([
      expect.objectContaining({
        field: 'spec.ports[0].nodePort',
        message: 'Invalid value: 30080: provided port is already allocated',
      }),
    ]);
    const outside = await expectStatusError(
      registry.create<UnstructuredObject>(
        service('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }),
      ),
    );
    expect(outside.details?.causes?.[0]?.message).toContain('The range of valid ports is 30000-32767');
    const onClusterIP = await expectStatusError(
      registry.create<UnstructuredObject>(service('d', { ports: [{ port: 80, nodePort: 30081 }] })),
    );
    expect(onClusterIP.details?.causes?.[0]?.field).toBe('spec.ports[0].nodePort');
  });

  it('lets one service use one node port for TCP and UDP of the same port', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(
      service('dns', {
        type: 'NodePort',
        ports: [
          { name: 'tcp', port: 53, protocol: 'TCP', nodePort: 30053 },
          { name: 'udp', port: 53, protocol: 'UDP', nodePort: 30053 },
        ],
      }),
    );
    expect(specOf(created).ports.map((p) => p.nodePort)).toEqual([30053, 30053]);
    expect(await portKeys(store)).toEqual(['30053']);
  });

  it('fails when the node-port range is exhausted and rolls back the IP', async () => {
    const { registry, store } = await setup({ nodePortRange: '30000-30002' });
    await registry.create<UnstructuredObject>(
      service('a', {
        type: 'NodePort',
        ports: [
          { name: 'a', port: 1 },
          { name: 'b', port: 2 },
          { name: 'c', port: 3 },
        ],
      }),
    );
    const ipsBefore = await ipKeys(store);
    const full = await expectStatusError(
      registry.create<UnstructuredObject>(service('b', { type: 'NodePort' })),
    );
    expect(full.message).toContain('failed to allocate a nodePort: range is full');
    expect(await ipKeys(store)).toEqual(ipsBefore);
  });

  it('keeps node ports across an update that leaves them out, drops them on a change to ClusterIP', async () => {
    const { registry, store } = await setup();
    const created = await registry.create<UnstructuredObject>(service('np', { type: 'NodePort' }));
    const nodePort = specOf(created).ports[0]?.nodePort;
    // kubectl apply of the original manifest: no nodePort in the request.
    const replaced = await registry.update<UnstructuredObject>({
      ...service('np', { type: 'NodePort', ports: [{ port: 80 }] }),
    });
    expect(specOf(replaced).ports[0]?.nodePort).toBe(nodePort);
    expect(await portKeys(store)).toEqual([String(nodePort)]);
    const changed = await registry.patch<UnstructuredObject>(
      'services',
      'np',
      'merge',
      { spec: { type: 'ClusterIP' } },
      { namespace: 'default' },
    );
    expect(specOf(changed).ports[0]?.nodePort).toBeUndefined();
    expect(await portKeys(store)).toEqual([]);
  });

  it('allocates a changed node port and releases the old one; a failed update leaves both as they were', async () => {
    const { registry, store } = await setup();
    await registry.create<UnstructuredObject>(
      service('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] }),
    );
    await registry.create<UnstructuredObject>(
      service('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30002 }] }),
    );
    await registry.patch(
      'services',
      'a',
      'json',
      [{ op: 'replace', path: '/spec/ports/0/nodePort', value: 30003 }],
      { namespace: 'default' },
    );
    expect((await portKeys(store)).sort()).toEqual(['30002', '30003']);
    const clash = await expectStatusError(
      registry.patch(
        'services',
        'a',
        'json',
        [{ op: 'replace', path: '/spec/ports/0/nodePort', value: 30002 }],
        {
          namespace: 'default',
        },
      ),
    );
    expect(clash.message).toBe(
      'Service "a" is invalid: spec.ports[0].nodePort: Invalid value: 30002: provided port is already allocated',
    );
    expect((await portKeys(store)).sort()).toEqual(['30002', '30003']);
    // A stale update (Conflict) rolls back what it claimed.
    const current = await registry.get<UnstructuredObject>('services', 'a', { namespace: 'default' });
    await registry.patch(
      'services',
      'a',
      'merge',
      { metadata: { labels: { x: 'y' } } },
      { namespace: 'default' },
    );
    const stale = structuredClone(current);
    specOf(stale).ports[0] = { port: 80, nodePort: 30004, protocol: 'TCP', targetPort: 80 };
    expect((await expectStatusError(registry.update(stale))).reason).toBe('Conflict');
    expect((await portKeys(store)).sort()).toEqual(['30002', '30003']);
  });
});

describe('repair', () => {
  it('records allocations services hold without a record and releases old leaked records', async () => {
    const store = await openStore();
    // A service written before allocation existed (no records), and a leaked record of a crashed create.
    const plain = new StoreRegistry(
      store,
      (() => {
        const scheme = new DefaultScheme();
        registerBuiltinKinds(scheme);
        return scheme;
      })(),
      clock,
    );
    await plain.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'default' },
    });
    await plain.create<UnstructuredObject>(
      service('old', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30020 }] }),
    );
    await store.create(
      '/registry/internal.cpkit.io/servicenodeports/30099',
      JSON.stringify({
        owner: { namespace: 'default', name: 'gone', uid: 'x' },
        createdAt: clock.now() - 120_000,
      }),
    );
    await store.create(
      '/registry/internal.cpkit.io/servicenodeports/30098',
      JSON.stringify({
        owner: { namespace: 'default', name: 'in-flight', uid: 'y' },
        createdAt: clock.now(),
      }),
    );
    const allocator = new StoreServiceAllocator(store, {}, clock);
    const report = await allocator.repair();
    expect(report.recorded.sort()).toEqual(['10.96.0.20', '30020']);
    expect(report.released).toEqual(['30099']);
    expect(report.conflicts).toEqual([]);
    // The young record may belong to a create in flight elsewhere: kept.
    expect((await portKeys(store)).sort()).toEqual(['30020', '30098']);
    // Now the recorded values are protected.
    const { registry } = await registryOn(store);
    const taken = await expectStatusError(
      registry.create<UnstructuredObject>(service('new', { clusterIP: '10.96.0.20' })),
    );
    expect(taken.reason).toBe('Invalid');
  });
});
