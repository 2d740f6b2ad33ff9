// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container, Store } from '@cpkit/core';
import { describeStoreContract } from '@cpkit/core/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStore, embeddedStoreModule, openEmbeddedStore, restoreEmbeddedStore } from './index.js';

const directories: string[] = [];
function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'cpkit-embedded-store-'));
  directories.push(directory);
  return directory;
}
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const openWatches = (store: unknown): number => (store as EmbeddedStore).watchCount;

describeStoreContract('EmbeddedStore (memory)', {
  create: () => EmbeddedStore.open(),
  restore: (backupPath) => EmbeddedStore.open({ path: backupPath, durable: false }),
  openWatches,
});

describeStoreContract('EmbeddedStore (durable)', {
  create: () => EmbeddedStore.open({ path: temporaryDirectory(), synchronous: 'normal' }),
  restore: (backupPath) => restoreEmbeddedStore(backupPath, temporaryDirectory()),
  openWatches,
});

describe('EmbeddedStore', () => {
  const stores: EmbeddedStore[] = [];
  const track = (store: EmbeddedStore): EmbeddedStore => {
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  it('keeps every key, its revisions and the store revision across a reopen', async () => {
    const path = temporaryDirectory();
    const first = await EmbeddedStore.open({ path });
    const a = await first.create('/k/a', 'a1');
    await first.update('/k/a', 'a2', a.modRevision);
    await first.create('/k/b', 'b');
    await first.delete('/k/b');
    const expected = (await first.list('/')).items;
    const revision = await first.currentRevision();
    await first.close();

    const second = track(await EmbeddedStore.open({ path }));
    expect((await second.list('/')).items).toEqual(expected);
    expect(await second.currentRevision()).toBe(revision);
    // History stays in memory only: the reopened store starts compacted at its revision.
    expect(await second.compactedRevision()).toBe(revision);
    await expect(second.get('/k/a', { revision: a.modRevision })).rejects.toMatchObject({
      reason: 'Expired',
    });
    expect((await second.create('/k/c', 'c')).modRevision).toBe(revision + 1);
  });

  it('commits the writes of one event-loop turn together and acknowledges each', async () => {
    const store = track(await EmbeddedStore.open({ path: temporaryDirectory() }));
    const entries = await Promise.all(Array.from({ length: 500 }, (_, i) => store.create(`/g/${i}`, `${i}`)));
    expect(entries.map((entry) => entry.modRevision)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect((await store.list('/g/')).items).toHaveLength(500);
  });

  it('refuses a second opener of the same data directory', async () => {
    const path = temporaryDirectory();
    track(await EmbeddedStore.open({ path }));
    await expect(EmbeddedStore.open({ path })).rejects.toMatchObject({
      reason: 'ServiceUnavailable',
      code: 503,
    });
  });

  it('restoreEmbeddedStore refuses to overwrite an existing store', async () => {
    const path = temporaryDirectory();
    const store = track(await EmbeddedStore.open({ path }));
    await store.create('/a', '1');
    const backup = join(temporaryDirectory(), 'backup.db');
    await store.backup(backup);
    await expect(restoreEmbeddedStore(backup, path)).rejects.toMatchObject({ reason: 'AlreadyExists' });
    const restored = track(await restoreEmbeddedStore(backup, join(temporaryDirectory(), 'restored')));
    expect((await restored.get('/a')).value).toBe('1');
  });

  it.each([
    ['durable without a path', { durable: true }],
    ['an empty path', { path: '' }],
    ['an unknown synchronous mode', { synchronous: 'sometimes' }],
    ['a negative compaction interval', { compactionIntervalMs: -1 }],
  ])('rejects options with %s as BadRequest', async (_, options) => {
    await expect(EmbeddedStore.open(options as never)).rejects.toMatchObject({
      reason: 'BadRequest',
      code: 400,
    });
  });

  it('fails with ServiceUnavailable on a file that is not a store, NotFound on a missing backup', async () => {
    const file = join(temporaryDirectory(), 'garbage.db');
    writeFileSync(file, 'this is not a SQLite database, just some text that is long enough to read');
    await expect(EmbeddedStore.open({ path: file })).rejects.toMatchObject({ reason: 'ServiceUnavailable' });
    await expect(
      EmbeddedStore.open({ path: join(temporaryDirectory(), 'missing.db'), durable: false }),
    ).rejects.toMatchObject({ reason: 'NotFound' });
  });

  it('rejects reads and compaction at a future revision as BadRequest', async () => {
    const store = track(await EmbeddedStore.open());
    await store.create('/a', '1');
    await expect(store.get('/a', { revision: 5 })).rejects.toMatchObject({ reason: 'BadRequest' });
    await expect(store.list('/', { revision: 5 })).rejects.toMatchObject({ reason: 'BadRequest' });
    await expect(store.compact(5)).rejects.toMatchObject({ reason: 'BadRequest' });
  });

  it('compaction frees the history of deleted keys', async () => {
    const store = track(await EmbeddedStore.open());
    const a = await store.create('/a', '1');
    await store.update('/a', '2', a.modRevision);
    await store.delete('/a');
    await store.compact(await store.currentRevision());
    await expect(store.get('/a')).rejects.toMatchObject({ reason: 'NotFound' });
    expect((await store.list('/')).items).toEqual([]);
    expect((await store.create('/a', '3')).createRevision).toBe(4);
  });

  it('compacts automatically to the revision seen one interval earlier', async () => {
    const store = track(await EmbeddedStore.open({ compactionIntervalMs: 20 }));
    await store.create('/a', '1');
    const revision = await store.currentRevision();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await store.compactedRevision()).toBe(revision);
  });

  it('embeddedStoreModule binds the Store role to the opened store', async () => {
    const store = track(await openEmbeddedStore());
    const container = new Container();
    container.load(embeddedStoreModule(store));
    expect(container.get<Store>(Store)).toBe(store);
  });
});
