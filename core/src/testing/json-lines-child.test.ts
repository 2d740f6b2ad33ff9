// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { spawnJsonLinesChild } from './json-lines-child.js';

const node = (script: string) =>
  spawnJsonLinesChild(process.execPath, ['-e', script], { cwd: process.cwd(), name: 'the script' });

describe('spawnJsonLinesChild', () => {
  it('collects JSON lines, skips the rest, and finds lines printed before and after waitFor', async () => {
    const child = node(
      `console.log('not json'); console.log(JSON.stringify({ n: 1 })); setTimeout(() => console.log(JSON.stringify({ n: 2 })), 100); setTimeout(() => {}, 10000);`,
    );
    expect(await child.waitFor((line) => line.n === 2, 'the second line')).toEqual({ n: 2 });
    expect(await child.waitFor((line) => line.n === 1, 'the first line')).toEqual({ n: 1 });
    expect(child.lines).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await child.stop()).toBeNull();
  });

  it('rejects naming what was awaited and the stderr when the child exits first, or on timeout', async () => {
    const exits = node(`console.error('boom'); process.exit(3);`);
    await expect(exits.waitFor(() => false, 'a ready line')).rejects.toThrow(
      /the script exited \(3\) before a ready line; stderr: boom/,
    );
    const silent = node('setTimeout(() => {}, 10000);');
    await expect(silent.waitFor(() => false, 'anything', 200)).rejects.toThrow(/no anything within 200 ms/);
    await silent.kill();
  });
});
