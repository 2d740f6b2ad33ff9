// SPDX-License-Identifier: Apache-2.0
import { errors, type ResourceVerb, type UserInfo } from '@cpkit/core';

/**
 * What a request URL and method address: a resource request (`/api/v1/namespaces/x/pods/y/status`)
 * or a non-resource path (`/version`, `/healthz`, discovery).
 * @category API server
 */
export interface RequestInfo {
  isResourceRequest: boolean;
  /** The URL path without the query. */
  path: string;
  /** For resource requests: one of {@link ResourceVerb}; otherwise the lower-case HTTP method. */
  verb: string;
  /** `''` for the core group (`/api/v1`). */
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** Who sent the request, set by the handler once authenticated (registry writes pass it to admission). */
  user?: UserInfo;
  /** The query of a resource request, parsed with its path (absent for non-resource requests). */
  query?: URLSearchParams;
}

/** A non-resource request (`/healthz`, discovery): only the path and the lower-cased method matter. @category API server */
export const nonResourceRequestInfo = (path: string, method: string): RequestInfo => ({
  isResourceRequest: false,
  path,
  verb: method.toLowerCase(),
  group: '',
  version: '',
  resource: '',
  subresource: '',
  namespace: '',
  name: '',
});

function isWatch(query: URLSearchParams): boolean {
  const value = query.get('watch');
  return value === 'true' || value === '1';
}

/**
 * Parses a request the way the upstream API server does: `/api/<v>/...` and `/apis/<g>/<v>/...` are
 * resource requests (unless they stop at the group-version, which is discovery); the verb comes from
 * the method, whether a name is present and `?watch=true`.
 * @throws StatusError `BadRequest` for an empty or malformed path segment.
 * @category API server
 */
export function parseRequestInfo(method: string, rawUrl: string): RequestInfo {
  // Checked on the raw path: URL parsing would resolve `..` (also `%2e%2e`) before we saw it.
  const rawPath = rawUrl.split('?', 1)[0] ?? '';
  if (rawPath.split('/').some((part) => /^(?:\.|%2e){1,2}$/i.test(part))) {
    throw errors.badRequest(`invalid path ${JSON.stringify(rawPath)}: a path segment may not be "." or ".."`);
  }
  const url = new URL(rawUrl, 'http://localhost');
  const path = url.pathname;
  const segments = path.split('/').slice(1);
  if (segments.at(-1) === '') segments.pop();
  let parts: string[];
  let group: string;
  let version: string;
  if (segments[0] === 'api' && segments.length >= 3) {
    group = '';
    version = segments[1] ?? '';
    parts = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1] ?? '';
    version = segments[2] ?? '';
    parts = segments.slice(3);
  } else {
    return nonResourceRequestInfo(path, method);
  }
  let decoded: string[];
  try {
    decoded = parts.map((part) => decodeURIComponent(part));
  } catch {
    throw errors.badRequest(`invalid path ${JSON.stringify(path)}: malformed percent-encoding`);
  }
  if (decoded.some((part) => part === '')) {
    throw errors.badRequest(`invalid path ${JSON.stringify(path)}: empty segment`);
  }
  // As upstream's path-segment name rules: no `.`/`..` (traversal) and no `/` or `%` once decoded.
  const unsafe = decoded.find((part) => part === '.' || part === '..' || /[/%]/.test(part));
  if (unsafe !== undefined) {
    throw errors.badRequest(
      `invalid path ${JSON.stringify(path)}: a path segment may not be "." or ".." nor contain "/" or "%": ${JSON.stringify(unsafe)}`,
    );
  }
  let namespace = '';
  // `namespaces/<ns>/<resource>...` scopes a namespaced resource; `namespaces/<ns>` alone (or with a
  // subresource such as `status`/`finalize`) is the namespace object itself.
  if (
    decoded[0] === 'namespaces' &&
    decoded.length >= 3 &&
    !['status', 'finalize'].includes(decoded[2] ?? '')
  ) {
    namespace = decoded[1] ?? '';
    decoded = decoded.slice(2);
  }
  const [resource = '', name = '', subresource = '', ...rest] = decoded;
  if (rest.length > 0) {
    throw errors.badRequest(`invalid path ${JSON.stringify(path)}: too many segments`);
  }
  const query = url.searchParams;
  const upper = method.toUpperCase();
  let verb: ResourceVerb | string;
  switch (upper) {
    case 'GET':
    case 'HEAD':
      verb = isWatch(query) ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = method.toLowerCase();
  }
  return {
    isResourceRequest: true,
    path,
    verb,
    group,
    version,
    resource,
    subresource,
    namespace,
    name,
    query,
  };
}

const parsedRequests = new WeakMap<object, RequestInfo>();

/**
 * {@link parseRequestInfo} of a request, parsed once and remembered for the request's lifetime (the
 * filter chain and the handler both need it). Parse errors are not remembered: they throw each time.
 * @category API server
 */
export function requestInfoOf(req: { method?: string; url?: string }): RequestInfo {
  let info = parsedRequests.get(req);
  if (info === undefined) {
    info = parseRequestInfo(req.method ?? 'GET', req.url ?? '/');
    parsedRequests.set(req, info);
  }
  return info;
}
