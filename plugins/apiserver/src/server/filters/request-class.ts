// SPDX-License-Identifier: Apache-2.0
import type { IncomingMessage } from 'node:http';
import type { Scheme } from '@cpkit/core';
import { type RequestInfo, requestInfoOf } from '../request-info.js';

/**
 * What the filters need to know about a request before the handler runs: whether it is long-running
 * (exempt from in-flight limits and the request timeout), whether it only reads, and the bounded
 * metric labels upstream uses.
 * @category API server
 */
export interface RequestClass {
  /** The parsed request, or undefined when the path was malformed (the handler answers 400 then). */
  info: RequestInfo | undefined;
  /** Watches and the streaming subresources (log, exec, attach, portforward, proxy). */
  longRunning: boolean;
  /** get/list/watch and non-resource GET/HEAD/OPTIONS: counted against the read-only limit. */
  readOnly: boolean;
  labels: RequestLabels;
}

/** The labels of `apiserver_request_*`, with upstream's names and values. @category API server */
export interface RequestLabels {
  verb: string;
  dry_run: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  scope: string;
  component: string;
}

/** Subresources that stream for as long as the client wants (upstream's long-running set). */
const longRunningSubresources = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);
/** Request methods that may appear as a verb label; anything else is reported as `other`. */
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT']);
const readOnlyVerbs = new Set(['get', 'list', 'watch', 'head', 'options']);
const resourceVerbLabels: Readonly<Record<string, string>> = {
  get: 'GET',
  list: 'LIST',
  watch: 'WATCH',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETECOLLECTION',
};
/** The label every resource the scheme does not serve gets, so garbage URLs cannot grow the series. */
export const unknownLabel = 'unknown';

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Classifies a request. Never throws: a malformed path is classified as an unknown resource request
 * and left to the handler to reject.
 * @category API server
 */
export function classifyRequest(req: IncomingMessage, scheme: Scheme): RequestClass {
  const method = (req.method ?? 'GET').toUpperCase();
  const methodLabel = knownMethods.has(method) ? method : 'other';
  let info: RequestInfo | undefined;
  try {
    info = requestInfoOf(req);
  } catch {
    info = undefined;
  }
  const dryRun = (req.url ?? '').includes('dryRun=') ? 'All' : '';
  if (!info) {
    return {
      info,
      longRunning: false,
      readOnly: method === 'GET' || method === 'HEAD',
      labels: {
        verb: methodLabel,
        dry_run: dryRun,
        group: unknownLabel,
        version: unknownLabel,
        resource: unknownLabel,
        subresource: '',
        scope: '',
        component: 'apiserver',
      },
    };
  }
  const longRunning =
    info.isResourceRequest && (info.verb === 'watch' || longRunningSubresources.has(info.subresource));
  const readOnly = readOnlyVerbs.has(info.verb);
  if (!info.isResourceRequest) {
    return {
      info,
      longRunning: false,
      readOnly,
      labels: {
        verb: methodLabel,
        dry_run: '',
        group: '',
        version: '',
        resource: '',
        subresource: '',
        scope: '',
        component: 'apiserver',
      },
    };
  }
  let verb = resourceVerbLabels[info.verb] ?? methodLabel;
  if (info.verb === 'patch' && mediaType(req.headers['content-type']) === 'application/apply-patch+yaml') {
    verb = 'APPLY';
  }
  const kind = scheme.kindForResource(info.resource, info.group);
  const known = kind !== undefined && kind.group === info.group && kind.version === info.version;
  const subresource = !info.subresource
    ? ''
    : known && kind.subresources.includes(info.subresource)
      ? info.subresource
      : unknownLabel;
  // As upstream's CleanScope: a named object (or a create) is "resource", else the namespace or
  // the whole cluster.
  const scope =
    info.name || info.verb === 'create'
      ? 'resource'
      : info.namespace
        ? 'namespace'
        : info.verb === 'list' || info.verb === 'watch' || info.verb === 'deletecollection'
          ? 'cluster'
          : '';
  return {
    info,
    longRunning,
    readOnly,
    labels: {
      verb,
      dry_run: dryRun,
      group: known ? info.group : unknownLabel,
      version: known ? info.version : unknownLabel,
      resource: known ? info.resource : unknownLabel,
      subresource,
      scope,
      component: 'apiserver',
    },
  };
}
