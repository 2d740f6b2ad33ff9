// SPDX-License-Identifier: Apache-2.0
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DeleteOptions,
  errors,
  type GroupVersionKind,
  type KubeObject,
  type Logger,
  type RegisteredKind,
  type Registry,
  type Scheme,
  StatusError,
  serializedObject,
  type UserInfo,
} from '@cpkit/core';
import jsonPatch, { type Operation } from 'fast-json-patch';
import jsonMergePatch from 'json-merge-patch';
import { parse as parseYaml } from 'yaml';
import {
  applyConfiguration,
  checkAppliedMetadata,
  type FieldManagerContext,
  fieldManagerContext,
  recordStatusUpdate,
  recordUpdate,
  statusConfiguration,
} from '../apply/index.js';
import { defaultFieldManager } from '../apply/manager-name.js';
import { accessReviewEndpoint } from '../auth/access-reviews.js';
import { type AuthenticationChain, anonymousUser } from '../auth/authentication.js';
import { type AuthorizationChain, authorizationAttributes } from '../auth/authorization.js';
import { hasImpersonationHeaders, impersonate } from '../auth/impersonation.js';
import { defaultTokenExpirationSeconds, type ServiceAccountTokens } from '../auth/service-account-tokens.js';
import { patchSchemaFor } from '../patch/patch-schema.js';
import { strategicMergePatch } from '../patch/strategic-merge-patch.js';
import { printTable } from '../printing/print-table.js';
import {
  aggregatedDiscoveryContentType,
  apiGroup,
  apiGroupDiscoveryList,
  apiGroupList,
  apiResourceList,
  apiVersions,
  servedSubresources,
  servedSubresourceVerbs,
  serverVersion,
} from './discovery.js';
import {
  type FieldValidation,
  fieldValidationOutcome,
  openApiV3Document,
  openApiV3Index,
  parseFieldValidation,
  unknownFieldPruner,
} from './openapi.js';
import { decodeProtobufObject, protobufContentType } from './protobuf.js';
import { type RequestInfo, requestInfoOf } from './request-info.js';
import { applyScale, type Scale, scaleOf } from './scale.js';

/** Largest request body accepted, as upstream (3 MiB). */
const maxBodyBytes = 3 * 1024 * 1024;
const strategicConflictRetries = 5;

const patchContentTypes = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
} as const;

/** Options of an {@link ApiHandler}. @category API server */
export interface ApiHandlerOptions {
  registry: Registry;
  scheme: Scheme;
  logger?: Logger;
  /** `host:port` advertised in `/api`'s serverAddressByClientCIDRs. */
  serverAddress?: () => string;
  /**
   * Who sent a request. Absent: every request is served as an anonymous caller (only for embedding
   * with `authorization` absent too; `HttpApiServer` always sets both).
   */
  authentication?: AuthenticationChain;
  /** May the caller do it. Absent: everything is allowed. */
  authorization?: AuthorizationChain;
  /** Signs tokens for `POST .../serviceaccounts/<name>/token` (TokenRequest); absent: that endpoint is 404. */
  serviceAccountTokens?: ServiceAccountTokens;
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** True when one entry of the Accept list asks for the given `as=` form (Table, APIGroupDiscoveryList). */
function acceptsAs(accept: string | undefined, as: string, group: string): boolean {
  return (accept ?? '').split(',').some((entry) => {
    const params = entry.split(';').map((p) => p.trim());
    return params.includes(`as=${as}`) && params.includes(`g=${group}`);
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  sendJsonText(res, code, JSON.stringify(body), contentType);
}

function sendJsonText(
  res: ServerResponse,
  code: number,
  text: string,
  contentType = 'application/json',
): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes any error as a `metav1.Status` with its HTTP code. @category API server */
export function sendError(res: ServerResponse, error: unknown): void {
  const status = StatusError.from(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status.toStatus());
}

const notFoundPath = (): StatusError =>
  new StatusError('NotFound', 'the server could not find the requested resource', {}, 404);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = (): void => {
      reject(new StatusError('RequestEntityTooLarge', 'the request body is too large', undefined, 413));
      // Drain the rest instead of destroying the socket, so the client reads the 413 rather than a reset.
      chunks.length = 0;
      req.removeAllListeners('data');
      req.resume();
    };
    if (Number(req.headers['content-length']) > maxBodyBytes) {
      tooLarge();
      return;
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Buffer, what: string): unknown {
  if (body.length === 0) throw errors.badRequest(`the ${what} body is empty`);
  try {
    // fatal: bytes that are not UTF-8 are refused, not silently turned into U+FFFD.
    return JSON.parse(utf8.decode(body));
  } catch (error) {
    throw errors.badRequest(`the ${what} body is not valid JSON: ${(error as Error).message}`);
  }
}

function asObject(value: unknown, what: string): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw errors.badRequest(`the ${what} body must be a JSON object`);
  }
  const metadata = (value as { metadata?: unknown }).metadata;
  if (
    metadata !== undefined &&
    metadata !== null &&
    (typeof metadata !== 'object' || Array.isArray(metadata))
  ) {
    throw errors.badRequest(`the ${what} body's metadata must be an object`);
  }
  return value as KubeObject;
}

/**
 * Create and update bodies must be JSON; a missing Content-Type counts as JSON (kubectl's
 * `PUT .../scale` sends none). Protobuf bodies are not decoded yet.
 */
function checkJsonBody(req: IncomingMessage): void {
  const type = mediaType(req.headers['content-type']);
  if (type !== '' && type !== 'application/json' && type !== '*/*') {
    throw errors.unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json`,
    );
  }
}

/** A create body: JSON, or protobuf for the kinds {@link decodeProtobufObject} knows. */
async function readCreateBody(req: IncomingMessage): Promise<KubeObject> {
  if (mediaType(req.headers['content-type']) === protobufContentType) {
    return decodeProtobufObject(await readBody(req));
  }
  checkJsonBody(req);
  return asObject(parseJson(await readBody(req), 'create'), 'create');
}

/** The caller when no authentication is configured. */
function anonymousCaller(): UserInfo {
  return { ...anonymousUser, groups: [...anonymousUser.groups] };
}

interface PatchResult {
  object: KubeObject;
  /** True when server-side apply created the object (the reply is 201). */
  created?: boolean;
}

function unsupportedPatchType(): StatusError {
  return errors.unsupportedMediaType(
    `the body of the request was in an unknown format - accepted media types include: ${Object.keys(patchContentTypes).join(', ')}`,
  );
}

/** A patch on a document without merge-keyed lists (a Scale): strategic merge is a merge patch there. */
function applyPlainPatch(document: Scale, type: 'json' | 'merge' | 'strategic', patch: unknown): unknown {
  if (type !== 'json') return jsonMergePatch.apply(document, patch);
  if (!Array.isArray(patch)) throw errors.badRequest('a JSON patch must be an array of operations');
  try {
    return jsonPatch.applyPatch(document, patch as Operation[], true, false).newDocument;
  } catch (error) {
    throw errors.badRequest(`the JSON patch could not be applied: ${(error as Error).message}`);
  }
}

function integerParam(query: URLSearchParams, name: string, min: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw errors.badRequest(`${name}: invalid value ${JSON.stringify(raw)}: must be an integer >= ${min}`);
  }
  return value;
}

function dryRunParam(query: URLSearchParams): { dryRun?: 'All'[] } {
  const values = query.getAll('dryRun');
  if (values.length === 0) return {};
  for (const value of values) {
    if (value !== 'All')
      throw errors.badRequest(`dryRun: unsupported value ${JSON.stringify(value)}: supported values: All`);
  }
  return { dryRun: ['All'] };
}

/** The `fieldValidation` of each write request in flight, with its response (for Warning headers). */
const requestFieldValidation = new WeakMap<IncomingMessage, { mode: FieldValidation; res: ServerResponse }>();

/** Parses `fieldValidation` for a create, update or patch; the body is checked when it has been read. */
function checkFieldValidation(query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
  requestFieldValidation.set(req, { mode: parseFieldValidation(query), res });
}

/** Appends `Warning: 299 - "<text>"` headers (kubectl prints each as `Warning: <text>`). */
function addWarnings(res: ServerResponse, texts: readonly string[]): void {
  if (texts.length === 0 || res.headersSent) return;
  const existing = res.getHeader('Warning');
  const previous = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  // Header values must be printable ASCII; field names come from the client.
  const quoted = texts.map((text) => `299 - ${JSON.stringify(text).replace(/[^\x20-\x7e]/g, '?')}`);
  res.setHeader('Warning', [...previous, ...quoted]);
}

/**
 * Removes the unknown fields of a write body (upstream never stores them, whatever the mode) and
 * applies the request's `fieldValidation`: Strict → 400 listing them all, Warn (the default) → one
 * Warning per field, Ignore → silence. Kinds without a schema keep every field.
 */
function validateFields(
  req: IncomingMessage,
  gvk: GroupVersionKind,
  body: unknown,
  how: 'object' | 'decode' | 'json' | 'merge' | 'strategic',
): void {
  const request = requestFieldValidation.get(req);
  if (!request) return;
  const problems =
    how === 'json'
      ? unknownFieldPruner.pruneJsonPatch(gvk, body)
      : how === 'merge'
        ? unknownFieldPruner.pruneMergePatch(gvk, body)
        : how === 'strategic'
          ? unknownFieldPruner.pruneStrategicPatch(gvk, body)
          : unknownFieldPruner.pruneObject(gvk, body);
  const decoding = how === 'decode' ? gvk : undefined;
  addWarnings(request.res, fieldValidationOutcome(request.mode, problems, decoding));
}

/** The field manager a write is recorded under in managedFields (the query's, else from the User-Agent). */
function managerOf(req: IncomingMessage, query: URLSearchParams): string {
  return defaultFieldManager(query.get('fieldManager'), req.headers['user-agent']);
}

/** True for a Conflict StatusError (a lost optimistic-concurrency race). */
function isConflict(error: unknown): boolean {
  return error instanceof StatusError && error.reason === 'Conflict';
}

/**
 * Applies a JSON or merge patch to a copy of `current` as the registry will, so the change can be
 * recorded in managedFields before the registry applies it; undefined when it does not apply (the
 * registry then reports why).
 */
function patchedLocally(current: KubeObject, type: 'json' | 'merge', patch: unknown): KubeObject | undefined {
  try {
    const copy = structuredClone(current);
    const result =
      type === 'merge'
        ? jsonMergePatch.apply(copy, structuredClone(patch))
        : jsonPatch.applyPatch(copy, structuredClone(patch) as Operation[], true, true).newDocument;
    return typeof result === 'object' && result !== null && !Array.isArray(result)
      ? (result as KubeObject)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The patch plus what the handler adds: the managedFields to store and, unless the patch names one,
 * the resourceVersion it was computed against (so a concurrent write makes the caller retry).
 */
function withRecordedFields(
  type: 'json' | 'merge',
  patch: unknown,
  managedFields: unknown,
  resourceVersion: string | undefined,
  patchedHasManagedFields: boolean,
): { patch: unknown; pinned: boolean } {
  if (type === 'merge') {
    const body = patch as Record<string, unknown>;
    const metadata = (
      typeof body.metadata === 'object' && body.metadata !== null ? body.metadata : {}
    ) as Record<string, unknown>;
    const pinned = metadata.resourceVersion === undefined && resourceVersion !== undefined;
    return {
      patch: {
        ...body,
        metadata: {
          ...metadata,
          managedFields: managedFields ?? null,
          ...(pinned ? { resourceVersion } : {}),
        },
      },
      pinned,
    };
  }
  const operations = [...(patch as Operation[])];
  const pinned =
    resourceVersion !== undefined && !operations.some((op) => op.path === '/metadata/resourceVersion');
  // `add` replaces an existing member; with nothing to record, an existing list is removed.
  if (managedFields !== undefined) {
    operations.push({ op: 'add', path: '/metadata/managedFields', value: managedFields });
  } else if (patchedHasManagedFields) {
    operations.push({ op: 'remove', path: '/metadata/managedFields' });
  }
  if (pinned) operations.push({ op: 'add', path: '/metadata/resourceVersion', value: resourceVersion });
  return { patch: operations, pinned };
}

/** dryRun and fieldManager from the query, and the authenticated user (for admission). */
function writeOptions(
  query: URLSearchParams,
  info: RequestInfo,
): { dryRun?: 'All'[]; fieldManager?: string; user?: UserInfo } {
  const fieldManager = query.get('fieldManager') ?? undefined;
  if (fieldManager !== undefined && fieldManager.length > 128) {
    throw errors.badRequest('fieldManager: Too long: may not be more than 128 bytes');
  }
  return {
    ...dryRunParam(query),
    ...(fieldManager ? { fieldManager } : {}),
    ...(info.user ? { user: info.user } : {}),
  };
}

/**
 * The HTTP semantics of the Kubernetes REST API over a {@link Registry}: discovery, CRUD, watch, the
 * three JSON patch types, the status subresource and Table output. Transport-agnostic: the
 * {@link HttpApiServer} feeds it Node's requests.
 * @category API server
 */
export class ApiHandler {
  private readonly openWatches = new Set<ServerResponse>();

  constructor(private readonly options: ApiHandlerOptions) {}

  /** Serves one request; never rejects (every failure becomes a Status reply). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const info = requestInfoOf(req);
      // Authentication, then authorization, before anything is read or written (as upstream's filters).
      const authenticated = (await this.options.authentication?.authenticate(req)) ?? anonymousCaller();
      // Impersonation headers (kubectl --as) are authorized for the real caller, then the request runs
      // as the impersonated user.
      const user = hasImpersonationHeaders(req.headers)
        ? await impersonate(req.headersDistinct, authenticated, this.options.authorization)
        : authenticated;
      info.user = user;
      if (this.options.authorization) {
        // Only lists and watches read the query (a metadata.name field selector names the object).
        const query = info.verb === 'list' || info.verb === 'watch' ? info.query : undefined;
        await this.options.authorization.authorize(authorizationAttributes(user, info, query));
      }
      const review = info.isResourceRequest
        ? accessReviewEndpoint(info.group, info.version, info.resource)
        : undefined;
      if (
        review &&
        info.verb === 'create' &&
        !info.name &&
        !info.subresource &&
        review.namespaced === (info.namespace !== '')
      ) {
        const context = {
          user,
          namespace: info.namespace,
          ...(this.options.authorization ? { authorization: this.options.authorization } : {}),
          ...(this.options.authentication ? { authentication: this.options.authentication } : {}),
          ...(this.options.serviceAccountTokens
            ? { audiences: this.options.serviceAccountTokens.audiences }
            : {}),
        };
        sendJson(res, 201, await review.review(await readCreateBody(req), context));
        return;
      }
      if (
        info.isResourceRequest &&
        info.group === '' &&
        info.version === 'v1' &&
        info.resource === 'serviceaccounts' &&
        info.subresource === 'token' &&
        this.options.serviceAccountTokens
      ) {
        await this.tokenRequest(req, res, info, this.options.serviceAccountTokens);
        return;
      }
      if (info.isResourceRequest) {
        await this.handleResource(req, res, info);
      } else {
        this.handleNonResource(req, res, info);
      }
    } catch (error) {
      if (!(error instanceof StatusError))
        this.options.logger?.error({ err: error, url: req.url }, 'request failed');
      sendError(res, error);
    }
  }

  /** Ends every open watch stream (on shutdown). */
  closeWatches(): void {
    for (const res of this.openWatches) res.end();
    this.openWatches.clear();
  }

  /**
   * `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token` (authentication.k8s.io/v1
   * TokenRequest, `kubectl create token`): signs a token for the ServiceAccount as it exists now.
   */
  private async tokenRequest(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    tokens: ServiceAccountTokens,
  ): Promise<void> {
    if (info.verb !== 'create' || !info.name || !info.namespace) {
      throw errors.methodNotAllowed('only POST is supported on serviceaccounts/token');
    }
    const body = await readCreateBody(req);
    if (body.kind !== undefined && body.kind !== 'TokenRequest') {
      throw errors.badRequest(
        `the body of a serviceaccounts/token request must be a TokenRequest, not ${String(body.kind)}`,
      );
    }
    const spec = ((body as { spec?: unknown }).spec ?? {}) as {
      audiences?: unknown;
      expirationSeconds?: unknown;
      boundObjectRef?: unknown;
    };
    // Tokens bound to a Pod or Secret would need revocation when it goes: refuse rather than issue
    // a token that outlives what the caller bound it to.
    if (spec.boundObjectRef !== undefined && spec.boundObjectRef !== null) {
      throw errors.badRequest('spec.boundObjectRef: bound service-account tokens are not supported yet');
    }
    if (spec.audiences !== undefined && !Array.isArray(spec.audiences)) {
      throw errors.badRequest('spec.audiences must be a list of strings');
    }
    const expiration = spec.expirationSeconds === undefined ? undefined : Number(spec.expirationSeconds);
    const serviceAccount = await this.options.registry.get('ServiceAccount', info.name, {
      namespace: info.namespace,
    });
    const issued = await tokens.issue(
      { namespace: info.namespace, name: info.name, uid: String(serviceAccount.metadata?.uid ?? '') },
      {
        ...(spec.audiences ? { audiences: spec.audiences as string[] } : {}),
        ...(expiration !== undefined ? { expirationSeconds: expiration } : {}),
      },
    );
    const expirationSeconds = expiration ?? defaultTokenExpirationSeconds;
    sendJson(res, 201, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name: info.name, namespace: info.namespace, creationTimestamp: null },
      spec: {
        audiences: spec.audiences ?? [...tokens.audiences],
        expirationSeconds,
        boundObjectRef: null,
      },
      status: issued,
    });
  }

  private handleNonResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo): void {
    const { scheme } = this.options;
    if (info.verb !== 'get' && info.verb !== 'head') {
      throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    const segments = info.path.split('/').filter((s) => s !== '');
    const accept = req.headers.accept;
    const aggregated = acceptsAs(accept, 'APIGroupDiscoveryList', 'apidiscovery.k8s.io');
    switch (info.path.replace(/\/+$/, '') || '/') {
      case '/healthz':
      case '/livez':
      case '/readyz':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      case '/version':
        sendJson(res, 200, serverVersion);
        return;
      case '/api':
        if (aggregated)
          sendJson(res, 200, apiGroupDiscoveryList(scheme, true), aggregatedDiscoveryContentType);
        else sendJson(res, 200, apiVersions(scheme, this.options.serverAddress?.() ?? ''));
        return;
      case '/apis':
        if (aggregated)
          sendJson(res, 200, apiGroupDiscoveryList(scheme, false), aggregatedDiscoveryContentType);
        else sendJson(res, 200, apiGroupList(scheme));
        return;
    }
    let body: object | undefined;
    if (segments[0] === 'openapi' && segments[1] === 'v3') {
      if (segments.length === 2) body = openApiV3Index(scheme);
      else if (segments[2] === 'api' && segments.length === 4)
        body = openApiV3Document(scheme, '', segments[3] ?? '');
      else if (segments[2] === 'apis' && segments.length === 5) {
        body = openApiV3Document(scheme, segments[3] ?? '', segments[4] ?? '');
      }
    } else if (segments[0] === 'api' && segments.length === 2)
      body = apiResourceList(scheme, '', segments[1] ?? '');
    else if (segments[0] === 'apis' && segments.length === 2) body = apiGroup(scheme, segments[1] ?? '');
    else if (segments[0] === 'apis' && segments.length === 3) {
      body = apiResourceList(scheme, segments[1] ?? '', segments[2] ?? '');
    }
    if (!body) throw notFoundPath();
    sendJson(res, 200, body);
  }

  private resolveKind(info: RequestInfo): RegisteredKind {
    const kind = this.options.scheme.kindForResource(info.resource, info.group);
    if (!kind || kind.version !== info.version || kind.group !== info.group) throw notFoundPath();
    if (
      info.subresource &&
      !(servedSubresources.has(info.subresource) && kind.subresources.includes(info.subresource))
    ) {
      throw notFoundPath();
    }
    if (info.namespace && !kind.namespaced) throw notFoundPath();
    return kind;
  }

  private async handleResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo): Promise<void> {
    const kind = this.resolveKind(info);
    const gvk: GroupVersionKind = { group: kind.group, version: kind.version, kind: kind.kind };
    const query = info.query ?? new URL(req.url ?? '/', 'http://localhost').searchParams;
    const namespace = kind.namespaced ? info.namespace || undefined : undefined;
    const { registry } = this.options;
    const table = acceptsAs(req.headers.accept, 'Table', 'meta.k8s.io');
    const includeObject = (query.get('includeObject') ?? undefined) as
      | 'None'
      | 'Metadata'
      | 'Object'
      | undefined;
    const reply = (code: number, object: KubeObject): void => {
      if (table) sendJson(res, code, printTable(gvk, [object], { includeObject }));
      else sendJson(res, code, object);
    };
    if (info.subresource && !servedSubresourceVerbs.get(info.subresource)?.includes(info.verb)) {
      throw errors.methodNotAllowed(`${info.verb} is not supported on ${kind.resource}/${info.subresource}`);
    }
    if (info.verb === 'create' && info.name && !info.subresource) {
      throw errors.methodNotAllowed(
        `POST is not supported on a named ${kind.singular}: create at the collection`,
      );
    }
    if ((info.verb === 'update' || info.verb === 'patch') && !info.name) {
      throw errors.methodNotAllowed(`${req.method} is not supported on the ${kind.resource} collection`);
    }
    if (kind.namespaced && !namespace && ['get', 'create', 'update', 'patch', 'delete'].includes(info.verb)) {
      throw errors.badRequest(`the namespace of the ${kind.resource} must be given in the URL`);
    }
    if (['create', 'update', 'patch'].includes(info.verb)) checkFieldValidation(query, req, res);
    if (info.subresource === 'scale') {
      await this.scale(req, res, gvk, info, namespace, query);
      return;
    }
    if (info.subresource === 'binding') {
      await this.bind(req, res, info, namespace, query);
      return;
    }
    switch (info.verb) {
      case 'get': {
        const resourceVersion = query.get('resourceVersion') ?? undefined;
        const options = { namespace, ...(resourceVersion ? { resourceVersion } : {}) };
        if (table) reply(200, await registry.get(gvk, info.name, options));
        // The stored text goes out as it is: no parse and stringify per GET.
        else sendJsonText(res, 200, await registry.getJson(gvk, info.name, options));
        return;
      }
      case 'list': {
        const list = await registry.list(gvk, this.listOptions(query, namespace));
        if (table) {
          const printed = printTable(gvk, list.items, { includeObject }) as unknown as Record<
            string,
            unknown
          >;
          printed.metadata = { ...list.metadata };
          sendJson(res, 200, printed);
        } else {
          sendJson(res, 200, list);
        }
        return;
      }
      case 'watch':
        this.watch(req, res, gvk, query, namespace, table ? (includeObject ?? 'Metadata') : undefined);
        return;
      case 'create': {
        const object = await readCreateBody(req);
        validateFields(req, gvk, object, 'decode');
        this.checkNamespace(object, namespace, kind);
        recordUpdate(kind, undefined, object, fieldManagerContext(kind, managerOf(req, query)));
        // The body was parsed for this request alone: the registry may take it over without a copy.
        const created = await registry.create(object, {
          kind: gvk,
          namespace,
          handOver: true,
          ...writeOptions(query, info),
        });
        reply(201, created);
        return;
      }
      case 'update': {
        checkJsonBody(req);
        const object = asObject(parseJson(await readBody(req), 'update'), 'update');
        validateFields(req, gvk, object, 'decode');
        this.checkNamespace(object, namespace, kind);
        object.metadata ??= {};
        const metadata = object.metadata;
        if (metadata.name !== undefined && metadata.name !== info.name) {
          throw errors.badRequest(
            `the name of the object (${String(metadata.name)}) does not match the name on the URL (${info.name})`,
          );
        }
        metadata.name = info.name;
        const updated =
          info.subresource && info.subresource !== 'status'
            ? await registry.update(object, {
                kind: gvk,
                namespace,
                subresource: info.subresource,
                ...writeOptions(query, info),
              })
            : await this.updateRecordingFields(object, kind, gvk, namespace, query, info, req);
        reply(200, updated);
        return;
      }
      case 'patch': {
        const { object, created } = await this.patch(req, kind, gvk, info, namespace, query);
        reply(created ? 201 : 200, object);
        return;
      }
      case 'delete': {
        const body = await readBody(req);
        const options = this.deleteOptions(body, query);
        reply(200, await registry.delete(gvk, info.name, { ...options, namespace, user: info.user }));
        return;
      }
      case 'deletecollection': {
        const options = this.deleteOptions(await readBody(req), query);
        const list = await registry.list(gvk, this.listOptions(query, namespace));
        for (const item of list.items) {
          try {
            await registry.delete(gvk, item.metadata?.name ?? '', {
              ...options,
              namespace: item.metadata?.namespace,
              user: info.user,
            });
          } catch (error) {
            if (!(error instanceof StatusError && error.reason === 'NotFound')) throw error;
          }
        }
        sendJson(res, 200, { ...list, items: [] });
        return;
      }
      default:
        throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  private listOptions(
    query: URLSearchParams,
    namespace: string | undefined,
  ): Parameters<Registry['list']>[1] {
    const match = query.get('resourceVersionMatch') ?? undefined;
    if (match !== undefined && match !== 'Exact' && match !== 'NotOlderThan') {
      throw errors.badRequest(
        `resourceVersionMatch: unsupported value ${JSON.stringify(match)}: supported values: Exact, NotOlderThan`,
      );
    }
    if (match !== undefined && !query.get('resourceVersion')) {
      // As upstream's ListOptions validation: 422 Invalid, kind ListOptions.
      throw errors.invalid(
        'ListOptions',
        '',
        [
          {
            reason: 'FieldValueForbidden',
            field: 'resourceVersionMatch',
            message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
          },
        ],
        'meta.k8s.io',
      );
    }
    const options: NonNullable<Parameters<Registry['list']>[1]> = { namespace };
    const labelSelector = query.get('labelSelector');
    const fieldSelector = query.get('fieldSelector');
    const limit = integerParam(query, 'limit', 0);
    const cont = query.get('continue');
    const resourceVersion = query.get('resourceVersion');
    if (labelSelector) options.labelSelector = labelSelector;
    if (fieldSelector) options.fieldSelector = fieldSelector;
    // limit=0 means "no limit" upstream.
    if (limit) options.limit = limit;
    if (cont) options.continue = cont;
    if (resourceVersion) options.resourceVersion = resourceVersion;
    if (match) options.resourceVersionMatch = match;
    return options;
  }

  private checkNamespace(object: KubeObject, namespace: string | undefined, kind: RegisteredKind): void {
    if (!kind.namespaced) return;
    const inBody = object.metadata?.namespace;
    if (inBody !== undefined && inBody !== '' && inBody !== namespace) {
      throw errors.badRequest(
        `the namespace of the provided object does not match the namespace sent on the request`,
      );
    }
  }

  private deleteOptions(body: Buffer, query: URLSearchParams): DeleteOptions {
    const parsed = body.length > 0 ? asObject(parseJson(body, 'delete options'), 'delete options') : {};
    const fromBody = parsed as Record<string, unknown>;
    const options: DeleteOptions = { ...dryRunParam(query) };
    if (Array.isArray(fromBody.dryRun) && fromBody.dryRun.length > 0) options.dryRun = ['All'];
    const policy = query.get('propagationPolicy') ?? fromBody.propagationPolicy;
    if (policy !== undefined) {
      if (policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
        throw errors.badRequest(
          `propagationPolicy: unsupported value ${JSON.stringify(policy)}: supported values: Orphan, Background, Foreground`,
        );
      }
      options.propagationPolicy = policy;
    }
    const grace = integerParam(query, 'gracePeriodSeconds', 0) ?? fromBody.gracePeriodSeconds;
    if (grace !== undefined) {
      if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0) {
        throw errors.badRequest(
          `gracePeriodSeconds: invalid value ${JSON.stringify(grace)}: must be an integer >= 0`,
        );
      }
      options.gracePeriodSeconds = grace;
    }
    const preconditions = fromBody.preconditions as Record<string, unknown> | undefined;
    if (preconditions !== undefined) {
      if (typeof preconditions !== 'object' || preconditions === null) {
        throw errors.badRequest('preconditions: must be an object');
      }
      options.preconditions = {};
      if (typeof preconditions.uid === 'string') options.preconditions.uid = preconditions.uid;
      if (typeof preconditions.resourceVersion === 'string') {
        options.preconditions.resourceVersion = preconditions.resourceVersion;
      }
    }
    return options;
  }

  private async patch(
    req: IncomingMessage,
    kind: RegisteredKind,
    gvk: GroupVersionKind,
    info: RequestInfo,
    namespace: string | undefined,
    query: URLSearchParams,
  ): Promise<PatchResult> {
    const contentType = mediaType(req.headers['content-type']);
    const type = patchContentTypes[contentType as keyof typeof patchContentTypes];
    if (!type) throw unsupportedPatchType();
    const body = await readBody(req);
    if (type === 'apply') return this.apply(req, gvk, info, namespace, query, body);
    const patch = parseJson(body, 'patch');
    // A merge-style patch may set metadata to an object or null only; anything else is a bad body.
    if (type !== 'json' && patch !== null && typeof patch === 'object' && !Array.isArray(patch))
      asObject(patch, 'patch');
    validateFields(req, gvk, patch, type);
    const status = info.subresource === 'status';
    // Status writes record their manager too; the registry is told to store what was recorded.
    const subresource = info.subresource
      ? { subresource: info.subresource, ...(status ? { managedFieldsFromRequest: true } : {}) }
      : {};
    const { registry } = this.options;
    const manager = managerOf(req, query);
    if (type !== 'strategic') {
      const patchOptions = { namespace, ...subresource, ...writeOptions(query, info) };
      // Other subresource writes keep the stored metadata (the registry's rule): nothing to record.
      if (info.subresource && !status)
        return { object: await registry.patch(gvk, info.name, type, patch, patchOptions) };
      const fields = fieldManagerContext(kind, manager);
      for (let attempt = 0; ; attempt++) {
        const current = await registry.get(gvk, info.name, { namespace });
        const patched = patchedLocally(current, type, patch);
        if (!patched) return { object: await registry.patch(gvk, info.name, type, patch, patchOptions) };
        const hadManagedFields = patched.metadata?.managedFields !== undefined;
        if (status) recordStatusUpdate(kind, current, patched, manager);
        else recordUpdate(kind, current, patched, fields);
        const recorded = withRecordedFields(
          type,
          patch,
          patched.metadata?.managedFields,
          current.metadata?.resourceVersion,
          hadManagedFields,
        );
        try {
          return { object: await registry.patch(gvk, info.name, type, recorded.patch, patchOptions) };
        } catch (error) {
          // Only a conflict on the resourceVersion we pinned is ours to retry.
          if (!isConflict(error) || !recorded.pinned || attempt >= strategicConflictRetries) throw error;
        }
      }
    }
    asObject(patch, 'patch');
    const schema = patchSchemaFor(kind.group, kind.kind);
    // Apply to the current object and write it back under its resourceVersion, so a concurrent
    // writer makes us retry rather than lose its change.
    for (let attempt = 0; ; attempt++) {
      const current = await registry.get(gvk, info.name, { namespace });
      const patched = asObject(strategicMergePatch(current, patch, schema), 'patched object');
      patched.metadata ??= {};
      const metadata = patched.metadata as Record<string, unknown>;
      metadata.resourceVersion = current.metadata?.resourceVersion;
      metadata.name = info.name;
      if (namespace) metadata.namespace = namespace;
      if (status) recordStatusUpdate(kind, current, patched, manager);
      else if (!info.subresource) recordUpdate(kind, current, patched, fieldManagerContext(kind, manager));
      try {
        const object = await registry.update(patched, {
          kind: gvk,
          namespace,
          ...subresource,
          ...writeOptions(query, info),
        });
        return { object };
      } catch (error) {
        if (
          !(error instanceof StatusError && error.reason === 'Conflict') ||
          attempt >= strategicConflictRetries
        ) {
          throw error;
        }
      }
    }
  }

  /**
   * `PUT` of the main resource or of `status`: records the writer in managedFields against the
   * stored object (a status write as an Update with subresource `status`). A
   * body without a resourceVersion is pinned to the one the fields were computed against and
   * retried when another write wins meanwhile; one with a resourceVersion keeps its precondition.
   */
  private async updateRecordingFields(
    object: KubeObject,
    kind: RegisteredKind,
    gvk: GroupVersionKind,
    namespace: string | undefined,
    query: URLSearchParams,
    info: RequestInfo,
    req: IncomingMessage,
  ): Promise<KubeObject> {
    const { registry } = this.options;
    const manager = managerOf(req, query);
    const fields = fieldManagerContext(kind, manager);
    const status = info.subresource === 'status';
    // A status write is recorded as an Update with subresource `status`, stored through the registry.
    const target = status ? { subresource: 'status', managedFieldsFromRequest: true } : {};
    const requested = object.metadata?.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      const current = await registry.get(gvk, info.name, { namespace });
      const next = attempt === 0 ? object : structuredClone(object);
      if (status) recordStatusUpdate(kind, current, next, manager);
      else recordUpdate(kind, current, next, fields);
      const metadata = next.metadata as Record<string, unknown>;
      if (!requested) metadata.resourceVersion = current.metadata?.resourceVersion;
      try {
        return await registry.update(next, { kind: gvk, namespace, ...target, ...writeOptions(query, info) });
      } catch (error) {
        if (!isConflict(error) || requested || attempt >= strategicConflictRetries) throw error;
      }
    }
  }

  /**
   * Server-side apply (`application/apply-patch+yaml`): the configuration's fields become the
   * manager's, it is merged into the stored object (or creates it: 201), fields the manager applied
   * before and dropped now are removed unless someone else owns them, and a change to a field
   * another manager owns is a 409 listing the conflicts unless `force=true`. On `status` it applies
   * the configuration's status to an existing object (404 otherwise), as upstream. See `src/apply`.
   */
  private async apply(
    req: IncomingMessage,
    gvk: GroupVersionKind,
    info: RequestInfo,
    namespace: string | undefined,
    query: URLSearchParams,
    body: Buffer,
  ): Promise<PatchResult> {
    const status = info.subresource === 'status';
    if (info.subresource && !status) {
      throw errors.methodNotAllowed(`apply is not supported on ${info.subresource}`);
    }
    const manager = query.get('fieldManager');
    if (!manager) {
      throw errors.badRequest('fieldManager: Required value: is required for apply requests');
    }
    const forceParam = query.get('force');
    if (forceParam !== null && forceParam !== 'true' && forceParam !== 'false') {
      throw errors.badRequest(`force: invalid value ${JSON.stringify(forceParam)}: must be true or false`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(body.toString('utf8'));
    } catch (error) {
      throw errors.badRequest(`the apply body is not valid YAML: ${(error as Error).message}`);
    }
    const applied = asObject(parsed, 'apply');
    validateFields(req, gvk, applied, 'object');
    const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
    if (applied.apiVersion !== apiVersion || applied.kind !== gvk.kind) {
      throw errors.badRequest(
        `the apply body must have apiVersion ${JSON.stringify(apiVersion)} and kind ${JSON.stringify(gvk.kind)}`,
      );
    }
    applied.metadata ??= {};
    const metadata = applied.metadata as Record<string, unknown>;
    if (metadata.name !== undefined && metadata.name !== info.name) {
      throw errors.badRequest(
        `the name of the object (${String(metadata.name)}) does not match the name on the URL (${info.name})`,
      );
    }
    metadata.name = info.name;
    checkAppliedMetadata(applied);
    const kind = this.options.scheme.resolve(gvk);
    this.checkNamespace(applied, namespace, kind);
    const requestedVersion =
      typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
    const fields: FieldManagerContext & { force: boolean } = {
      ...fieldManagerContext(kind, manager, status ? 'status' : ''),
      force: forceParam === 'true',
    };
    // A status apply sets status alone (its entry has subresource `status`), never creates, and is
    // stored through the status subresource with the managedFields it computed.
    const configuration = status ? statusConfiguration(kind, applied) : applied;
    const target = status ? { subresource: 'status', managedFieldsFromRequest: true } : {};
    const { registry } = this.options;
    for (let attempt = 0; ; attempt++) {
      let current: KubeObject | undefined;
      try {
        current = await registry.get(gvk, info.name, { namespace });
      } catch (error) {
        if (status || !(error instanceof StatusError && error.reason === 'NotFound')) throw error;
      }
      const result = applyConfiguration(current, configuration, fields);
      if (!current) {
        try {
          const created = await registry.create(result.object, {
            kind: gvk,
            namespace,
            ...writeOptions(query, info),
          });
          return { object: created, created: true };
        } catch (createError) {
          // Someone created it meanwhile: apply onto theirs instead.
          if (!(createError instanceof StatusError && createError.reason === 'AlreadyExists'))
            throw createError;
          continue;
        }
      }
      // The configuration's resourceVersion, when it has one, is a precondition (as upstream).
      const resourceVersion = requestedVersion ?? current.metadata?.resourceVersion;
      if (!result.changed && resourceVersion === current.metadata?.resourceVersion)
        return { object: current };
      (result.object.metadata as Record<string, unknown>).resourceVersion = resourceVersion;
      try {
        return {
          object: await registry.update(result.object, {
            kind: gvk,
            namespace,
            ...target,
            ...writeOptions(query, info),
          }),
        };
      } catch (error) {
        if (!isConflict(error) || requestedVersion !== undefined || attempt >= strategicConflictRetries) {
          throw error;
        }
      }
    }
  }

  /**
   * `POST pods/<name>/binding`: the scheduler's bind. The Binding names the pod (its metadata.name
   * must match the URL when given) and the node; the registry applies upstream's rules (not yet
   * bound, not deleting; the node need not exist). Replies with a Success Status, as upstream.
   */
  private async bind(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    namespace: string | undefined,
    query: URLSearchParams,
  ): Promise<void> {
    const binding = await readCreateBody(req);
    binding.metadata ??= {};
    const metadata = binding.metadata;
    if (metadata.name !== undefined && metadata.name !== info.name) {
      throw errors.badRequest(
        `the name of the binding (${String(metadata.name)}) does not match the name of the pod on the URL (${info.name})`,
      );
    }
    metadata.name = info.name;
    if (binding.kind !== undefined && binding.kind !== 'Binding') {
      throw errors.badRequest(
        `the body of a pods/binding request must be a Binding, not ${String(binding.kind)}`,
      );
    }
    await this.options.registry.bind(binding as Parameters<Registry['bind']>[0], {
      namespace,
      ...writeOptions(query, info),
    });
    sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }

  /** The `scale` subresource: an autoscaling/v1 Scale view whose writes change only `spec.replicas`. */
  private async scale(
    req: IncomingMessage,
    res: ServerResponse,
    gvk: GroupVersionKind,
    info: RequestInfo,
    namespace: string | undefined,
    query: URLSearchParams,
  ): Promise<void> {
    const { registry } = this.options;
    if (info.verb === 'get') {
      sendJson(res, 200, scaleOf(await registry.get(gvk, info.name, { namespace })));
      return;
    }
    let change: (scale: Scale) => unknown;
    if (info.verb === 'update') {
      checkJsonBody(req);
      const written = asObject(parseJson(await readBody(req), 'update'), 'update');
      change = () => written;
    } else {
      const contentType = mediaType(req.headers['content-type']);
      const type = patchContentTypes[contentType as keyof typeof patchContentTypes];
      if (!type || type === 'apply') throw unsupportedPatchType();
      const patch = parseJson(await readBody(req), 'patch');
      change = (scale) => applyPlainPatch(scale, type, patch);
    }
    for (let attempt = 0; ; attempt++) {
      const current = await registry.get(gvk, info.name, { namespace });
      const scale = scaleOf(current);
      const written = change(structuredClone(scale));
      const updated = applyScale(current, written);
      // Upstream records scale writes as an Update of the main object with subresource `scale`.
      const scaled = this.options.scheme.resolve(gvk);
      recordUpdate(scaled, current, updated, fieldManagerContext(scaled, managerOf(req, query), 'scale'));
      try {
        const result = await registry.update(updated, { kind: gvk, namespace, ...writeOptions(query, info) });
        sendJson(res, 200, scaleOf(result));
        return;
      } catch (error) {
        // Only a patch retries: a PUT of a stale Scale must fail with the Conflict.
        const retry = info.verb === 'patch' && error instanceof StatusError && error.reason === 'Conflict';
        if (!retry || attempt >= strategicConflictRetries) throw error;
      }
    }
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    gvk: GroupVersionKind,
    query: URLSearchParams,
    namespace: string | undefined,
    tableWithObject: 'None' | 'Metadata' | 'Object' | undefined,
  ): void {
    const timeoutSeconds = integerParam(query, 'timeoutSeconds', 0);
    const labelSelector = query.get('labelSelector');
    const fieldSelector = query.get('fieldSelector');
    const resourceVersion = query.get('resourceVersion');
    const bookmarks = query.get('allowWatchBookmarks');
    if (bookmarks !== null && !['true', 'false', '1', '0', ''].includes(bookmarks)) {
      throw errors.badRequest(
        `allowWatchBookmarks: invalid value ${JSON.stringify(bookmarks)}: must be a boolean`,
      );
    }
    const events = this.options.registry.watch(gvk, {
      namespace,
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
      ...(bookmarks === 'true' || bookmarks === '1' ? { allowWatchBookmarks: true } : {}),
      ...(timeoutSeconds ? { timeoutSeconds } : {}),
    });
    // The registry checks the parameters while we subscribe (a bad selector or resourceVersion is
    // a 400 Status, not a stream); then the headers go out at once: clients (client-node's Watch)
    // wait for them.
    let streaming = false;
    const startStream = (): void => {
      if (streaming || res.writableEnded) return;
      streaming = true;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
    };
    this.openWatches.add(res);
    const finish = (): void => {
      this.openWatches.delete(res);
      if (!res.writableEnded) res.end();
    };
    let columnsSent = false;
    const subscription = events.subscribe({
      next: (event) => {
        startStream();
        if (tableWithObject === undefined || event.type === 'BOOKMARK') {
          // The registry hands every watcher of one change the same serialized object: a thousand
          // watchers cost one JSON.stringify, not a thousand.
          const json = (event as { [serializedObject]?: string })[serializedObject];
          res.write(
            json === undefined ? `${JSON.stringify(event)}\n` : `{"type":"${event.type}","object":${json}}\n`,
          );
          return;
        }
        // As upstream: each event carries a one-row Table; only the first one has the columns.
        const table = printTable(gvk, [event.object], {
          includeObject: tableWithObject,
        }) as unknown as Record<string, unknown>;
        if (columnsSent) table.columnDefinitions = [];
        columnsSent = true;
        res.write(`${JSON.stringify({ type: event.type, object: table })}\n`);
      },
      error: (error: unknown) => {
        const status = StatusError.from(error);
        // Rejected parameters arrive during subscribe, before the stream: an ordinary error reply.
        // Everything later (a too-old resourceVersion, the store going away) is an ERROR event, as
        // upstream and client-node's informer expect.
        if (!streaming) {
          this.openWatches.delete(res);
          sendError(res, status);
          return;
        }
        startStream();
        res.write(`${JSON.stringify({ type: 'ERROR', object: status.toStatus() })}\n`);
        finish();
      },
      complete: () => {
        startStream();
        finish();
      },
    });
    startStream();
    const stop = (): void => {
      subscription.unsubscribe();
      finish();
    };
    req.on('close', stop);
    res.on('close', stop);
  }
}
