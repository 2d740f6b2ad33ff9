// SPDX-License-Identifier: Apache-2.0
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { errors } from '@cpkit/core';
import Database from 'better-sqlite3';

/** One key as SQLite keeps it: only the latest value of each live key is on disk. */
export interface StoredRow {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

/** One change to persist: the key's new version; a `deleted` version removes the key. */
export interface PersistedChange {
  key: string;
  version: { value: string; createRevision: number; modRevision: number; deleted: boolean };
}

/** What a store file holds when it is opened. */
export interface LoadedState {
  revision: number;
  rows: StoredRow[];
}

/**
 * How hard a commit pushes data to disk; see the package README.
 * @category Store
 */
export type SynchronousMode = 'full' | 'normal';

const schemaVersion = 1;
const fileExtensions = new Set(['.db', '.sqlite', '.sqlite3']);

const schema = `
  CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    create_revision INTEGER NOT NULL,
    mod_revision INTEGER NOT NULL
  );
  INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ${schemaVersion}), ('revision', 0);
`;

/**
 * Resolves `options.path` to the SQLite file: an existing file, or a name ending in `.db`,
 * `.sqlite` or `.sqlite3`, is the file itself; anything else is a data directory holding `store.db`.
 */
export function resolveStoreFile(path: string): string {
  if (existsSync(path)) return statSync(path).isDirectory() ? join(path, 'store.db') : path;
  return fileExtensions.has(extname(path)) ? path : join(path, 'store.db');
}

function unavailable(file: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return errors.serviceUnavailable(`embedded store file ${file} cannot be used: ${message}`);
}

function readState(db: Database.Database, file: string): LoadedState {
  const version = db.prepare("SELECT value FROM meta WHERE name = 'schema_version'").pluck().get();
  if (version !== schemaVersion) {
    throw unavailable(file, new Error(`unsupported schema version ${String(version)}`));
  }
  const revision = db.prepare("SELECT value FROM meta WHERE name = 'revision'").pluck().get() as number;
  const rows = (
    db.prepare('SELECT key, value, create_revision, mod_revision FROM kv').raw().all() as [
      string,
      string,
      number,
      number,
    ][]
  ).map(([key, value, createRevision, modRevision]) => ({ key, value, createRevision, modRevision }));
  return { revision, rows };
}

/**
 * The durable half of the embedded store: a SQLite database in WAL mode holding the latest value of
 * every live key and the store's revision. History lives only in memory (see the README).
 */
export class SqliteFile {
  private readonly db: Database.Database;
  private readonly commitBatch: (changes: readonly PersistedChange[], revision: number) => void;

  private constructor(
    readonly file: string,
    synchronous: SynchronousMode,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    // A short busy timeout: another process holding the file is an error to report, not to wait out.
    this.db = new Database(file, { timeout: 1000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // One process owns a store file; the exclusive lock makes a second opener fail instead of
    // silently forking the revision sequence.
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.exec(schema);
    this.db.exec('BEGIN EXCLUSIVE; COMMIT');
    const put = this.db.prepare(
      'INSERT OR REPLACE INTO kv (key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?)',
    );
    const remove = this.db.prepare('DELETE FROM kv WHERE key = ?');
    const setRevision = this.db.prepare("UPDATE meta SET value = ? WHERE name = 'revision'");
    this.commitBatch = this.db.transaction((changes: readonly PersistedChange[], revision: number) => {
      for (const { key, version } of changes) {
        if (version.deleted) remove.run(key);
        else put.run(key, version.value, version.createRevision, version.modRevision);
      }
      setRevision.run(revision);
    });
  }

  /** Opens (creating when absent) the store file for reading and writing. */
  static open(file: string, synchronous: SynchronousMode): SqliteFile {
    try {
      return new SqliteFile(file, synchronous);
    } catch (error) {
      throw unavailable(file, error);
    }
  }

  /** Reads a store file (a data file or a backup) without changing it. */
  static read(file: string): LoadedState {
    if (!existsSync(file)) throw errors.notFound({ resource: 'store file', name: file });
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      return readState(db, file);
    } catch (error) {
      throw (error as { reason?: unknown }).reason ? error : unavailable(file, error);
    } finally {
      db?.close();
    }
  }

  /**
   * Writes `rows` at `revision` into a fresh single-file database (no WAL) at `path`, atomically:
   * it is built beside the target and renamed over it, so a crash never leaves half a backup.
   * Returns the size of the file in bytes.
   */
  static writeSnapshot(path: string, rows: Iterable<StoredRow>, revision: number): number {
    const temporary = `${path}.tmp-${process.pid}-${Date.now()}`;
    const db = new Database(temporary);
    try {
      db.pragma('journal_mode = DELETE');
      db.exec(schema);
      const put = db.prepare(
        'INSERT INTO kv (key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?)',
      );
      db.transaction(() => {
        for (const row of rows) put.run(row.key, row.value, row.createRevision, row.modRevision);
        db.prepare("UPDATE meta SET value = ? WHERE name = 'revision'").run(revision);
      })();
      db.close();
      renameSync(temporary, path);
      return statSync(path).size;
    } catch (error) {
      if (db.open) db.close();
      rmSync(temporary, { force: true });
      throw error;
    }
  }

  load(): LoadedState {
    return readState(this.db, this.file);
  }

  /** Commits `changes` and the new store revision in one transaction; returns after the commit. */
  commit(changes: readonly PersistedChange[], revision: number): void {
    this.commitBatch(changes, revision);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
