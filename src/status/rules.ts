/**
 * Readiness rules for kinds kstatus does not know, written as CEL (cli-utils#679; the shape of
 * Flux's `healthCheckExprs`, so its community expressions carry over). A rules file is YAML:
 *
 * ```yaml
 * rules:                                  # or the list itself, as in a Flux Kustomization
 *   - apiVersion: cert-manager.io/v1      # the group is matched, the version is not (as kstatus)
 *     kind: Certificate
 *     inProgress: "status.?conditions.orValue([]).exists(c, c.type == 'Issuing' && c.status == 'True')"
 *     failed: "status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'False')"
 *     current: "status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'True')"
 *     message: "status.?conditions.orValue([]).filter(c, c.type == 'Ready').map(c, c.message).join()"
 * ```
 *
 * `current` is required; `inProgress`, `failed` (bool) and `message` (string) are optional.
 * Expressions see `self` (the object) and its top-level `apiVersion`, `kind`, `metadata`,
 * `spec`, `status` (the last three are `{}` when absent). As in Flux, kstatus's generic steps
 * (Terminating, observedGeneration, Reconciling/Stalled) run first, then `inProgress`, `failed`,
 * `current` in that order; the first that is true decides, none true is InProgress. An
 * evaluation error makes the object Unknown. Several documents in one file are read in turn.
 */
import { readFile } from 'node:fs/promises';
import { isMap as isYamlMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Document } from 'yaml';
import { FathomError } from '../core/errors.js';
import { fieldError, formatPath, positionOf, syntaxError } from '../core/yaml-locate.js';
import type { DocContext, FieldPath } from '../core/yaml-locate.js';
import { CelCompileError, celVariables, compileExpression } from './cel.js';
import type { CompiledExpression } from './cel.js';
import type { CustomRule, CustomRules } from './compute.js';
import { current, failed, inProgress, unknown } from './conditions.js';
import { formatGroupKind, groupKindKey, isMap, parseGroupVersion } from './fields.js';
import type { GroupKind, KubeObject, Result } from './types.js';

export interface ReadinessRule extends GroupKind, CustomRule {
  readonly apiVersion: string;
  /** `file:line` of the entry, for messages. */
  readonly source: string;
  readonly current: CompiledExpression;
  readonly inProgress?: CompiledExpression;
  readonly failed?: CompiledExpression;
  readonly message?: CompiledExpression;
}

/** A compiled rules file: pass it as `ComputeOptions.rules`. */
export interface ReadinessRules extends CustomRules {
  readonly rules: readonly ReadinessRule[];
  ruleFor(gk: GroupKind): ReadinessRule | undefined;
}

const FIELDS = ['apiVersion', 'kind', 'current', 'inProgress', 'failed', 'message'] as const;
const EXPRESSIONS = ['inProgress', 'failed', 'current'] as const;
const MAX_ALIASES = 100;

const verdicts: Record<(typeof EXPRESSIONS)[number], (message: string) => Result> = {
  inProgress: (m) => inProgress('RuleInProgress', m),
  failed: (m) => failed('RuleFailed', m),
  current: (m) => current(m),
};

class CompiledRule implements ReadinessRule {
  constructor(
    readonly group: string,
    readonly kind: string,
    readonly apiVersion: string,
    readonly source: string,
    readonly current: CompiledExpression,
    readonly inProgress?: CompiledExpression,
    readonly failed?: CompiledExpression,
    readonly message?: CompiledExpression,
  ) {}

  evaluate(object: KubeObject): Result {
    const vars = celVariables(object);
    const label = `readiness rule for ${formatGroupKind(this)} (${this.source})`;
    for (const name of EXPRESSIONS) {
      const expr = this[name];
      if (!expr) continue;
      let value: unknown;
      try {
        value = expr.evaluate(vars);
      } catch (err) {
        return unknown(`${label}: ${name}: ${(err as Error).message}`);
      }
      if (value === true) return verdicts[name](this.#message(vars, `Rule "${name}" matched`));
    }
    return inProgress('NoRuleMatched', this.#message(vars, 'No rule matched yet'));
  }

  /** The rule's message expression when it gives a non-empty string; never fails the status. */
  #message(vars: ReturnType<typeof celVariables>, fallback: string): string {
    if (!this.message) return fallback;
    try {
      const m = this.message.evaluate(vars);
      return typeof m === 'string' && m !== '' ? m : fallback;
    } catch {
      return fallback;
    }
  }
}

class RuleSet implements ReadinessRules {
  readonly #byKind = new Map<string, ReadinessRule>();

  constructor(readonly rules: readonly ReadinessRule[]) {
    for (const r of rules) this.#byKind.set(groupKindKey(r), r);
  }

  ruleFor(gk: GroupKind): ReadinessRule | undefined {
    return this.#byKind.get(groupKindKey(gk));
  }
}

function invalid(ctx: DocContext, path: FieldPath, problem: string): FathomError {
  return fieldError(ctx, path, problem, 'FATHOM_CONFIG_INVALID');
}

/** Points a CEL error at its column when the scalar sits on one line with no escapes. */
function celError(ctx: DocContext, path: FieldPath, err: CelCompileError): FathomError {
  const node = ctx.doc.getIn(path, true);
  let at = positionOf(ctx, path);
  if (isScalar(node) && node.range && typeof node.value === 'string') {
    const quote = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
    const block = node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL';
    // Same length in the file as in the value: no escapes, no folding, so offsets carry over.
    if (!block && node.range[1] - node.range[0] - 2 * quote === node.value.length) {
      const { line, col } = ctx.lines.linePos(node.range[0] + quote + err.offset);
      at = { line, column: col };
    }
  }
  return new FathomError(
    'FATHOM_CONFIG_INVALID',
    `${ctx.file}:${at.line}:${at.column}: ${formatPath(path)} does not compile: ${err.message}`,
    { details: { file: ctx.file, line: at.line, column: at.column, field: formatPath(path) } },
  );
}

function compileField(
  ctx: DocContext,
  entry: Record<string, unknown>,
  path: FieldPath,
  name: (typeof FIELDS)[number],
  required: boolean,
): CompiledExpression | undefined {
  const v = entry[name];
  if (v === undefined || v === null) {
    if (required) throw invalid(ctx, path, `needs "${name}", a CEL expression`);
    return undefined;
  }
  if (typeof v !== 'string' || v.trim() === '') {
    throw invalid(ctx, [...path, name], 'must be a non-empty string holding a CEL expression');
  }
  try {
    return compileExpression(v, name === 'message' ? 'string' : 'bool');
  } catch (err) {
    if (err instanceof CelCompileError) throw celError(ctx, [...path, name], err);
    throw err;
  }
}

function decodeEntry(ctx: DocContext, path: FieldPath, entry: unknown): ReadinessRule {
  if (!isMap(entry))
    throw invalid(ctx, path, 'must be a mapping with apiVersion, kind and current');
  for (const key of Object.keys(entry)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw invalid(ctx, [...path, key], `is not a rule field (${FIELDS.join(', ')})`);
    }
  }
  for (const key of ['apiVersion', 'kind'] as const) {
    const v = entry[key];
    if (v === undefined || v === null) throw invalid(ctx, path, `needs "${key}"`);
    if (typeof v !== 'string' || v === '')
      throw invalid(ctx, [...path, key], 'must be a non-empty string');
  }
  const apiVersion = entry.apiVersion as string;
  const gv = parseGroupVersion(apiVersion);
  if (!gv || gv.version === '') {
    throw invalid(ctx, [...path, 'apiVersion'], `"${apiVersion}" is not group/version or version`);
  }
  const { line } = positionOf(ctx, path);
  return new CompiledRule(
    gv.group,
    entry.kind as string,
    apiVersion,
    `${ctx.file}:${line}`,
    compileField(ctx, entry, path, 'current', true)!,
    compileField(ctx, entry, path, 'inProgress', false),
    compileField(ctx, entry, path, 'failed', false),
    compileField(ctx, entry, path, 'message', false),
  );
}

function decodeDocument(ctx: DocContext, value: unknown): ReadinessRule[] {
  let list: unknown = value;
  let base: FieldPath = [];
  if (isMap(value)) {
    for (const key of Object.keys(value)) {
      if (key !== 'rules') throw invalid(ctx, [key], 'is not a field of a rules file (rules)');
    }
    list = value.rules;
    base = ['rules'];
    if (list === undefined || list === null) return [];
  }
  if (!Array.isArray(list)) {
    throw invalid(ctx, base, 'must be a list of rules (apiVersion, kind, current...)');
  }
  return list.map((entry, i) => decodeEntry(ctx, [...base, i], entry));
}

function isEmptyDoc(doc: Document.Parsed): boolean {
  const c = doc.contents;
  return c === null || (isScalar(c) && c.value === null);
}

/**
 * Parses, validates and compiles a rules file. Every problem is a FathomError
 * (FATHOM_YAML_SYNTAX or FATHOM_CONFIG_INVALID) whose message starts with `file:line:col:`.
 * @param file how the file is named in messages.
 */
export function parseReadinessRules(text: string, file: string): ReadinessRules {
  return compileRuleSources([{ text, file }]);
}

/** Several rules files as one set; a kind given twice (in one file or across files) is an error. */
export function compileRuleSources(
  sources: readonly { text: string; file: string }[],
): ReadinessRules {
  const rules: ReadinessRule[] = [];
  const seen = new Map<string, ReadinessRule>();
  for (const { text, file } of sources) {
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: true });
    for (const doc of docs) if (doc.errors[0]) throw syntaxError(file, doc.errors[0]);
    for (const doc of docs) {
      if (isEmptyDoc(doc)) continue;
      if (!isYamlMap(doc.contents) && !isSeq(doc.contents)) {
        throw invalid(
          { file, doc, lines },
          [],
          'must be a list of rules or a mapping with "rules"',
        );
      }
      const ctx: DocContext = { file, doc, lines };
      for (const rule of decodeDocument(ctx, doc.toJS({ maxAliasCount: MAX_ALIASES }))) {
        const key = groupKindKey(rule);
        const first = seen.get(key);
        if (first) {
          throw new FathomError(
            'FATHOM_CONFIG_INVALID',
            `${rule.source}: a second rule for ${formatGroupKind(rule)} (the first is at ${first.source})`,
            { details: { file, kind: formatGroupKind(rule) } },
          );
        }
        seen.set(key, rule);
        rules.push(rule);
      }
    }
  }
  return new RuleSet(rules);
}

/** Reads and compiles rules files (FATHOM_CONFIG_INVALID when one cannot be read). */
export async function loadReadinessRules(paths: readonly string[]): Promise<ReadinessRules> {
  const sources = await Promise.all(
    paths.map(async (file) => {
      try {
        return { file, text: await readFile(file, 'utf8') };
      } catch (cause) {
        throw new FathomError(
          'FATHOM_CONFIG_INVALID',
          `${file}: cannot read the rules file: ${(cause as Error).message}`,
          {
            cause,
            details: { file },
          },
        );
      }
    }),
  );
  return compileRuleSources(sources);
}
