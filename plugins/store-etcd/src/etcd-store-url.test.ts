// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { EtcdStoreOptions } from './etcd-store.js';
import { parseEtcdStoreUrl } from './etcd-store-url.js';

describe('parseEtcdStoreUrl', () => {
  const good: [string, EtcdStoreOptions][] = [
    ['etcd://127.0.0.1:2379', { endpoints: ['http://127.0.0.1:2379'] }],
    ['etcd://127.0.0.1:2379/', { endpoints: ['http://127.0.0.1:2379'] }],
    [
      'etcd://10.0.0.1:2379,10.0.0.2:2379,etcd-3.local:2379',
      { endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379', 'http://etcd-3.local:2379'] },
    ],
    ['etcd://[::1]:2379?prefix=/cpkit', { endpoints: ['http://[::1]:2379'], prefix: '/cpkit' }],
    ['etcds://e:2379', { endpoints: ['https://e:2379'], tls: {} }],
    [
      'etcd://e:2379?tls=1&ca=/etc/ca.pem&cert=/etc/c.pem&key=/etc/k.pem',
      { endpoints: ['https://e:2379'], tls: { ca: '/etc/ca.pem', cert: '/etc/c.pem', key: '/etc/k.pem' } },
    ],
    [
      'etcds://e:2379?ca=%2Fmy%20certs%2Fca.pem',
      { endpoints: ['https://e:2379'], tls: { ca: '/my certs/ca.pem' } },
    ],
    [
      'etcd://e:2379?username=root&password=p%26w',
      { endpoints: ['http://e:2379'], auth: { username: 'root', password: 'p&w' } },
    ],
    [
      'etcd://e:2379?dialTimeoutMs=250&requestTimeoutMs=3000&tls=false',
      { endpoints: ['http://e:2379'], dialTimeoutMs: 250, requestTimeoutMs: 3000 },
    ],
  ];
  it.each(good)('%s', (url, expected) => {
    expect(parseEtcdStoreUrl(url)).toEqual(expected);
  });

  const bad: [string, unknown, string][] = [
    ['empty', '', 'url'],
    ['not a string', 42, 'url'],
    ['http scheme', 'http://127.0.0.1:2379', 'url scheme'],
    ['no scheme', '127.0.0.1:2379', 'url scheme'],
    ['no host', 'etcd://', 'url host'],
    ['host without port', 'etcd://127.0.0.1', 'url host'],
    ['empty host in a list', 'etcd://a:1,,b:2', 'url host'],
    ['port out of range', 'etcd://a:99999', 'url host'],
    ['credentials before @', 'etcd://root:pw@a:1', 'url host'],
    ['a path', 'etcd://a:1/cpkit', 'url host'],
    ['unknown parameter', 'etcd://a:1?prefx=/x', 'url parameter'],
    ['repeated parameter', 'etcd://a:1?prefix=/x&prefix=/y', 'url parameter'],
    ['tls not a boolean', 'etcd://a:1?tls=maybe', 'url parameter tls'],
    ['tls=0 with etcds', 'etcds://a:1?tls=0', 'url parameter tls'],
    ['ca without TLS', 'etcd://a:1?ca=/ca.pem', 'url parameter ca'],
    ['cert without key', 'etcds://a:1?cert=/c.pem', 'url parameter key'],
    ['password without username', 'etcd://a:1?password=x', 'url parameter username'],
    ['username without password', 'etcd://a:1?username=x', 'url parameter password'],
    ['zero dial timeout', 'etcd://a:1?dialTimeoutMs=0', 'url parameter dialTimeoutMs'],
    ['non-numeric request timeout', 'etcd://a:1?requestTimeoutMs=10s', 'url parameter requestTimeoutMs'],
  ];
  it.each(bad)('rejects %s with BadRequest naming the part', (_, url, part) => {
    let caught: unknown;
    try {
      parseEtcdStoreUrl(url as string);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ name: 'StatusError', reason: 'BadRequest', code: 400 });
    expect((caught as Error).message).toMatch(new RegExp(`^invalid ${part} `));
  });
});
