// SPDX-License-Identifier: Apache-2.0
// List and watch semantics over HTTP that clients rely on: paging, resourceVersionMatch, 410 after
// compaction (as an HTTP status on lists, as an ERROR event on watches), bookmarks, timeoutSeconds,
// selectors on watches, dryRun, and deletecollection.
import { type EmbeddedStore, openEmbeddedStore } from '@cpkit/store-embedded';
import { beforeAll, describe, expect, it } from 'vitest';
import { usePlainApiServer } from '../testing/api-server.js';

let store: EmbeddedStore;
const api = usePlainApiServer({
  store: async () => {
    store = await openEmbeddedStore({ compactionIntervalMs: 0 });
    return store;
  },
  registry: { bookmarkIntervalMs: 200 },
});
const { call } = api;

/** Reads a watch stream until `until` holds for the events so far or the server ends it. */
async function watchEvents(
  path: string,
  until: (events: any[]) => boolean = () => false,
  limitMs = 10_000,
): Promise<{ events: any[]; ended: boolean }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), limitMs);
  const response = await fetch(`${api.base}${path}`, { signal: abort.signal });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: any[] = [];
  let text = '';
  let ended = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      text += decoder.decode(value, { stream: true });
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) events.push(JSON.parse(line));
      if (until(events)) break;
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return { events, ended };
}

const cms = '/api/v1/namespaces/default/configmaps';
const cm = (name: string, labels: Record<string, string> = {}) => ({
  metadata: { name, labels },
  data: { k: name },
});

describe('lists over HTTP', () => {
  beforeAll(async () => {
    for (let i = 0; i < 7; i++) {
      expect((await call('POST', cms, cm(`page-${i}`, { set: 'paging' }))).status).toBe(201);
    }
  });

  it('pages with limit and continue, every item exactly once, at one resourceVersion', async () => {
    const names: string[] = [];
    let token = '';
    let pages = 0;
    let listRv: string | undefined;
    do {
      const reply = await call(
        'GET',
        `${cms}?labelSelector=set%3Dpaging&limit=3${token ? `&continue=${encodeURIComponent(token)}` : ''}`,
      );
      expect(reply.status).toBe(200);
      expect(reply.body.kind).toBe('ConfigMapList');
      listRv ??= reply.body.metadata.resourceVersion;
      expect(reply.body.metadata.resourceVersion).toBe(listRv);
      names.push(...reply.body.items.map((item: any) => item.metadata.name));
      token = reply.body.metadata.continue ?? '';
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(names.sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`));
  });

  it('reads an older state with resourceVersionMatch=Exact, and 410 once it is compacted', async () => {
    const before = (await call('GET', `${cms}?labelSelector=set%3Dpaging`)).body.metadata.resourceVersion;
    await call('DELETE', `${cms}/page-6`);
    const exact = await call(
      'GET',
      `${cms}?labelSelector=set%3Dpaging&resourceVersion=${before}&resourceVersionMatch=Exact`,
    );
    expect(exact.status).toBe(200);
    expect(exact.body.items).toHaveLength(7);
    expect((await call('GET', `${cms}?labelSelector=set%3Dpaging`)).body.items).toHaveLength(6);
    await store.compact(await store.currentRevision());
    const expired = await call('GET', `${cms}?resourceVersion=${before}&resourceVersionMatch=Exact`);
    expect(expired).toMatchObject({ status: 410, body: { kind: 'Status', reason: 'Expired', code: 410 } });
    const badMatch = await call('GET', `${cms}?resourceVersionMatch=Sometimes`);
    expect(badMatch).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
  });

  it('dryRun=All validates and answers, and persists nothing', async () => {
    const reply = await call('POST', `${cms}?dryRun=All`, cm('dry'));
    expect(reply.status).toBe(201);
    expect(reply.body.metadata.name).toBe('dry');
    expect((await call('GET', `${cms}/dry`)).status).toBe(404);
    await call('POST', cms, cm('wet'));
    expect((await call('DELETE', `${cms}/wet?dryRun=All`)).status).toBe(200);
    expect((await call('GET', `${cms}/wet`)).status).toBe(200);
  });

  it('deletecollection deletes what the selector matches, and nothing else', async () => {
    for (const name of ['dc-1', 'dc-2']) await call('POST', cms, cm(name, { doomed: 'yes' }));
    await call('POST', cms, cm('dc-keep', { doomed: 'no' }));
    const reply = await call('DELETE', `${cms}?labelSelector=doomed%3Dyes`);
    expect(reply.status).toBe(200);
    expect(
      (await call('GET', `${cms}?labelSelector=doomed`)).body.items.map((i: any) => i.metadata.name),
    ).toEqual(['dc-keep']);
  });
});

describe('watches over HTTP', () => {
  it('a compacted resourceVersion ends the stream with an ERROR event carrying 410 Expired', async () => {
    const old = (await call('POST', cms, cm('w-old'))).body.metadata.resourceVersion;
    await call('PATCH', `${cms}/w-old`, undefined);
    await call('DELETE', `${cms}/w-old`);
    await store.compact(await store.currentRevision());
    const { events, ended } = await watchEvents(`${cms}?watch=true&resourceVersion=${old}`);
    expect(ended).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', reason: 'Expired', code: 410 },
    });
  });

  it('resourceVersion=0 replays the current state as ADDED, then streams changes', async () => {
    await call('POST', cms, cm('w-0', { watch: 'replay' }));
    const pending = watchEvents(
      `${cms}?watch=true&resourceVersion=0&labelSelector=watch%3Dreplay`,
      (events) => events.some((event) => event.type === 'MODIFIED'),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await call('PUT', `${cms}/w-0`, { ...cm('w-0', { watch: 'replay' }), data: { k: 'changed' } });
    const { events } = await pending;
    expect(events.map((event) => event.type)).toEqual(['ADDED', 'MODIFIED']);
    expect(events[1].object.data).toEqual({ k: 'changed' });
  });

  it('field selectors apply to watches; leaving the selection is a DELETED', async () => {
    const pending = watchEvents(
      `${cms}?watch=true&fieldSelector=metadata.name%3Dw-field`,
      (events) => events.length >= 2,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await call('POST', cms, cm('w-other'));
    await call('POST', cms, cm('w-field'));
    await call('DELETE', `${cms}/w-field`);
    const { events } = await pending;
    expect(events.map((event) => [event.type, event.object.metadata.name])).toEqual([
      ['ADDED', 'w-field'],
      ['DELETED', 'w-field'],
    ]);
  });

  it('sends BOOKMARK events only when allowWatchBookmarks is set', async () => {
    const rv = (await call('GET', cms)).body.metadata.resourceVersion;
    const withBookmarks = await watchEvents(
      `${cms}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`,
      (events) => events.some((event) => event.type === 'BOOKMARK'),
    );
    const bookmark = withBookmarks.events.find((event) => event.type === 'BOOKMARK');
    expect(bookmark.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(Number(bookmark.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(rv));
    const without = await watchEvents(`${cms}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    expect(without.events.filter((event) => event.type === 'BOOKMARK')).toEqual([]);
  });

  it('timeoutSeconds ends the stream cleanly', async () => {
    const rv = (await call('GET', cms)).body.metadata.resourceVersion;
    const started = Date.now();
    const { ended, events } = await watchEvents(`${cms}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    expect(ended).toBe(true);
    expect(events).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects broken watch parameters with a 400 Status before streaming', async () => {
    for (const query of [
      'timeoutSeconds=-1',
      'timeoutSeconds=soon',
      'labelSelector=a%20in%20(',
      'fieldSelector=spec.unknown%3Dx',
    ]) {
      const reply = await call('GET', `${cms}?watch=true&${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.body.kind, query).toBe('Status');
    }
  });
});
