// SPDX-License-Identifier: Apache-2.0

/**
 * The subset of an OpenAPI v3 schema object the API server serves and checks against, with the
 * Kubernetes extensions upstream uses.
 * @category API server
 */
export interface OpenApiSchema {
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema | boolean;
  allOf?: OpenApiSchema[];
  anyOf?: OpenApiSchema[];
  $ref?: string;
  'x-kubernetes-group-version-kind'?: { group: string; kind: string; version: string }[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
}
