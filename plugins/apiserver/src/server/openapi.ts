// SPDX-License-Identifier: Apache-2.0
// OpenAPI v3: one document per group-version with each kind's paths (operations carrying the kind's
// `x-kubernetes-group-version-kind` and a `fieldValidation` parameter, which is what makes kubectl
// trust server-side validation) and `components.schemas` with the kinds' definitions and everything
// they reference, generated from kubernetes-types (see src/schema). `kubectl explain` reads those
// schemas; client-side apply reads their patch extensions.
import { createHash } from 'node:crypto';
import type { RegisteredKind, Scheme } from '@cpkit/core';
import { definitionClosure, definitionNameFor } from '../schema/definitions.js';
import type { OpenApiSchema } from '../schema/types.js';
import { groupVersions } from './discovery.js';

export { definitionsSource as openApiDefinitionsSource } from '../schema/definitions.js';
export type { OpenApiSchema } from '../schema/types.js';
export {
  type FieldValidation,
  fieldValidationOutcome,
  parseFieldValidation,
  UnknownFieldPruner,
  unknownFieldPruner,
  unknownFieldText,
} from '../schema/unknown-fields.js';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const queryParam = (name: string, description: string) => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string', uniqueItems: true },
});

const dryRun = queryParam(
  'dryRun',
  'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed',
);
const fieldManager = queryParam(
  'fieldManager',
  'fieldManager is a name associated with the actor or entity that is making these changes.',
);
const fieldValidation = queryParam(
  'fieldValidation',
  'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: ignores unknown fields silently. - Warn: sends a warning via the standard warning response header for each unknown field. This is the default. - Strict: fails the request with a BadRequest error if any unknown fields would be dropped.',
);
const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', uniqueItems: true },
});
const nameParam = pathParam('name', 'name of the resource');
const namespaceParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

function jsonBody(schema: object): object {
  return { content: { 'application/json': { schema } } };
}

/** The operations of one kind, with its schema wired into request and response bodies when it has one. */
function kindPaths(kind: RegisteredKind, definition: string | undefined): Record<string, object> {
  const { group, version } = kind;
  const gvk = { group, version, kind: kind.kind };
  const ref = definition ? { $ref: `#/components/schemas/${definition}` } : { type: 'object' };
  const ok = (description: string) => ({ '200': { description, ...jsonBody(ref) } });
  const write = [dryRun, fieldManager, fieldValidation];
  const op = (action: string, extra: object) => ({
    'x-kubernetes-group-version-kind': gvk,
    'x-kubernetes-action': action,
    ...extra,
  });
  const base = `/${gvPath(group, version)}${kind.namespaced ? '/namespaces/{namespace}' : ''}/${kind.resource}`;
  const scope = kind.namespaced ? [namespaceParam] : [];
  const patchTypes = [
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
    'application/apply-patch+yaml',
  ];
  return {
    [base]: {
      parameters: scope,
      get: op('list', { description: `list or watch objects of kind ${kind.kind}`, responses: ok('OK') }),
      post: op('post', {
        description: `create a ${kind.kind}`,
        parameters: write,
        requestBody: jsonBody(ref),
        responses: { ...ok('OK'), '201': { description: 'Created', ...jsonBody(ref) } },
      }),
      delete: op('deletecollection', { description: `delete collection of ${kind.kind}` }),
    },
    [`${base}/{name}`]: {
      parameters: [nameParam, ...scope],
      get: op('get', { description: `read the specified ${kind.kind}`, responses: ok('OK') }),
      put: op('put', {
        description: `replace the specified ${kind.kind}`,
        parameters: write,
        requestBody: jsonBody(ref),
        responses: ok('OK'),
      }),
      patch: op('patch', {
        description: `partially update the specified ${kind.kind}`,
        parameters: [...write, queryParam('force', 'Force is going to "force" Apply requests.')],
        requestBody: {
          content: Object.fromEntries(patchTypes.map((t) => [t, { schema: { type: 'object' } }])),
        },
        responses: ok('OK'),
      }),
      delete: op('delete', { description: `delete a ${kind.kind}`, responses: ok('OK') }),
    },
  };
}

interface CachedDocument {
  signature: string;
  document: object;
  hash: string;
}

const cache = new WeakMap<Scheme, Map<string, CachedDocument>>();

function build(kinds: readonly RegisteredKind[], group: string, version: string): object {
  const paths: Record<string, object> = {};
  const roots: string[] = [];
  for (const kind of kinds) {
    const definition = definitionNameFor(kind);
    if (definition) {
      roots.push(definition);
      const list = definitionNameFor({ group, version, kind: `${kind.kind}List` });
      if (list) roots.push(list);
    }
    Object.assign(paths, kindPaths(kind, definition));
  }
  const schemas: Record<string, OpenApiSchema> = definitionClosure(roots);
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.4' },
    paths,
    components: { schemas },
  };
}

function cached(scheme: Scheme, group: string, version: string): CachedDocument | undefined {
  const kinds = scheme.kinds().filter((kind) => kind.group === group && kind.version === version);
  if (kinds.length === 0) return undefined;
  const signature = kinds.map((k) => `${k.kind}:${k.resource}:${k.namespaced}`).join(',');
  let perScheme = cache.get(scheme);
  if (!perScheme) {
    perScheme = new Map();
    cache.set(scheme, perScheme);
  }
  const key = `${group}/${version}`;
  const hit = perScheme.get(key);
  if (hit?.signature === signature) return hit;
  const document = build(kinds, group, version);
  const hash = createHash('sha512')
    .update(JSON.stringify(document))
    .digest('hex')
    .slice(0, 128)
    .toUpperCase();
  const entry = { signature, document, hash };
  perScheme.set(key, entry);
  return entry;
}

/**
 * `GET /openapi/v3/<api/v1 | apis/g/v>`: the document, or undefined when the GV is not served.
 * Documents are built once per scheme and group-version and rebuilt when its kinds change.
 * @category API server
 */
export function openApiV3Document(scheme: Scheme, group: string, version: string): object | undefined {
  return cached(scheme, group, version)?.document;
}

/**
 * `GET /openapi/v3`: the index of group-version documents, each URL carrying its document's hash
 * (clients cache per URL, so a changed document gets a new URL).
 * @category API server
 */
export function openApiV3Index(scheme: Scheme): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, versions } of groupVersions(scheme)) {
    for (const version of versions) {
      const entry = cached(scheme, group, version);
      if (!entry) continue;
      const path = gvPath(group, version);
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${entry.hash}` };
    }
  }
  return { paths };
}
