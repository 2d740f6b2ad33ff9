// SPDX-License-Identifier: Apache-2.0
/**
 * Compiled node selectors: the `nodeSelectorTerms` of required node affinity, the weighted terms of
 * preferred node affinity, and a pod's whole required placement (`spec.nodeSelector` plus required node
 * affinity), with upstream's semantics (`k8s.io/component-helpers/scheduling/corev1/nodeaffinity`).
 * Compiled once per pod (cached by pod object) so Filter and Score only read labels.
 * @module
 */
import { type LabelSelectorOperator, labelRequirement, StatusError } from '@cpkit/core';
import type {
  Node,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  PreferredSchedulingTerm,
} from 'kubernetes-types/core/v1.js';

enum LabelOp {
  In,
  NotIn,
  Exists,
  DoesNotExist,
  Gt,
  Lt,
}

interface CompiledLabelRequirement {
  readonly key: string;
  readonly op: LabelOp;
  readonly values: readonly string[];
  /** For long value lists, a set; short lists are searched directly (cheaper than hashing). */
  readonly valueSet: ReadonlySet<string> | undefined;
  /** The bound of Gt/Lt. */
  readonly bound: number | bigint;
}

interface CompiledFieldRequirement {
  readonly key: string;
  readonly notIn: boolean;
  readonly value: string;
}

const labelOperators: Readonly<Record<string, [LabelOp, LabelSelectorOperator]>> = {
  In: [LabelOp.In, 'In'],
  NotIn: [LabelOp.NotIn, 'NotIn'],
  Exists: [LabelOp.Exists, 'Exists'],
  DoesNotExist: [LabelOp.DoesNotExist, 'DoesNotExist'],
  Gt: [LabelOp.Gt, 'GreaterThan'],
  Lt: [LabelOp.Lt, 'LessThan'],
};

/** The name field a `matchFields` requirement can select on. */
export const nodeNameField = 'metadata.name';

/** Parses a base-10 64-bit integer as upstream's strconv.ParseInt; `undefined` when it is not one. */
function parseInt64(text: string): number | bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  // Up to 15 digits a double is exact; longer values go through BigInt to keep int64 precision.
  if (text.length <= 15) return Number(text);
  const value = BigInt(text);
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : undefined;
}

function compileLabelRequirement(
  requirement: NodeSelectorRequirement,
  path: string,
  errors: NodeSelectorError[],
): CompiledLabelRequirement | undefined {
  const operator = labelOperators[requirement?.operator as string];
  if (operator === undefined) {
    errors.push({
      field: `${path}.operator`,
      message: `Invalid value: "${String(requirement?.operator)}": not a valid node selector operator`,
    });
    return undefined;
  }
  const values = requirement.values ?? [];
  try {
    // Validates the key, the values and their count for the operator, as labels.NewRequirement does.
    labelRequirement(requirement.key, operator[1], values);
  } catch (error) {
    errors.push({ field: path, message: error instanceof StatusError ? error.message : String(error) });
    return undefined;
  }
  const op = operator[0];
  return {
    key: requirement.key,
    op,
    values,
    valueSet: values.length > 8 ? new Set(values) : undefined,
    bound: op === LabelOp.Gt || op === LabelOp.Lt ? (parseInt64(values[0]) ?? 0) : 0,
  };
}

function compileFieldRequirement(
  requirement: NodeSelectorRequirement,
  path: string,
  errors: NodeSelectorError[],
): CompiledFieldRequirement | undefined {
  const operator = requirement?.operator as string;
  if (operator !== 'In' && operator !== 'NotIn') {
    errors.push({
      field: `${path}.operator`,
      message: `Unsupported value: "${String(operator)}": supported values: "In", "NotIn"`,
    });
    return undefined;
  }
  const values = requirement.values ?? [];
  if (values.length !== 1) {
    errors.push({
      field: `${path}.values`,
      message: `Invalid value: ${JSON.stringify(values)}: must have one element`,
    });
    return undefined;
  }
  return { key: requirement.key, notIn: operator === 'NotIn', value: values[0] };
}

function labelRequirementMatches(
  r: CompiledLabelRequirement,
  labels: Readonly<Record<string, string>>,
): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.op) {
    case LabelOp.In:
      return has && (r.valueSet ? r.valueSet.has(labels[r.key]) : r.values.includes(labels[r.key]));
    case LabelOp.NotIn:
      return !has || !(r.valueSet ? r.valueSet.has(labels[r.key]) : r.values.includes(labels[r.key]));
    case LabelOp.Exists:
      return has;
    case LabelOp.DoesNotExist:
      return !has;
    case LabelOp.Gt:
    case LabelOp.Lt: {
      if (!has) return false;
      const value = parseInt64(labels[r.key]);
      if (value === undefined) return false;
      return r.op === LabelOp.Gt ? value > r.bound : value < r.bound;
    }
  }
}

/** A parse error of a node selector, naming the field at fault. @category Scheduler plugins */
export interface NodeSelectorError {
  readonly field: string;
  readonly message: string;
}

/** `field: message`, as upstream's field errors print. */
export function formatNodeSelectorError(error: NodeSelectorError): string {
  return `${error.field}: ${error.message}`;
}

const noLabels: Readonly<Record<string, string>> = Object.freeze({});

/** Node selector terms that do not parse. @category Scheduler plugins */
export class NodeSelectorParseError extends Error {
  constructor(readonly errors: readonly NodeSelectorError[]) {
    super(errors.map(formatNodeSelectorError).join(', '));
    this.name = 'NodeSelectorParseError';
  }
}

/**
 * One compiled node selector term: its label requirements (matchExpressions) and field requirements
 * (matchFields) all have to hold.
 * @category Scheduler plugins
 */
export class CompiledNodeSelectorTerm {
  private constructor(
    private readonly labels: readonly CompiledLabelRequirement[],
    private readonly fields: readonly CompiledFieldRequirement[],
    /** Parse errors; a term with errors matches no node. */
    readonly errors: readonly NodeSelectorError[],
  ) {}

  /** True when the term has neither matchExpressions nor matchFields: it selects no node. */
  static isEmpty(term: NodeSelectorTerm | undefined): boolean {
    return !term || ((term.matchExpressions?.length ?? 0) === 0 && (term.matchFields?.length ?? 0) === 0);
  }

  static compile(term: NodeSelectorTerm, path: string): CompiledNodeSelectorTerm {
    const errors: NodeSelectorError[] = [];
    const labels: CompiledLabelRequirement[] = [];
    const fields: CompiledFieldRequirement[] = [];
    (term.matchExpressions ?? []).forEach((requirement, i) => {
      const compiled = compileLabelRequirement(requirement, `${path}.matchExpressions[${i}]`, errors);
      if (compiled) labels.push(compiled);
    });
    (term.matchFields ?? []).forEach((requirement, i) => {
      const compiled = compileFieldRequirement(requirement, `${path}.matchFields[${i}]`, errors);
      if (compiled) fields.push(compiled);
    });
    return new CompiledNodeSelectorTerm(labels, fields, errors);
  }

  matches(node: Node): boolean {
    if (this.errors.length > 0) return false;
    const labels = node.metadata?.labels ?? noLabels;
    for (let i = 0; i < this.labels.length; i++)
      if (!labelRequirementMatches(this.labels[i], labels)) return false;
    const name = node.metadata?.name ?? '';
    // Upstream skips field requirements for a node without fields (no name), so do we.
    if (this.fields.length > 0 && name !== '') {
      for (let i = 0; i < this.fields.length; i++) {
        const f = this.fields[i];
        const actual = f.key === nodeNameField ? name : '';
        if (f.notIn ? actual === f.value : actual !== f.value) return false;
      }
    }
    return true;
  }
}

/**
 * A compiled `NodeSelector`: the node matches when any term matches. Empty terms select nothing; a term
 * that does not parse matches nothing (the other terms still count), as upstream's lazy-error selector.
 * @category Scheduler plugins
 */
export class CompiledNodeSelector {
  private constructor(
    private readonly terms: readonly CompiledNodeSelectorTerm[],
    /** Every parse error. */
    readonly errors: readonly NodeSelectorError[],
  ) {}

  /** @param path the field path to report errors under, e.g. `addedAffinity.requiredDuringSchedulingIgnoredDuringExecution`. */
  static compile(selector: NodeSelector, path = 'nodeSelectorTerms'): CompiledNodeSelector {
    const terms: CompiledNodeSelectorTerm[] = [];
    const errors: NodeSelectorError[] = [];
    const base = path.endsWith('nodeSelectorTerms') ? path : `${path}.nodeSelectorTerms`;
    (selector.nodeSelectorTerms ?? []).forEach((term, i) => {
      if (CompiledNodeSelectorTerm.isEmpty(term)) return;
      const compiled = CompiledNodeSelectorTerm.compile(term, `${base}[${i}]`);
      terms.push(compiled);
      errors.push(...compiled.errors);
    });
    return new CompiledNodeSelector(terms, errors);
  }

  matches(node: Node): boolean {
    for (let i = 0; i < this.terms.length; i++) if (this.terms[i].matches(node)) return true;
    return false;
  }
}

/**
 * Compiled `preferredDuringSchedulingIgnoredDuringExecution` terms: a node's score is the sum of the weights
 * of the terms it matches. Terms with weight 0 or no requirements are dropped.
 * @category Scheduler plugins
 */
export class CompiledPreferredSchedulingTerms {
  private constructor(
    private readonly terms: readonly CompiledNodeSelectorTerm[],
    private readonly weights: readonly number[],
  ) {}

  /**
   * Throws {@link NodeSelectorParseError} listing every parse error (upstream fails the same way).
   */
  static compile(terms: readonly PreferredSchedulingTerm[], path = ''): CompiledPreferredSchedulingTerms {
    const compiled: CompiledNodeSelectorTerm[] = [];
    const weights: number[] = [];
    const errors: NodeSelectorError[] = [];
    terms.forEach((term, i) => {
      if (!term?.weight || CompiledNodeSelectorTerm.isEmpty(term.preference)) return;
      const c = CompiledNodeSelectorTerm.compile(term.preference, `${path}[${i}].preference`);
      if (c.errors.length > 0) {
        errors.push(...c.errors);
        return;
      }
      compiled.push(c);
      weights.push(term.weight);
    });
    if (errors.length > 0) throw new NodeSelectorParseError(errors);
    return new CompiledPreferredSchedulingTerms(compiled, weights);
  }

  /** True when no term can ever add to a score. */
  get empty(): boolean {
    return this.terms.length === 0;
  }

  score(node: Node): number {
    let score = 0;
    for (let i = 0; i < this.terms.length; i++) if (this.terms[i].matches(node)) score += this.weights[i];
    return score;
  }
}

/**
 * Where a pod may run according to its `spec.nodeSelector` and its required node affinity; both must hold.
 * Get it with {@link RequiredNodeAffinity.forPod}, which caches per pod object.
 * @category Scheduler plugins
 */
export class RequiredNodeAffinity {
  private static readonly cache = new WeakMap<Pod, RequiredNodeAffinity>();

  private constructor(
    private readonly nodeSelector: ReadonlyArray<readonly [string, string]> | undefined,
    private readonly affinity: CompiledNodeSelector | undefined,
  ) {}

  static forPod(pod: Pod): RequiredNodeAffinity {
    let cached = RequiredNodeAffinity.cache.get(pod);
    if (cached === undefined) {
      const selector = pod.spec?.nodeSelector;
      const entries = selector && Object.keys(selector).length > 0 ? Object.entries(selector) : undefined;
      const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
      cached = new RequiredNodeAffinity(
        entries,
        required
          ? CompiledNodeSelector.compile(
              required,
              'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution',
            )
          : undefined,
      );
      RequiredNodeAffinity.cache.set(pod, cached);
    }
    return cached;
  }

  /** True when the pod has neither a node selector nor required node affinity (every node matches). */
  get empty(): boolean {
    return this.nodeSelector === undefined && this.affinity === undefined;
  }

  matches(node: Node): boolean {
    if (this.nodeSelector !== undefined) {
      const labels = node.metadata?.labels ?? noLabels;
      for (let i = 0; i < this.nodeSelector.length; i++) {
        const [key, value] = this.nodeSelector[i];
        if (labels[key] !== value || !Object.hasOwn(labels, key)) return false;
      }
    }
    return this.affinity === undefined || this.affinity.matches(node);
  }
}
