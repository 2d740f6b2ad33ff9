// SPDX-License-Identifier: Apache-2.0
// Decoding of the Kubernetes protobuf wire format for the request bodies kubectl sends as protobuf
// (`kubectl create namespace|configmap|secret`). The message definitions below are written for this
// project from the public field numbers of the Kubernetes API; only the fields those commands set are
// declared, and unknown fields are skipped by the decoder.
import { errors, type KubeObject } from '@cpkit/core';
import protobuf from 'protobufjs';

/** The media type of Kubernetes protobuf bodies. @category API server */
export const protobufContentType = 'application/vnd.kubernetes.protobuf';

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

const descriptor = {
  nested: {
    Unknown: {
      fields: {
        typeMeta: { id: 1, type: 'TypeMeta' },
        raw: { id: 2, type: 'bytes' },
        contentEncoding: { id: 3, type: 'string' },
        contentType: { id: 4, type: 'string' },
      },
    },
    TypeMeta: { fields: { apiVersion: { id: 1, type: 'string' }, kind: { id: 2, type: 'string' } } },
    ObjectMeta: {
      fields: {
        name: { id: 1, type: 'string' },
        generateName: { id: 2, type: 'string' },
        namespace: { id: 3, type: 'string' },
        labels: { id: 11, keyType: 'string', type: 'string' },
        annotations: { id: 12, keyType: 'string', type: 'string' },
      },
    },
    NamespaceSpec: { fields: { finalizers: { id: 1, rule: 'repeated', type: 'string' } } },
    Namespace: {
      fields: { metadata: { id: 1, type: 'ObjectMeta' }, spec: { id: 2, type: 'NamespaceSpec' } },
    },
    ConfigMap: {
      fields: {
        metadata: { id: 1, type: 'ObjectMeta' },
        data: { id: 2, keyType: 'string', type: 'string' },
        binaryData: { id: 3, keyType: 'string', type: 'bytes' },
      },
    },
    ResourceAttributes: {
      fields: {
        namespace: { id: 1, type: 'string' },
        verb: { id: 2, type: 'string' },
        group: { id: 3, type: 'string' },
        version: { id: 4, type: 'string' },
        resource: { id: 5, type: 'string' },
        subresource: { id: 6, type: 'string' },
        name: { id: 7, type: 'string' },
      },
    },
    NonResourceAttributes: { fields: { path: { id: 1, type: 'string' }, verb: { id: 2, type: 'string' } } },
    SelfSubjectAccessReviewSpec: {
      fields: {
        resourceAttributes: { id: 1, type: 'ResourceAttributes' },
        nonResourceAttributes: { id: 2, type: 'NonResourceAttributes' },
      },
    },
    SelfSubjectAccessReview: {
      fields: {
        metadata: { id: 1, type: 'ObjectMeta' },
        spec: { id: 2, type: 'SelfSubjectAccessReviewSpec' },
      },
    },
    SelfSubjectReview: { fields: { metadata: { id: 1, type: 'ObjectMeta' } } },
    Secret: {
      fields: {
        metadata: { id: 1, type: 'ObjectMeta' },
        data: { id: 2, keyType: 'string', type: 'bytes' },
        type: { id: 3, type: 'string' },
      },
    },
  },
};
const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);

/** The kinds whose protobuf bodies this server decodes, by `apiVersion/kind`. */
const decodable: Readonly<Record<string, string>> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'SelfSubjectAccessReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'SelfSubjectReview',
};

/** Map fields: their values are data, kept even when empty. */
const mapFields = new Set(['labels', 'annotations', 'data', 'binaryData']);

function dropEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropEmpty);
  if (typeof value !== 'object' || value === null) return value;
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    // proto2 writes empty strings explicitly; JSON clients omit them.
    if (field === '' || field === undefined) continue;
    const cleaned = mapFields.has(key) ? field : dropEmpty(field);
    if (
      typeof cleaned === 'object' &&
      cleaned !== null &&
      !Array.isArray(cleaned) &&
      Object.keys(cleaned).length === 0
    ) {
      continue;
    }
    result[key] = cleaned;
  }
  return result;
}

/**
 * Decodes a Kubernetes protobuf body (`k8s\0` + runtime.Unknown) into the JSON form of the object.
 * @throws StatusError `UnsupportedMediaType` for a kind this server cannot decode yet, `BadRequest`
 *   for a malformed body.
 * @category API server
 */
export function decodeProtobufObject(body: Buffer): KubeObject {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    throw errors.badRequest('the protobuf body does not start with the "k8s\\0" prefix');
  }
  let unknown: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  try {
    unknown = root.lookupType('Unknown').decode(body.subarray(magic.length)) as typeof unknown;
  } catch (error) {
    throw errors.badRequest(`the protobuf body is malformed: ${(error as Error).message}`);
  }
  const apiVersion = unknown.typeMeta?.apiVersion ?? '';
  const kind = unknown.typeMeta?.kind ?? '';
  const message = decodable[`${apiVersion}/${kind}`];
  if (!message) {
    throw errors.unsupportedMediaType(
      `protobuf bodies of ${apiVersion}/${kind || '(no kind)'} are not supported yet - accepted media types include: application/json`,
    );
  }
  let decoded: unknown;
  try {
    const type = root.lookupType(message);
    decoded = type.toObject(type.decode(unknown.raw ?? new Uint8Array()), { bytes: String, longs: Number });
  } catch (error) {
    throw errors.badRequest(`the protobuf ${kind} is malformed: ${(error as Error).message}`);
  }
  return { apiVersion, kind, ...(dropEmpty(decoded) as object) } as KubeObject;
}
