// SPDX-License-Identifier: Apache-2.0
import { StatusError } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { parseRequestInfo } from './request-info.js';

describe('parseRequestInfo', () => {
  it.each([
    [
      'GET',
      '/api/v1/pods',
      { verb: 'list', group: '', version: 'v1', resource: 'pods', namespace: '', name: '' },
    ],
    ['GET', '/api/v1/namespaces/ns1/pods', { verb: 'list', resource: 'pods', namespace: 'ns1', name: '' }],
    [
      'GET',
      '/api/v1/namespaces/ns1/pods/web',
      { verb: 'get', resource: 'pods', namespace: 'ns1', name: 'web' },
    ],
    ['GET', '/api/v1/namespaces/ns1/pods?watch=true', { verb: 'watch', resource: 'pods', namespace: 'ns1' }],
    ['GET', '/api/v1/pods?watch=1', { verb: 'watch', resource: 'pods' }],
    ['GET', '/api/v1/pods?watch=false', { verb: 'list', resource: 'pods' }],
    [
      'POST',
      '/api/v1/namespaces/ns1/configmaps',
      { verb: 'create', resource: 'configmaps', namespace: 'ns1' },
    ],
    ['PUT', '/api/v1/namespaces/ns1/pods/web/status', { verb: 'update', name: 'web', subresource: 'status' }],
    [
      'PATCH',
      '/apis/apps/v1/namespaces/d/deployments/web',
      { verb: 'patch', group: 'apps', resource: 'deployments' },
    ],
    ['DELETE', '/apis/apps/v1/namespaces/d/deployments/web', { verb: 'delete', name: 'web', namespace: 'd' }],
    ['DELETE', '/apis/apps/v1/namespaces/d/deployments', { verb: 'deletecollection', name: '' }],
    // The namespace object itself, and its subresources.
    ['GET', '/api/v1/namespaces', { verb: 'list', resource: 'namespaces', namespace: '', name: '' }],
    ['GET', '/api/v1/namespaces/kube-system', { verb: 'get', resource: 'namespaces', name: 'kube-system' }],
    [
      'PUT',
      '/api/v1/namespaces/x/finalize',
      { verb: 'update', resource: 'namespaces', name: 'x', subresource: 'finalize', namespace: '' },
    ],
    ['GET', '/api/v1/nodes/n1/', { verb: 'get', resource: 'nodes', name: 'n1' }],
    ['GET', '/api/v1/namespaces/a/configmaps/x%2Ey', { verb: 'get', name: 'x.y' }],
  ])('%s %s', (method, url, expected) => {
    expect(parseRequestInfo(method, url)).toMatchObject({ isResourceRequest: true, ...expected });
  });

  it.each([
    ['/version'],
    ['/healthz'],
    ['/api'],
    ['/api/v1'],
    ['/apis'],
    ['/apis/apps'],
    ['/apis/apps/v1'],
    ['/openapi/v2'],
  ])('%s is not a resource request', (url) => {
    expect(parseRequestInfo('GET', url)).toMatchObject({ isResourceRequest: false, verb: 'get', path: url });
  });

  it.each([
    ['/api/v1/namespaces/a/pods/b/status/extra', 'too many segments'],
    ['/api/v1/namespaces//pods', 'empty segment'],
    ['/api/v1/pods/%E0%A4%A', 'malformed percent-encoding'],
  ])('%s is a BadRequest naming the problem', (url, why) => {
    let caught: unknown;
    try {
      parseRequestInfo('GET', url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StatusError);
    expect(caught).toMatchObject({ reason: 'BadRequest', code: 400 });
    expect((caught as Error).message).toContain(why);
  });
});
