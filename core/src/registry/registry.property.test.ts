// SPDX-License-Identifier: Apache-2.0
// Property: whatever sequence of writes happens, a watch with a label selector, replayed into a map,
// ends in exactly the state a list with the same selector returns, and both match a simple model.
import { EmbeddedStore } from '@cpkit/store-embedded';
import fc from 'fast-check';
import type { Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import type { UnstructuredObject } from '../api/object.js';
import { DefaultScheme } from '../api/scheme.js';
import type { WatchEvent } from '../contracts/api-client.js';
import { isStatusError } from '../errors/status-error.js';
import { StoreRegistry } from './registry.js';

type Operation =
  | { op: 'create'; name: string; color: string }
  | { op: 'relabel'; name: string; color: string }
  | { op: 'data'; name: string; value: string }
  | { op: 'delete'; name: string };

const names = fc.constantFrom('a', 'b', 'c', 'd');
const colors = fc.constantFrom('red', 'blue');
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), name: names, color: colors }),
  fc.record({ op: fc.constant('relabel' as const), name: names, color: colors }),
  fc.record({ op: fc.constant('data' as const), name: names, value: fc.string({ maxLength: 3 }) }),
  fc.record({ op: fc.constant('delete' as const), name: names }),
);

describe('registry watch and list agree', () => {
  it('for random write sequences under a label selector', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 30 }), async (operations) => {
        const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
        try {
          const scheme = new DefaultScheme();
          registerBuiltinKinds(scheme);
          const registry = new StoreRegistry(store, scheme);
          await registry.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
          const start = String(await store.currentRevision());
          const model = new Map<string, { color: string; value: string }>();
          for (const step of operations) {
            try {
              if (step.op === 'create') {
                await registry.create<UnstructuredObject>({
                  apiVersion: 'v1',
                  kind: 'ConfigMap',
                  metadata: { name: step.name, labels: { color: step.color } },
                  data: { v: '' },
                });
                if (!model.has(step.name)) model.set(step.name, { color: step.color, value: '' });
              } else if (step.op === 'relabel') {
                await registry.patch('configmaps', step.name, 'merge', {
                  metadata: { labels: { color: step.color } },
                });
                const entry = model.get(step.name);
                if (entry) entry.color = step.color;
              } else if (step.op === 'data') {
                await registry.patch('configmaps', step.name, 'merge', { data: { v: step.value } });
                const entry = model.get(step.name);
                if (entry) entry.value = step.value;
              } else {
                await registry.delete('configmaps', step.name);
                model.delete(step.name);
              }
            } catch (error) {
              // Creating an existing name or touching a missing one must fail cleanly, nothing else.
              if (!isStatusError(error, 'AlreadyExists') && !isStatusError(error, 'NotFound')) throw error;
            }
          }
          const expected = [...model.entries()]
            .filter(([, entry]) => entry.color === 'red')
            .map(([name, entry]) => `${name}=${entry.value}`)
            .sort();

          const list = await registry.list<UnstructuredObject>('configmaps', { labelSelector: 'color=red' });
          expect(list.items.map((i) => `${i.metadata?.name}=${(i.data as { v: string }).v}`)).toEqual(
            expected,
          );

          // Replay every change since the start through a selector-filtered watch. Events arrive in
          // revision order, so once a sentinel written last shows up, everything before it has too.
          await registry.create<UnstructuredObject>({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'zz-sentinel', labels: { color: 'red' } },
            data: { v: '' },
          });
          const seen = new Map<string, string>();
          let subscription: Subscription | undefined;
          await new Promise<void>((resolve, reject) => {
            subscription = registry
              .watch<UnstructuredObject>('configmaps', { labelSelector: 'color=red', resourceVersion: start })
              .subscribe({
                next: (event: WatchEvent<UnstructuredObject>) => {
                  const name = String(event.object.metadata?.name);
                  if (name === 'zz-sentinel') resolve();
                  else if (event.type === 'DELETED') seen.delete(name);
                  else seen.set(name, (event.object.data as { v: string }).v);
                },
                error: reject,
              });
          });
          subscription?.unsubscribe();
          expect([...seen.entries()].map(([name, value]) => `${name}=${value}`).sort()).toEqual(expected);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
