// SPDX-License-Identifier: Apache-2.0
import { readFile } from 'node:fs/promises';
import { type AuthenticationRequest, type Authenticator, errors, type UserInfo } from '@cpkit/core';

/**
 * Splits one CSV record (RFC 4180 quoting: `"a,b"` is one field, `""` inside quotes is a quote).
 * The token file format is this small subset of CSV, so no CSV library is pulled in for it.
 */
function parseCsvRecord(line: string, lineNumber: number): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        i++;
        if (i < line.length && line[i] !== ',') {
          throw errors.badRequest(`token file line ${lineNumber}: unexpected text after a closing quote`);
        }
        continue;
      }
      field += ch;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else {
      field += ch;
    }
    i++;
  }
  if (quoted) throw errors.badRequest(`token file line ${lineNumber}: unterminated quote`);
  fields.push(field);
  return fields;
}

/**
 * Parses a static token file in upstream's `--token-auth-file` format: one CSV record per line,
 * `token,user,uid[,"group1,group2"]`. Blank lines and lines starting with `#` are skipped; a later
 * line with the same token replaces an earlier one.
 * @throws StatusError `BadRequest` naming the line for a record with fewer than 3 columns, an empty
 *   token or user name, or broken quoting.
 * @category Authentication
 */
export function parseTokenFile(text: string): Map<string, UserInfo> {
  const users = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNumber = index + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const record = parseCsvRecord(raw, lineNumber);
    if (record.length < 3) {
      throw errors.badRequest(
        `token file line ${lineNumber}: needs at least 3 columns (token, user name, uid), found ${record.length}`,
      );
    }
    const [token = '', username = '', uid = '', groupList = ''] = record;
    if (token === '') throw errors.badRequest(`token file line ${lineNumber}: the token is empty`);
    if (username === '') throw errors.badRequest(`token file line ${lineNumber}: the user name is empty`);
    const groups = groupList
      .split(',')
      .map((group) => group.trim())
      .filter((group) => group !== '');
    users.set(token, { username, ...(uid ? { uid } : {}), groups });
  });
  return users;
}

/**
 * Bearer tokens from a static token file ({@link parseTokenFile}). A token that is not in the file is
 * left to the next authenticator (a service-account token, say).
 * @category Authentication
 */
export class TokenFileAuthenticator implements Authenticator {
  readonly name = 'token-file';

  constructor(private readonly users: ReadonlyMap<string, UserInfo>) {}

  /** Reads and parses the file at `path` (read once, as upstream: restart to pick up changes). */
  static async fromFile(path: string): Promise<TokenFileAuthenticator> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw errors.badRequest(`cannot read the token file ${path}: ${(error as Error).message}`);
    }
    return new TokenFileAuthenticator(parseTokenFile(text));
  }

  async authenticate(request: AuthenticationRequest): Promise<UserInfo | undefined> {
    if (!request.bearerToken) return undefined;
    const user = this.users.get(request.bearerToken);
    return user ? { ...user, groups: [...user.groups] } : undefined;
  }
}
