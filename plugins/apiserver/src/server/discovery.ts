// SPDX-License-Identifier: Apache-2.0
import type { RegisteredKind, Scheme } from '@cpkit/core';

/** The media type kubectl asks for (and must get back verbatim) for aggregated discovery. @category API server */
export const aggregatedDiscoveryContentType =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** The Kubernetes version the server reports: kubectl's dispatcher picks its client minor from it. */
export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
} as const;

/**
 * Subresources this server really serves, with their verbs; only these are advertised. `binding`
 * (pods) is create-only, as upstream: the scheduler POSTs a Binding.
 */
export const servedSubresourceVerbs: ReadonlyMap<string, readonly string[]> = new Map([
  ['status', ['get', 'patch', 'update']],
  ['scale', ['get', 'patch', 'update']],
  ['binding', ['create']],
  // namespaces/finalize: PUT only, as upstream (HttpApiClient applies a finalize patch client-side).
  ['finalize', ['update']],
]);

/** The names of {@link servedSubresourceVerbs}. */
export const servedSubresources: ReadonlySet<string> = new Set(servedSubresourceVerbs.keys());

/** The kind a subresource reads and writes: `scale` is always autoscaling/v1 Scale, `binding` v1 Binding. */
function subresourceKind(
  kind: RegisteredKind,
  subresource: string,
): { group: string; version: string; kind: string } {
  if (subresource === 'scale') return { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  if (subresource === 'binding') return { group: '', version: 'v1', kind: 'Binding' };
  return { group: kind.group, version: kind.version, kind: kind.kind };
}

const verbsOf = (subresource: string): string[] => [...(servedSubresourceVerbs.get(subresource) ?? [])];

const resourceVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface GroupVersions {
  group: string;
  versions: string[];
}

/** Groups in registration order, each with its versions in registration order (first = preferred). */
export function groupVersions(scheme: Scheme): GroupVersions[] {
  const groups = new Map<string, string[]>();
  for (const kind of scheme.kinds()) {
    const versions = groups.get(kind.group) ?? [];
    if (!versions.includes(kind.version)) versions.push(kind.version);
    groups.set(kind.group, versions);
  }
  return [...groups].map(([group, versions]) => ({ group, versions }));
}

function kindsOf(scheme: Scheme, group: string, version: string): RegisteredKind[] {
  return scheme.kinds().filter((kind) => kind.group === group && kind.version === version);
}

/** `GET /api`: APIVersions. */
export function apiVersions(scheme: Scheme, serverAddress: string): object {
  const core = groupVersions(scheme).find((g) => g.group === '');
  return {
    kind: 'APIVersions',
    versions: core?.versions ?? [],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** `GET /apis`: APIGroupList of the named groups. */
export function apiGroupList(scheme: Scheme): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupVersions(scheme)
      .filter((g) => g.group !== '')
      .map(({ group, versions }) => ({
        name: group,
        versions: versions.map((version) => ({ groupVersion: `${group}/${version}`, version })),
        preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
      })),
  };
}

/** `GET /apis/<g>` : one APIGroup, or undefined when the group is not served. */
export function apiGroup(scheme: Scheme, group: string): object | undefined {
  const found = groupVersions(scheme).find((g) => g.group === group && group !== '');
  if (!found) return undefined;
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: found.versions.map((version) => ({ groupVersion: `${group}/${version}`, version })),
    preferredVersion: { groupVersion: `${group}/${found.versions[0]}`, version: found.versions[0] },
  };
}

/** `GET /api/v1`, `GET /apis/<g>/<v>`: APIResourceList, or undefined when nothing is served there. */
export function apiResourceList(scheme: Scheme, group: string, version: string): object | undefined {
  const kinds = kindsOf(scheme, group, version);
  if (kinds.length === 0) return undefined;
  const resources: object[] = [];
  for (const kind of kinds) {
    resources.push({
      name: kind.resource,
      singularName: kind.singular,
      namespaced: kind.namespaced,
      kind: kind.kind,
      verbs: resourceVerbs,
      ...(kind.shortNames.length > 0 ? { shortNames: [...kind.shortNames] } : {}),
      ...(kind.categories.length > 0 ? { categories: [...kind.categories] } : {}),
    });
    for (const subresource of kind.subresources) {
      if (!servedSubresources.has(subresource)) continue;
      const responseKind = subresourceKind(kind, subresource);
      resources.push({
        name: `${kind.resource}/${subresource}`,
        singularName: '',
        namespaced: kind.namespaced,
        ...(subresource === 'scale' ? { group: responseKind.group, version: responseKind.version } : {}),
        kind: responseKind.kind,
        verbs: verbsOf(subresource),
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

/** Aggregated discovery (apidiscovery.k8s.io/v2) for the core group (`legacy`) or the named groups. */
export function apiGroupDiscoveryList(scheme: Scheme, legacy: boolean): object {
  const items = groupVersions(scheme)
    .filter((g) => (legacy ? g.group === '' : g.group !== ''))
    .map(({ group, versions }) => ({
      metadata: { name: group },
      versions: versions.map((version) => ({
        version,
        freshness: 'Current',
        resources: kindsOf(scheme, group, version).map((kind) => ({
          resource: kind.resource,
          responseKind: { group, version, kind: kind.kind },
          scope: kind.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: kind.singular,
          verbs: resourceVerbs,
          ...(kind.shortNames.length > 0 ? { shortNames: [...kind.shortNames] } : {}),
          ...(kind.categories.length > 0 ? { categories: [...kind.categories] } : {}),
          subresources: kind.subresources
            .filter((s) => servedSubresources.has(s))
            .map((subresource) => ({
              subresource,
              responseKind: subresourceKind(kind, subresource),
              verbs: verbsOf(subresource),
            })),
        })),
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}
