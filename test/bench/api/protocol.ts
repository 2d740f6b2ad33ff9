// SPDX-License-Identifier: Apache-2.0
// What the benchmark and its load process (load.ts) send each other over IPC.

interface Endpoint {
  /** `https://127.0.0.1:port` */
  url: string;
  /** PEM of the CA the server's certificate chains to. */
  ca: string;
  /** Bearer token, when the server wants one. */
  token?: string;
}

/** One job for the load process. */
export type LoadJob =
  | (Endpoint & {
      kind: 'requests';
      method: 'POST' | 'GET';
      namespace: string;
      /** Pods are named `${prefix}${i}`. */
      prefix: string;
      total: number;
      concurrency: number;
      /** For GET: how many pods `${prefix}0..` exist to cycle through. */
      existing?: number;
    })
  | (Endpoint & { kind: 'list'; path: string; accept?: string; repeat: number })
  | (Endpoint & {
      kind: 'watch';
      namespace: string;
      resourceVersion: string;
      watchers: number;
      writes: number;
      writers: number;
      pauseMs?: number;
    });

/** What the load process answers. Latencies and durations are in ms, ascending. */
export type LoadResult =
  | { kind: 'requests'; seconds: number; latencies: number[]; statuses: Record<string, number> }
  | { kind: 'list'; durations: number[]; bytes: number; status: number }
  | { kind: 'watch'; latencies: number[]; events: number; expected: number }
  | { kind: 'error'; message: string };
