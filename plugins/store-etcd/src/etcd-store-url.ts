// SPDX-License-Identifier: Apache-2.0
import type { StatusError } from '@cpkit/core';
import { invalidStoreArgument } from '@cpkit/core';
import type { EtcdStoreOptions } from './etcd-store.js';

const hostPattern = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const booleans: Record<string, boolean> = {
  '1': true,
  true: true,
  yes: true,
  '0': false,
  false: false,
  no: false,
};
const parameters = [
  'prefix',
  'tls',
  'ca',
  'cert',
  'key',
  'username',
  'password',
  'dialTimeoutMs',
  'requestTimeoutMs',
] as const;

function bad(part: string, value: unknown, why: string): StatusError {
  return invalidStoreArgument(`url ${part}`, value, why);
}

/**
 * Parses a store URL into {@link EtcdStoreOptions}, for command lines and config files:
 *
 * `etcd://host:port[,host:port...][?prefix=/cpkit&tls=1&ca=/ca.pem&cert=/c.pem&key=/k.pem&username=u&password=p&dialTimeoutMs=5000&requestTimeoutMs=10000]`
 *
 * `etcds://` is the same with TLS (as `tls=1`). `ca`, `cert` and `key` are PEM file paths and need
 * TLS. Values are URL-decoded. Anything malformed fails with `BadRequest` naming the part
 * (scheme, host, parameter) and the reason; the files are read later, by {@link openEtcdStore}.
 * @category Store
 */
export function parseEtcdStoreUrl(url: string): EtcdStoreOptions {
  if (typeof url !== 'string' || url.length === 0)
    throw invalidStoreArgument('url', url, 'must be a non-empty string');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (!scheme || (scheme[1] !== 'etcd' && scheme[1] !== 'etcds')) {
    throw bad('scheme', scheme?.[1] ?? url, 'must be etcd:// or etcds://');
  }
  const rest = url.slice(scheme[0].length);
  const queryAt = rest.indexOf('?');
  let authority = queryAt < 0 ? rest : rest.slice(0, queryAt);
  if (authority.endsWith('/')) authority = authority.slice(0, -1);
  if (authority.includes('@')) {
    throw bad('host', authority, 'credentials go in the username and password parameters, not before @');
  }
  if (authority.includes('/'))
    throw bad('host', authority, 'must be host:port[,host:port...] without a path');
  if (authority.length === 0) throw bad('host', authority, 'at least one host:port is required');
  const hosts = authority.split(',').map((host) => {
    const match = hostPattern.exec(host);
    if (!match) throw bad('host', host, 'must be host:port');
    const port = Number(match[2]);
    if (port < 1 || port > 65535) throw bad('host', host, 'port must be between 1 and 65535');
    return host;
  });

  const query = new URLSearchParams(queryAt < 0 ? '' : rest.slice(queryAt + 1));
  const values: Partial<Record<(typeof parameters)[number], string>> = {};
  for (const [name, value] of query) {
    if (!(parameters as readonly string[]).includes(name)) {
      throw bad('parameter', name, `is not one of ${parameters.join(', ')}`);
    }
    const known = name as (typeof parameters)[number];
    if (values[known] !== undefined) throw bad('parameter', name, 'is given more than once');
    values[known] = value;
  }

  let tls = scheme[1] === 'etcds';
  if (values.tls !== undefined) {
    const flag = booleans[values.tls];
    if (flag === undefined) throw bad('parameter tls', values.tls, 'must be 1, 0, true or false');
    if (scheme[1] === 'etcds' && !flag) throw bad('parameter tls', values.tls, 'contradicts etcds://');
    tls = flag;
  }
  const options: EtcdStoreOptions = {
    endpoints: hosts.map((host) => `${tls ? 'https' : 'http'}://${host}`),
  };
  if (values.prefix !== undefined) options.prefix = values.prefix;
  for (const file of ['ca', 'cert', 'key'] as const) {
    const path = values[file];
    if (path === undefined) continue;
    if (!tls) throw bad(`parameter ${file}`, path, 'needs TLS (etcds:// or tls=1)');
    if (path.length === 0) throw bad(`parameter ${file}`, path, 'must be a file path');
    options.tls = { ...options.tls, [file]: path };
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw bad(
      values.cert === undefined ? 'parameter cert' : 'parameter key',
      undefined,
      'cert and key go together',
    );
  }
  if (tls && options.tls === undefined) options.tls = {};
  if (values.username !== undefined || values.password !== undefined) {
    if (!values.username) throw bad('parameter username', values.username, 'is required with a password');
    if (values.password === undefined)
      throw bad('parameter password', undefined, 'is required with a username');
    options.auth = { username: values.username, password: values.password };
  }
  for (const name of ['dialTimeoutMs', 'requestTimeoutMs'] as const) {
    const text = values[name];
    if (text === undefined) continue;
    const number = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(number) || number <= 0) {
      throw bad(`parameter ${name}`, text, 'must be a positive integer of milliseconds');
    }
    options[name] = number;
  }
  return options;
}
