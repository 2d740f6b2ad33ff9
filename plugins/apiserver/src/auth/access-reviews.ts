// SPDX-License-Identifier: Apache-2.0
// The review APIs of authorization.k8s.io/v1 and authentication.k8s.io/v1: create-only resources
// that are never stored; each answers a question about a user (the caller, or one named in the body).
import { errors, type KubeObject, type StatusCause, StatusError, type UserInfo } from '@cpkit/core';
import { nonResourceRequestInfo } from '../server/request-info.js';
import type { AuthenticationChain } from './authentication.js';
import {
  type AuthorizationChain,
  authorizationAttributes,
  type RequestAttributesSource,
  type SubjectRules,
} from './authorization.js';

/** What a review may consult. @category Authorization */
export interface AccessReviewContext {
  /** The (possibly impersonated) caller. */
  user: UserInfo;
  /** The namespace of the URL (`''` for the cluster-scoped reviews). */
  namespace: string;
  /** Absent: no authorization configured, everything is allowed. */
  authorization?: AuthorizationChain;
  /** For TokenReview; absent: every token review answers unauthenticated. */
  authentication?: AuthenticationChain;
  /** The API server's own audiences (TokenReview reports them when the review names none). */
  audiences?: readonly string[];
}

/** One review endpoint: `POST /apis/<group>/<version>[/namespaces/<ns>]/<resource>`. @category Authorization */
export interface AccessReviewEndpoint {
  group: string;
  version: string;
  kind: string;
  resource: string;
  /** True for LocalSubjectAccessReview (the only namespaced review). */
  namespaced: boolean;
  /** The body the server replies with (201): the review with its `status` filled in. */
  review(body: KubeObject, context: AccessReviewContext): Promise<object>;
}

type Attributes = Record<string, unknown> | undefined;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function invalid(kind: string, group: string, causes: StatusCause[]): StatusError {
  return errors.invalid(kind, '', causes, group);
}

/** The spec of an access review, with exactly one of its attribute sets (upstream's validation). */
function accessSpec(body: KubeObject, kind: string): { resource: Attributes; nonResource: Attributes } {
  const spec = ((body as { spec?: unknown }).spec ?? {}) as Record<string, Attributes>;
  const resource = spec.resourceAttributes ?? undefined;
  const nonResource = spec.nonResourceAttributes ?? undefined;
  if ((resource === undefined) === (nonResource === undefined)) {
    throw invalid(kind, 'authorization.k8s.io', [
      {
        reason: 'FieldValueRequired',
        field: 'spec.resourceAttributes',
        message: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      },
    ]);
  }
  return { resource, nonResource };
}

/** The authorization question an access review asks about `user`. */
function reviewAttributes(user: UserInfo, resource: Attributes, nonResource: Attributes) {
  const source: RequestAttributesSource = resource
    ? {
        isResourceRequest: true,
        path: '',
        verb: text(resource.verb),
        group: text(resource.group),
        version: text(resource.version),
        resource: text(resource.resource),
        subresource: text(resource.subresource),
        namespace: text(resource.namespace),
        name: text(resource.name),
      }
    : nonResourceRequestInfo(text(nonResource?.path), text(nonResource?.verb));
  return authorizationAttributes(user, source);
}

async function accessStatus(
  user: UserInfo,
  resource: Attributes,
  nonResource: Attributes,
  authorization: AuthorizationChain | undefined,
): Promise<object> {
  const decision = authorization
    ? await authorization.decide(reviewAttributes(user, resource, nonResource))
    : { decision: 'Allow' as const, reason: 'no authorization is configured' };
  return {
    allowed: decision.decision === 'Allow',
    ...(decision.decision === 'Deny' ? { denied: true } : {}),
    ...(decision.reason ? { reason: decision.reason } : {}),
  };
}

function checkKind(body: KubeObject, kind: string): void {
  if (body.kind !== undefined && body.kind !== kind) {
    throw errors.badRequest(`the body of this request must be a ${kind}, not ${String(body.kind)}`);
  }
}

/** `spec.extra` values: lists of strings (JSON) or `{items: [...]}` (decoded protobuf ExtraValue). */
function extraOf(value: unknown): Record<string, string[]> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const extra: Record<string, string[]> = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    const items = Array.isArray(raw) ? raw : (raw as { items?: unknown })?.items;
    if (Array.isArray(items)) extra[key] = items.filter((item): item is string => typeof item === 'string');
  }
  return Object.keys(extra).length ? extra : undefined;
}

/** The user a SubjectAccessReview asks about, as its spec names it (no groups are added). */
function specUser(body: KubeObject, kind: string): UserInfo {
  const spec = ((body as { spec?: unknown }).spec ?? {}) as Record<string, unknown>;
  const username = text(spec.user);
  const groups = Array.isArray(spec.groups)
    ? spec.groups.filter((g): g is string => typeof g === 'string')
    : [];
  if (!username && groups.length === 0) {
    throw invalid(kind, 'authorization.k8s.io', [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.user',
        message: 'at least one of user or group must be specified',
      },
    ]);
  }
  const uid = text(spec.uid);
  const extra = extraOf(spec.extra);
  return { username, groups, ...(uid ? { uid } : {}), ...(extra ? { extra } : {}) };
}

const authorizationGroup = 'authorization.k8s.io';
const authenticationGroup = 'authentication.k8s.io';

function reply(body: KubeObject, group: string, kind: string, status: object, namespace?: string): object {
  const metadata = { ...((body.metadata as object | undefined) ?? {}), ...(namespace ? { namespace } : {}) };
  return { ...body, apiVersion: `${group}/v1`, kind, metadata, status };
}

const endpoints: AccessReviewEndpoint[] = [
  {
    group: authorizationGroup,
    version: 'v1',
    kind: 'SelfSubjectAccessReview',
    resource: 'selfsubjectaccessreviews',
    namespaced: false,
    async review(body, { user, authorization }) {
      checkKind(body, this.kind);
      const { resource, nonResource } = accessSpec(body, this.kind);
      return reply(
        body,
        this.group,
        this.kind,
        await accessStatus(user, resource, nonResource, authorization),
      );
    },
  },
  {
    group: authorizationGroup,
    version: 'v1',
    kind: 'SubjectAccessReview',
    resource: 'subjectaccessreviews',
    namespaced: false,
    async review(body, { authorization }) {
      checkKind(body, this.kind);
      const { resource, nonResource } = accessSpec(body, this.kind);
      const subject = specUser(body, this.kind);
      return reply(
        body,
        this.group,
        this.kind,
        await accessStatus(subject, resource, nonResource, authorization),
      );
    },
  },
  {
    group: authorizationGroup,
    version: 'v1',
    kind: 'LocalSubjectAccessReview',
    resource: 'localsubjectaccessreviews',
    namespaced: true,
    async review(body, { authorization, namespace }) {
      checkKind(body, this.kind);
      const { resource, nonResource } = accessSpec(body, this.kind);
      if (nonResource || !resource) {
        throw invalid(this.kind, this.group, [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.nonResourceAttributes',
            message: 'disallowed on this kind of request',
          },
        ]);
      }
      const metadataNamespace = text((body.metadata as { namespace?: unknown } | undefined)?.namespace);
      const asked = text(resource.namespace) || namespace;
      if (asked !== namespace || (metadataNamespace && metadataNamespace !== namespace)) {
        throw errors.badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
      }
      const subject = specUser(body, this.kind);
      const attributes = { ...resource, namespace };
      const status = await accessStatus(subject, attributes, undefined, authorization);
      const spec = { ...((body as { spec?: object }).spec ?? {}), resourceAttributes: attributes };
      return reply({ ...body, spec } as KubeObject, this.group, this.kind, status, namespace);
    },
  },
  {
    group: authorizationGroup,
    version: 'v1',
    kind: 'SelfSubjectRulesReview',
    resource: 'selfsubjectrulesreviews',
    namespaced: false,
    async review(body, { user, authorization }) {
      checkKind(body, this.kind);
      const spec = ((body as { spec?: unknown }).spec ?? {}) as Record<string, unknown>;
      const rules: SubjectRules = authorization
        ? authorization.rulesFor(user, text(spec.namespace))
        : {
            resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
            incomplete: false,
          };
      return reply(body, this.group, this.kind, rules);
    },
  },
  {
    group: authenticationGroup,
    version: 'v1',
    kind: 'SelfSubjectReview',
    resource: 'selfsubjectreviews',
    namespaced: false,
    async review(body, { user }) {
      checkKind(body, this.kind);
      return reply(body, this.group, this.kind, {
        userInfo: {
          username: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          groups: [...user.groups],
          ...(user.extra ? { extra: user.extra } : {}),
        },
      });
    },
  },
  {
    group: authenticationGroup,
    version: 'v1',
    kind: 'TokenReview',
    resource: 'tokenreviews',
    namespaced: false,
    async review(body, { authentication, audiences: serverAudiences = [] }) {
      checkKind(body, this.kind);
      const spec = ((body as { spec?: unknown }).spec ?? {}) as Record<string, unknown>;
      const token = text(spec.token);
      if (!token) throw errors.badRequest('token is required for TokenReview in authentication');
      const asked = Array.isArray(spec.audiences)
        ? spec.audiences.filter((a): a is string => typeof a === 'string')
        : [];
      // The server's authenticators accept tokens for its own audiences only: a review for other
      // audiences can only succeed where they overlap.
      const audiences = asked.length
        ? asked.filter((a) => serverAudiences.includes(a))
        : [...serverAudiences];
      const unauthenticated = (error?: string): object =>
        reply(body, this.group, this.kind, { authenticated: false, user: {}, ...(error ? { error } : {}) });
      if (asked.length && audiences.length === 0) {
        return unauthenticated('token audiences are invalid for the target audiences');
      }
      if (!authentication) return unauthenticated();
      let user: UserInfo;
      try {
        user = await authentication.authenticateRequest({ headers: {}, bearerToken: token });
      } catch (error) {
        if (error instanceof StatusError && error.code === 401) return unauthenticated();
        return unauthenticated(error instanceof Error ? error.message : String(error));
      }
      return reply(body, this.group, this.kind, {
        authenticated: true,
        user: {
          username: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          groups: [...user.groups],
          ...(user.extra ? { extra: user.extra } : {}),
        },
        audiences,
      });
    },
  },
];

const byPath = new Map(endpoints.map((e) => [`${e.group}/${e.version}/${e.resource}`, e]));

/**
 * The review endpoint served at `group/version/resource`, if any: SelfSubjectAccessReview,
 * SubjectAccessReview, LocalSubjectAccessReview (namespaced), SelfSubjectRulesReview,
 * SelfSubjectReview and TokenReview. They are create-only and never stored (so they are not kinds
 * of the scheme); access to them is authorized like any other create.
 * @category Authorization
 */
export function accessReviewEndpoint(
  group: string,
  version: string,
  resource: string,
): AccessReviewEndpoint | undefined {
  return byPath.get(`${group}/${version}/${resource}`);
}

/** Every review endpoint. @category Authorization */
export function accessReviewEndpoints(): readonly AccessReviewEndpoint[] {
  return endpoints;
}
