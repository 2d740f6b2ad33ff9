// SPDX-License-Identifier: Apache-2.0
// A minimal OpenAPI v3: per group-version documents listing each kind's object path with a PATCH
// operation that names its GroupVersionKind and accepts `fieldValidation`. That is what kubectl's
// default validation looks for before it trusts the server (instead of downloading OpenAPI v2 in
// protobuf). There are no schemas yet, so `kubectl explain` does not work.
import { createHash } from 'node:crypto';
import type { Scheme } from '@cpkit/core';
import { groupVersions } from './discovery.js';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** `GET /openapi/v3/<api/v1 | apis/g/v>`: the document, or undefined when the GV is not served. */
export function openApiV3Document(scheme: Scheme, group: string, version: string): object | undefined {
  const kinds = scheme.kinds().filter((kind) => kind.group === group && kind.version === version);
  if (kinds.length === 0) return undefined;
  const paths: Record<string, object> = {};
  const parameters = [
    { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
    { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
    { name: 'dryRun', in: 'query', schema: { type: 'string' } },
  ];
  for (const kind of kinds) {
    const scope = kind.namespaced ? '/namespaces/{namespace}' : '';
    const gvk = { group, version, kind: kind.kind };
    paths[`/${gvPath(group, version)}${scope}/${kind.resource}/{name}`] = {
      patch: { 'x-kubernetes-group-version-kind': gvk, parameters },
      put: { 'x-kubernetes-group-version-kind': gvk, parameters },
    };
    paths[`/${gvPath(group, version)}${scope}/${kind.resource}`] = {
      post: { 'x-kubernetes-group-version-kind': gvk, parameters },
    };
  }
  return { openapi: '3.0.0', info: { title: 'cpkit', version: 'v1.32.4' }, paths };
}

/** `GET /openapi/v3`: the index of group-version documents, each URL carrying a content hash. */
export function openApiV3Index(scheme: Scheme): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, versions } of groupVersions(scheme)) {
    for (const version of versions) {
      const path = gvPath(group, version);
      const hash = createHash('sha256')
        .update(JSON.stringify(openApiV3Document(scheme, group, version)))
        .digest('hex')
        .slice(0, 32)
        .toUpperCase();
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
    }
  }
  return { paths };
}
