// SPDX-License-Identifier: Apache-2.0
/**
 * The plugin-author harness: run one scheduler plugin, or a whole profile, against described nodes and
 * pods and get back what it decided per node. Table-driven tests read best:
 *
 * ```ts
 * const statuses = await runFilterPlugin(myPlugin, {
 *   nodes: [nodeFixture({ name: 'n1' }), nodeFixture({ name: 'n2', labels: { disk: 'ssd' } })],
 *   pod: podFixture({ name: 'web' }),
 * });
 * expect(statuses.n1.code).toBe('Unschedulable');
 * ```
 * @module
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../contracts/api-client.js';
import {
  type SchedulerPlugin,
  type SchedulingObjectListers,
  type SchedulingPlugin,
  SchedulingStatus,
  type SchedulingStatusCode,
} from '../contracts/scheduler-plugin.js';
import { errors } from '../errors/status-error.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { fitErrorMessage } from '../scheduling/diagnosis.js';
import { PluginRegistry } from '../scheduling/plugin-registry.js';
import { SchedulingFramework } from '../scheduling/scheduling-framework.js';
import type { SchedulingProfile } from '../scheduling/scheduling-profile.js';
import { SchedulingSnapshot } from '../scheduling/snapshot.js';

/** A plugin to test: its registration (`{ name, factory }`) or an instance. @category Testing */
export type PluginUnderTest = SchedulerPlugin | SchedulingPlugin;

/** The cluster and pod a harness run works on. @category Testing */
export interface SchedulingHarnessInput {
  nodes: Node[];
  /** Pods already in the cluster; those with `spec.nodeName` count against their node. */
  pods?: Pod[];
  /** The pod being scheduled. */
  pod: Pod;
  /** An ApiClient for plugins that call the API. Default: one that rejects every call. */
  apiClient?: ApiClient;
  /** Cached views of other kinds, for plugins that read them. */
  objectListers?: SchedulingObjectListers;
  /** A logger. Default: silent. */
  logger?: Logger;
}

/** Input of {@link runFilterPlugin} and {@link runScorePlugin}. @category Testing */
export interface RunPluginInput<Args = unknown> extends SchedulingHarnessInput {
  /** The plugin's args (what `pluginConfig[].args` would give); only used for a registration. */
  args?: Args;
}

function isRegistration(plugin: PluginUnderTest): plugin is SchedulerPlugin {
  return typeof (plugin as SchedulerPlugin).factory === 'function';
}

function unavailableApiClient(): ApiClient {
  return new Proxy({} as ApiClient, {
    get(_target, property) {
      if (property === 'then') return undefined;
      return () =>
        Promise.reject(
          errors.serviceUnavailable(
            `the scheduling harness has no ApiClient (called ${String(property)}); pass apiClient in the input`,
          ),
        );
    },
  });
}

let silentLogger: Logger | undefined;

function harnessLogger(input: SchedulingHarnessInput): Logger {
  if (input.logger) return input.logger;
  silentLogger ??= createLogger({ level: 'silent' });
  return silentLogger;
}

/** A framework running just `plugin`, at every point it implements; callers run the points they test. */
function singlePluginFramework(plugin: PluginUnderTest, input: RunPluginInput): Promise<SchedulingFramework> {
  const registration: SchedulerPlugin = isRegistration(plugin)
    ? plugin
    : { name: plugin.name, factory: () => plugin };
  const registry = new PluginRegistry([registration]);
  return SchedulingFramework.create({
    registry,
    profile: {
      plugins: { multiPoint: { enabled: [{ name: registration.name }] } },
      pluginConfig: input.args === undefined ? [] : [{ name: registration.name, args: input.args }],
    },
    apiClient: input.apiClient ?? unavailableApiClient(),
    logger: harnessLogger(input),
    requireQueueSortAndBind: false,
    objectListers: input.objectListers,
  });
}

function failHarness(what: string, status: SchedulingStatus): never {
  throw errors.internal(`${what} failed: ${status.toString()}`);
}

/**
 * Runs one Filter plugin (its PreFilter first, when it has one) for `pod` on every node, as the framework
 * would, and returns each node's status. A PreFilter rejection is every node's status; PreFilter Skip
 * makes every node Success; nodes a PreFilterResult excludes get the framework's
 * `node(s) didn't satisfy plugin(s) [...]` status. A plugin that throws gives `Error` statuses naming it.
 * @category Testing
 */
export async function runFilterPlugin<Args>(
  plugin: PluginUnderTest,
  input: RunPluginInput<Args>,
): Promise<Record<string, SchedulingStatus>> {
  const framework = await singlePluginFramework(plugin, input);
  const snapshot = SchedulingSnapshot.fromObjects(input.nodes, input.pods ?? []);
  framework.setSnapshot(snapshot);
  const state = framework.newCycleState();
  const result: Record<string, SchedulingStatus> = {};
  const preFilter = await framework.runPreFilter(state, input.pod, snapshot.list());
  const names = preFilter.result?.nodeNames;
  for (const nodeInfo of snapshot.list()) {
    if (!preFilter.status.isSuccess()) result[nodeInfo.name] = preFilter.status;
    else if (names !== undefined && !names.has(nodeInfo.name)) {
      result[nodeInfo.name] = new SchedulingStatus(
        'UnschedulableAndUnresolvable',
        [`node(s) didn't satisfy plugin(s) [${[...(preFilter.pluginsWithNodes ?? [])].sort().join(' ')}]`],
        preFilter.pluginsWithNodes?.[0],
      );
    } else result[nodeInfo.name] = framework.runFilter(state, input.pod, nodeInfo);
  }
  return result;
}

/** Input of {@link runScorePlugin}. @category Testing */
export interface RunScorePluginInput<Args = unknown> extends RunPluginInput<Args> {
  /** Score only these nodes (as if the others had failed Filter). Default: every node. */
  feasibleNodes?: string[];
}

/**
 * Runs one Score plugin (its PreScore first, when it has one) for `pod` on every node (or
 * `feasibleNodes`) and returns each node's score, normalized when the plugin normalizes (weight 1). A
 * PreScore Skip gives every node 0. Throws `InternalError` with the plugin's status when it fails.
 * @category Testing
 */
export async function runScorePlugin<Args>(
  plugin: PluginUnderTest,
  input: RunScorePluginInput<Args>,
): Promise<Record<string, number>> {
  const framework = await singlePluginFramework(plugin, input);
  const snapshot = SchedulingSnapshot.fromObjects(input.nodes, input.pods ?? []);
  framework.setSnapshot(snapshot);
  let nodes = snapshot.list();
  if (input.feasibleNodes) {
    nodes = input.feasibleNodes.map((name) => {
      const info = snapshot.get(name);
      if (!info) throw errors.badRequest(`feasibleNodes: no node named "${name}" among nodes`);
      return info;
    });
  }
  const state = framework.newCycleState();
  const preScore = await framework.runPreScore(state, input.pod, nodes);
  if (!preScore.isSuccess()) failHarness('PreScore', preScore);
  const { status, scores } = framework.runScore(state, input.pod, nodes);
  if (!status.isSuccess() || !scores) failHarness('Score', status);
  const result: Record<string, number> = {};
  nodes.forEach((node, i) => {
    result[node.name] = scores.totals[i];
  });
  return result;
}

/** Input of {@link runProfile}. @category Testing */
export interface RunProfileInput extends SchedulingHarnessInput {
  registry: PluginRegistry;
  profile: SchedulingProfile;
  /** The profile `profile` is merged into (e.g. the default plugins' profile). */
  defaultProfile?: SchedulingProfile;
  /** Random numbers for the tie-break between equally scored nodes. Default: `Math.random`. */
  random?: () => number;
  /** Also run PostFilter plugins when no node fits. Default: false. */
  runPostFilter?: boolean;
}

/** What {@link runProfile} returns. @category Testing */
export interface RunProfileResult {
  /** Success when a node was selected; Unschedulable when none fits; Error when a plugin failed. */
  status: SchedulingStatus;
  /** Names of the nodes that passed Filter. */
  feasible: string[];
  /** Each evaluated node's Filter status (Success for feasible ones). */
  statuses: Record<string, SchedulingStatus>;
  /** Total weighted score per feasible node (empty when fewer than two were feasible). */
  scores: Record<string, number>;
  /** The chosen node, if any. */
  selected?: string;
  /** The FailedScheduling message when nothing fits (`0/3 nodes are available: ...`). */
  message?: string;
  /** PostFilter's nomination, when `runPostFilter` was set and one nominated a node. */
  nominatedNodeName?: string;
}

/**
 * Runs a whole profile's scheduling cycle (PreFilter, Filter, PreScore, Score, host selection; PostFilter
 * on request) for `pod`, without Reserve, Permit or binding. QueueSort and Bind plugins are not required.
 * @category Testing
 */
export async function runProfile(input: RunProfileInput): Promise<RunProfileResult> {
  const framework = await SchedulingFramework.create({
    registry: input.registry,
    profile: input.profile,
    defaultProfile: input.defaultProfile,
    apiClient: input.apiClient ?? unavailableApiClient(),
    logger: harnessLogger(input),
    random: input.random,
    requireQueueSortAndBind: false,
    objectListers: input.objectListers,
  });
  const snapshot = SchedulingSnapshot.fromObjects(input.nodes, input.pods ?? []);
  const state = framework.newCycleState();
  const result = await framework.schedulePod(state, input.pod, snapshot);
  const statuses: Record<string, SchedulingStatus> = {};
  for (const [name, status] of result.diagnosis.nodeToStatus.toMap(snapshot.list().map((n) => n.name))) {
    statuses[name] = status;
  }
  for (const node of result.feasible) statuses[node.name] = SchedulingStatus.success();
  const scores: Record<string, number> = {};
  if (result.scores) {
    result.scores.nodes.forEach((node, i) => {
      scores[node.name] = result.scores!.totals[i];
    });
  }
  const output: RunProfileResult = {
    status: result.status,
    feasible: result.feasible.map((n) => n.name),
    statuses,
    scores,
  };
  if (result.selectedNode !== undefined) output.selected = result.selectedNode;
  if (result.status.code === 'Unschedulable' && result.feasible.length === 0) {
    if (input.runPostFilter && result.numAllNodes > 0) {
      const post = await framework.runPostFilter(
        state,
        input.pod,
        result.diagnosis.nodeToStatus.toMap(snapshot.list().map((n) => n.name)),
      );
      if (post.result?.nominatedNodeName) output.nominatedNodeName = post.result.nominatedNodeName;
      if (!post.status.isSuccess() && post.status.message())
        result.diagnosis.postFilterMessage = post.status.message();
    }
    output.message =
      result.numAllNodes > 0
        ? fitErrorMessage(result.numAllNodes, result.diagnosis)
        : result.status.message();
  }
  return output;
}

/**
 * `{ code, reasons }` per node, for exact `toEqual` comparisons of {@link runFilterPlugin} results
 * (`SchedulingStatus` objects also carry the plugin and cause).
 * @category Testing
 */
export function summarizeStatuses(
  statuses: Record<string, SchedulingStatus>,
): Record<string, { code: SchedulingStatusCode; reasons: string[] }> {
  const summary: Record<string, { code: SchedulingStatusCode; reasons: string[] }> = {};
  for (const [node, status] of Object.entries(statuses))
    summary[node] = { code: status.code, reasons: [...status.reasons] };
  return summary;
}

/** What a table case expects per node: a status code, a reason substring, or a score. @category Testing */
export type SchedulingExpectation =
  | SchedulingStatusCode
  | { code: SchedulingStatusCode; reason?: string }
  | number;

/** One row of {@link describeSchedulingPluginTable}. @category Testing */
export interface SchedulingPluginTableCase<Args = unknown> extends RunPluginInput<Args> {
  name: string;
  /** Expected status (Filter) or score (Score) per node; nodes not listed are not checked. */
  want: Record<string, SchedulingExpectation>;
}

/**
 * A vitest `describe` block with one test per row: Filter rows (expectations are codes or
 * `{ code, reason }`) run {@link runFilterPlugin}; Score rows (expectations are numbers) run
 * {@link runScorePlugin}.
 *
 * ```ts
 * describeSchedulingPluginTable('NodeLabelFit', nodeLabelFit, [
 *   { name: 'needs the label', nodes, pod, want: { n1: 'Success', n2: { code: 'Unschedulable', reason: 'missing label' } } },
 * ]);
 * ```
 * @category Testing
 */
export function describeSchedulingPluginTable<Args>(
  title: string,
  plugin: PluginUnderTest,
  cases: SchedulingPluginTableCase<Args>[],
): void {
  describe(title, () => {
    for (const row of cases) {
      it(row.name, async () => {
        const expectations = Object.entries(row.want);
        const wantsScores = expectations.some(([, want]) => typeof want === 'number');
        if (wantsScores) {
          const scores = await runScorePlugin(plugin, row);
          expect(Object.fromEntries(expectations.map(([node]) => [node, scores[node]]))).toEqual(row.want);
          return;
        }
        const statuses = await runFilterPlugin(plugin, row);
        for (const [node, want] of expectations) {
          const got = statuses[node];
          expect(got, `node ${node}`).toBeDefined();
          const code = typeof want === 'string' ? want : (want as { code: SchedulingStatusCode }).code;
          expect(`${node}: ${got.code}`).toBe(`${node}: ${code}`);
          const reason = typeof want === 'object' ? want.reason : undefined;
          if (reason !== undefined) expect(got.message(), `node ${node}`).toContain(reason);
        }
      });
    }
  });
}
