// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { EmbeddedStore } from './index.js';

const packageDirectory = dirname(dirname(fileURLToPath(import.meta.url)));
let directory: string | undefined;

afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

it('every write acknowledged before kill -9 is there after reopening', async () => {
  directory = mkdtempSync(join(tmpdir(), 'cpkit-embedded-crash-'));
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(packageDirectory, 'test', 'crash-writer.ts'), directory],
    {
      cwd: packageDirectory,
      stdio: ['ignore', 'pipe', 'pipe'],
      // tsx only applies a tsconfig to the files it includes; the base config covers core's sources too.
      env: { ...process.env, TSX_TSCONFIG_PATH: join(packageDirectory, '..', '..', 'tsconfig.base.json') },
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_, signal) => resolve(signal)),
  );
  const acknowledged: string[] = [];
  const target = 2_000 + Math.floor(Math.random() * 2_000);
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'ready') continue;
    acknowledged.push(line);
    // Kill mid-stream, while writes are still in flight.
    if (acknowledged.length === target) child.kill('SIGKILL');
  }
  expect(await exited, `the writer died on its own: ${stderr}`).toBe('SIGKILL');
  expect(acknowledged.length).toBeGreaterThanOrEqual(target);

  const store = await EmbeddedStore.open({ path: directory });
  try {
    const stored = new Map((await store.list('/crash/')).items.map((entry) => [entry.key, entry.value]));
    const missing = acknowledged.filter((key) => stored.get(key) !== `value of ${key}`);
    expect(missing).toEqual([]);
    // Revisions are dense: the store's revision counts every write it kept.
    expect(await store.currentRevision()).toBe(stored.size);
  } finally {
    await store.close();
  }
}, 60_000);
