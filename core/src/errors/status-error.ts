// SPDX-License-Identifier: Apache-2.0
/**
 * The one error type of cpkit. It mirrors the Kubernetes `metav1.Status` object so an error keeps its
 * reason, code and field causes across the Store, the registry, the ApiClient and the HTTP boundary.
 *
 * @module
 */

/** The `reason` values cpkit produces, with the HTTP code Kubernetes pairs them with. */
export type StatusReason =
  | 'BadRequest' // 400
  | 'Unauthorized' // 401
  | 'Forbidden' // 403
  | 'NotFound' // 404
  | 'MethodNotAllowed' // 405
  | 'NotAcceptable' // 406
  | 'AlreadyExists' // 409
  | 'Conflict' // 409
  | 'Gone' // 410
  | 'Expired' // 410
  | 'RequestEntityTooLarge' // 413
  | 'UnsupportedMediaType' // 415
  | 'Invalid' // 422
  | 'TooManyRequests' // 429
  | 'InternalError' // 500
  | 'ServiceUnavailable' // 503
  | 'Timeout' // 504
  | 'Unknown';

/** The HTTP status code Kubernetes uses for each reason. */
export const statusCodeForReason: Readonly<Record<StatusReason, number>> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
  Unknown: 500,
};

/** The `type` values of a field cause, as Kubernetes field errors name them. */
export type CauseType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldManagerConflict'
  | 'FieldValueNotFound'
  | 'UnexpectedServerResponse'
  | 'InternalError';

/** One cause of a failure; for `Invalid` errors each cause names a field path such as `metadata.name`. */
export interface StatusCause {
  /** Machine-readable cause, e.g. `FieldValueInvalid`. */
  reason: CauseType | string;
  /** Human-readable description. */
  message: string;
  /** Field path (`spec.containers[0].image`) the cause refers to, when it refers to one. */
  field?: string;
}

/** `metav1.StatusDetails`. */
export interface StatusDetails {
  name?: string;
  group?: string;
  /** The resource (plural), as Kubernetes fills it, e.g. `pods` or `deployments`. */
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  /** Seconds a client should wait before retrying (set for TooManyRequests and some 5xx). */
  retryAfterSeconds?: number;
}

/** The JSON shape of `metav1.Status` on the wire. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: { resourceVersion?: string; continue?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | string;
  details?: StatusDetails;
  code: number;
}

/** Identifies the object an error is about, for messages like `pods "web" not found`. */
export interface ErrorSubject {
  /** Resource plural, e.g. `pods`. */
  resource?: string;
  /** API group; empty or absent for the core group. */
  group?: string;
  name?: string;
}

function qualifiedResource(subject: ErrorSubject): string {
  const resource = subject.resource ?? 'resource';
  return subject.group ? `${resource}.${subject.group}` : resource;
}

/**
 * An error that carries a Kubernetes `Status`. Throw it (or reject with it) for every expected
 * failure; anything else that escapes is reported as `InternalError`.
 */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  readonly reason: StatusReason | string;
  readonly code: number;
  readonly details: StatusDetails | undefined;

  constructor(reason: StatusReason | string, message: string, details?: StatusDetails, code?: number) {
    super(message);
    this.reason = reason;
    this.code = code ?? statusCodeForReason[reason as StatusReason] ?? 500;
    this.details = details;
  }

  /** The `metav1.Status` object for this error. */
  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }

  /** Rebuilds an error from a `Status` received from a server. */
  static fromStatus(status: Pick<Status, 'reason' | 'message' | 'details' | 'code'>): StatusError {
    return new StatusError(status.reason ?? 'Unknown', status.message ?? '', status.details, status.code);
  }

  /** Wraps anything thrown into a StatusError; a StatusError passes through unchanged. */
  static from(error: unknown): StatusError {
    if (error instanceof StatusError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new StatusError('InternalError', `Internal error occurred: ${message}`);
  }
}

/** True when `error` is a StatusError with the given reason. */
export function isStatusError(error: unknown, reason?: StatusReason): error is StatusError {
  return error instanceof StatusError && (reason === undefined || error.reason === reason);
}

/** Constructors for the common errors, with the messages Kubernetes clients print. */
export const errors = {
  notFound(subject: ErrorSubject): StatusError {
    return new StatusError('NotFound', `${qualifiedResource(subject)} "${subject.name ?? ''}" not found`, {
      name: subject.name,
      group: subject.group,
      kind: subject.resource,
    });
  },
  alreadyExists(subject: ErrorSubject): StatusError {
    return new StatusError(
      'AlreadyExists',
      `${qualifiedResource(subject)} "${subject.name ?? ''}" already exists`,
      { name: subject.name, group: subject.group, kind: subject.resource },
    );
  },
  conflict(subject: ErrorSubject, why: string): StatusError {
    return new StatusError(
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedResource(subject)} "${subject.name ?? ''}": ${why}`,
      { name: subject.name, group: subject.group, kind: subject.resource },
    );
  },
  /** 422 with one cause per field error; `kind` is the object kind, e.g. `Pod`. */
  invalid(kind: string, name: string, causes: StatusCause[], group?: string): StatusError {
    const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
    const what = group ? `${kind}.${group}` : kind;
    return new StatusError('Invalid', `${what} "${name}" is invalid: ${summary}`, {
      name,
      group,
      kind,
      causes,
    });
  },
  /** 410 Expired, as a watch or list whose resourceVersion was compacted gets it. */
  expired(message: string): StatusError {
    return new StatusError('Expired', message);
  },
  gone(message: string): StatusError {
    return new StatusError('Gone', message);
  },
  badRequest(message: string, causes?: StatusCause[]): StatusError {
    return new StatusError('BadRequest', message, causes ? { causes } : undefined);
  },
  forbidden(message: string): StatusError {
    return new StatusError('Forbidden', message);
  },
  unauthorized(message = 'Unauthorized'): StatusError {
    return new StatusError('Unauthorized', message);
  },
  methodNotAllowed(message: string): StatusError {
    return new StatusError('MethodNotAllowed', message);
  },
  unsupportedMediaType(message: string): StatusError {
    return new StatusError('UnsupportedMediaType', message);
  },
  tooManyRequests(message: string, retryAfterSeconds = 1): StatusError {
    return new StatusError('TooManyRequests', message, { retryAfterSeconds });
  },
  timeout(message: string): StatusError {
    return new StatusError('Timeout', message);
  },
  internal(message: string): StatusError {
    return new StatusError('InternalError', `Internal error occurred: ${message}`);
  },
  serviceUnavailable(message: string, retryAfterSeconds?: number): StatusError {
    return new StatusError(
      'ServiceUnavailable',
      message,
      retryAfterSeconds ? { retryAfterSeconds } : undefined,
    );
  },
} as const;
