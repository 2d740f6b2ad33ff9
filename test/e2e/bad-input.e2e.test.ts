// SPDX-License-Identifier: Apache-2.0
// End to end: bad input through the ApiClient gets one `Invalid` (422) StatusError whose causes name
// every bad field, and changes nothing in the store.
import { isStatusError, type Pod, StatusError, type Store } from '@cpkit/core';
import { podFixture, startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import { afterEach, describe, expect, it } from 'vitest';

let cp: TestControlPlane | undefined;
afterEach(async () => {
  await cp?.stop();
  cp = undefined;
});

async function start(): Promise<{ cp: TestControlPlane; store: Store }> {
  const store = await openEmbeddedStore();
  cp = await startTestControlPlane({ store });
  return { cp, store };
}

/** The StatusError `attempt` rejects with, after checking that the store's revision did not move. */
async function rejectedWithoutWriting(store: Store, attempt: () => Promise<unknown>): Promise<StatusError> {
  const before = await store.currentRevision();
  const error = await attempt().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StatusError);
  expect(await store.currentRevision()).toBe(before);
  return error as StatusError;
}

function withoutContainers(pod: Pod): Pod {
  const { containers: _dropped, ...spec } = pod.spec!;
  return { ...pod, spec: spec as Pod['spec'] };
}

describe('bad input through the ApiClient', () => {
  it.each<[string, () => Pod, string[]]>([
    ['a name that is not a DNS subdomain', () => podFixture({ name: 'Bad_Name' }), ['metadata.name']],
    ['no containers', () => withoutContainers(podFixture({ name: 'empty' })), ['spec.containers']],
    ['a bad label key', () => podFixture({ name: 'web', labels: { 'bad key!': 'x' } }), ['metadata.labels']],
    [
      'a bad label value',
      () => podFixture({ name: 'web', labels: { app: 'no spaces' } }),
      ['metadata.labels'],
    ],
    [
      'all of them at once',
      () => withoutContainers(podFixture({ name: 'Bad_Name', labels: { 'bad key!': 'x' } })),
      ['metadata.labels', 'metadata.name', 'spec.containers'],
    ],
  ])('a pod with %s is Invalid, naming the fields, and nothing is written', async (_what, pod, fields) => {
    const { cp, store } = await start();
    const error = await rejectedWithoutWriting(store, () => cp.client.create(pod()));
    expect(error.reason).toBe('Invalid');
    expect(error.code).toBe(422);
    expect(error.details?.kind).toBe('Pod');
    expect([...new Set(error.details?.causes?.map((c) => c.field))].sort()).toEqual(fields);
    for (const cause of error.details?.causes ?? []) expect(cause.message).toBeTruthy();
    const { items } = await cp.client.list('Pod', { namespace: 'default' });
    expect(items).toEqual([]);
  });

  it('an invalid update is Invalid and leaves the stored pod as it was', async () => {
    const { cp, store } = await start();
    const created = await cp.client.create(podFixture({ name: 'web', labels: { app: 'web' } }));
    const error = await rejectedWithoutWriting(store, () =>
      cp.client.update<Pod>({ ...created, metadata: { ...created.metadata, labels: { 'bad key!': 'x' } } }),
    );
    expect(isStatusError(error, 'Invalid')).toBe(true);
    expect(error.details?.causes?.map((c) => c.field)).toContain('metadata.labels');
    expect(await cp.client.get('Pod', 'web', { namespace: 'default' })).toEqual(created);
  });
});
