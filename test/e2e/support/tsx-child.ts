// SPDX-License-Identifier: Apache-2.0
// Runs a TypeScript file of this repository as a child process (tsx, workspace sources), and reads
// its stdout as JSON lines: for the e2e suites that put parts of a control plane in other processes.
import { join, resolve } from 'node:path';
import { type JsonLinesChild, spawnJsonLinesChild } from '@cpkit/core/testing';

const repoRoot = resolve(import.meta.dirname, '../../..');

/** A running child: its JSON output lines and ways to wait for them and to stop it. */
export type TsxChild = JsonLinesChild;

/** Starts `node --conditions=source --import tsx <script> ...args` from the repository root. */
export function startTsxChild(script: string, args: string[], env: Record<string, string> = {}): TsxChild {
  return spawnJsonLinesChild(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    name: script,
    // tsx needs the base tsconfig for core's decorators (the root tsconfig.json lists no files).
    env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.base.json'), ...env },
  });
}
