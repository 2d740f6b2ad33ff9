// SPDX-License-Identifier: Apache-2.0
// Scheduler benchmark, modeled on upstream's scheduler_perf: `npm run bench:scheduler` prints a table;
// `-- --json` prints one JSON object on stdout; `-- --workload NAME` runs one workload (repeatable);
// `-- --quick` runs a tenth of the sizes; `-- --cpu-prof DIR` writes a V8 CPU profile of every
// scheduler run into DIR. Each workload runs twice, each time in a fresh child process
// (scheduler/run-workload.ts): once with the scheduler and its default plugins, once with a round-robin
// binder that does no scheduling (the ceiling). See docs/benchmarks.md for the method and results.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatCount, machine, printMarkdownTable } from './bench-kit.js';
import type { WorkloadResult } from './scheduler/run-workload.js';
import { type WorkloadName, workloadNames, workloads } from './scheduler/workloads.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    workload: { type: 'string', multiple: true },
    'cpu-prof': { type: 'string' },
    'no-ceiling': { type: 'boolean', default: false },
    'stall-seconds': { type: 'string', default: '30' },
  },
});

const log = (message: string): void => {
  if (!flags.json) process.stderr.write(`${message}\n`);
};

const selected: WorkloadName[] = (flags.workload ?? [...workloadNames]).map((name) => {
  const found = workloadNames.find((w) => w.toLowerCase() === name.toLowerCase());
  if (!found) {
    process.stderr.write(`--workload: unknown workload "${name}"; known: ${workloadNames.join(', ')}\n`);
    process.exit(2);
  }
  return found;
});

const childScript = join(dirname(fileURLToPath(import.meta.url)), 'scheduler', 'run-workload.ts');

/** Runs one workload in a fresh Node.js process with this process's loader flags (tsx, source condition). */
function runChild(workload: WorkloadName, mode: 'scheduler' | 'ceiling'): Promise<WorkloadResult> {
  const nodeFlags = [...process.execArgv];
  if (mode === 'scheduler' && flags['cpu-prof']) {
    // One directory per workload: the tsx loader's worker thread writes a profile of its own (the
    // larger file is the main thread's).
    nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${resolve(flags['cpu-prof'], workload)}`);
  }
  const args = [
    ...nodeFlags,
    childScript,
    '--workload',
    workload,
    '--mode',
    mode,
    '--stall-seconds',
    flags['stall-seconds'] ?? '30',
    ...(flags.quick ? ['--quick'] : []),
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', flags.json ? 'ignore' : 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = output.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`${workload} (${mode}) exited with code ${code}: ${output.slice(-2000)}`));
        return;
      }
      resolvePromise(JSON.parse(last) as WorkloadResult);
    });
  });
}

interface Row {
  workload: WorkloadName;
  scheduler: WorkloadResult;
  ceiling?: WorkloadResult;
  target?: number;
  upstreamFloor?: number;
  /** Scheduler throughput / ceiling throughput. */
  ratio?: number;
  pass?: boolean;
  loadAverage: number[];
}

const rate = formatCount;
const ms = (value: number | undefined): string =>
  value === undefined || Number.isNaN(value) ? '-' : value.toFixed(value < 10 ? 2 : 1);

function printTable(rows: Row[]): void {
  const header = [
    'workload',
    'nodes',
    'init+measured',
    'pods/s',
    'target',
    'ok',
    'ceiling pods/s',
    'ratio',
    'attempt p50 ms',
    'p99 ms',
    'peak RSS MiB',
    'note',
  ];
  const body = rows.map((row) => {
    const s = row.scheduler;
    const notes: string[] = [];
    if (!s.complete) notes.push(`stalled: ${s.bound}/${s.measuredPods} bound`);
    const unschedulable = s.attempts?.unschedulable ?? 0;
    const errors = s.attempts?.error ?? 0;
    if (unschedulable > 0) notes.push(`${unschedulable} unschedulable attempts`);
    if (errors > 0) notes.push(`${errors} error attempts`);
    notes.push(`${rate(s.bound / s.cpuSeconds)} pods per CPU-s`);
    notes.push(`load ${row.loadAverage.map((l) => l.toFixed(1)).join('/')}`);
    return [
      row.workload,
      String(s.nodes),
      `${s.initPods}+${s.measuredPods}`,
      rate(s.podsPerSecond),
      row.target === undefined ? 'report' : `>= ${row.target}`,
      row.pass === undefined ? '' : row.pass ? 'yes' : 'NO',
      row.ceiling ? rate(row.ceiling.podsPerSecond) : '-',
      row.ratio === undefined ? '-' : row.ratio.toFixed(2),
      ms(s.latencyMs?.p50),
      ms(s.latencyMs?.p99),
      String(Math.round(s.peakRssBytes / 2 ** 20)),
      notes.join('; '),
    ];
  });
  printMarkdownTable(header, body);
}

const started = performance.now();
log(`machine: ${JSON.stringify(machine())}`);
const definitions = workloads(flags.quick ? 0.1 : 1);
const rows: Row[] = [];
for (const name of selected) {
  const definition = definitions.find((w) => w.name === name);
  log(
    `${name}: ${definition?.nodes} nodes, ${definition?.initPods} init + ${definition?.measuredPods} measured pods`,
  );
  const loadAverage = loadavg();
  const scheduler = await runChild(name, 'scheduler');
  const ceiling = flags['no-ceiling'] ? undefined : await runChild(name, 'ceiling');
  const target = definition?.target;
  rows.push({
    workload: name,
    scheduler,
    ceiling,
    target,
    upstreamFloor: definition?.upstreamFloor,
    ratio: ceiling && ceiling.podsPerSecond > 0 ? scheduler.podsPerSecond / ceiling.podsPerSecond : undefined,
    pass: target === undefined ? undefined : scheduler.complete && scheduler.podsPerSecond >= target,
    loadAverage,
  });
}
const seconds = (performance.now() - started) / 1000;
if (flags.json) {
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'scheduler', machine: machine(), quick: flags.quick, seconds, results: rows })}\n`,
  );
} else {
  printTable(rows);
  process.stdout.write(`(${seconds.toFixed(1)} s)\n`);
}
