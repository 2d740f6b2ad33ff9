// SPDX-License-Identifier: Apache-2.0
// Child process of the kill -9 test: opens a durable store in the directory given as argv[2] and
// writes keys forever, a few at a time, printing each key once its write is acknowledged.
import { EmbeddedStore } from '../src/index.js';

const store = await EmbeddedStore.open({ path: process.argv[2] });
const outstanding = 16;
let next = 0;

async function writer(): Promise<void> {
  for (;;) {
    const key = `/crash/${String(next++).padStart(8, '0')}`;
    await store.create(key, `value of ${key}`);
    process.stdout.write(`${key}\n`);
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: outstanding }, writer));
