import type { OpenTarget, Target } from '../../schema/events/intent';
import type { ReasonCode, Severity } from '../../schema/reasons';
import {
  dedupeTargets,
  isNameLike,
  lookupTool,
  normaliseTarget,
  targetMatches,
  targetsFromArgs,
  type ToolCatalogue,
  type ToolEffect,
} from '../../schema/catalogue';
import { globMatch } from '../../schema/policy';

/** The declared intent as the reconciler sees it (built from intent.declared / intent.closed). */
export interface IntentView {
  intentId: string;
  agentId: string;
  allowedTools: string[];
  allowedTargets: Target[];
  dataClasses: string[];
  /** Optional: (tool, kind) pairs where the tool may touch any name-like target of the kind (see OpenTarget). */
  openTargets?: OpenTarget[];
  notBefore: Date;
  notAfter: Date;
  /**
   * `denied`: refused at declaration (policy or delegation), `deniedFor` says why; `pending`: delegated from a parent
   * that has not arrived yet (the reconciler holds its actions until it is decided).
   */
  status: 'open' | 'closed' | 'denied' | 'pending';
  deniedFor?: DeclarationReason;
  /** When the intent's own event was signed; an action before it was not covered by it. */
  declaredAt?: Date;
  /** The action budget; absent or null: none. */
  maxActions?: number | null;
}

/** One reported action. `targets` are what the agent says it touched; the reconciler adds those in `args`. */
export interface ActionView {
  agentId: string;
  intentId: string | null;
  tool: string;
  args?: Record<string, unknown>;
  targets: Target[];
  ts: Date;
  /** Actions under the same intent before this one (by time, then sequence); needed only for budgets. */
  priorActions?: number;
}

export interface DriftFinding {
  reasonCode: ReasonCode;
  severity: Severity;
  detail: string;
}

export interface Verdict {
  inScope: boolean;
  /** Reported ∪ derived from args, normalised and deduplicated. */
  targets: Target[];
  findings: DriftFinding[];
}

/**
 * Severity by reason and by the tool's effect. Why: harm grows with what the call can do, so the same breach of
 * scope is worse the further the data or money can travel and the less it can be undone. A read of something
 * undeclared leaks at most to the agent itself; an external send to an undeclared recipient is the exfiltration or
 * theft that prompt injections aim for.
 *
 * | reason                                          | read     | write    | destructive | external | unknown tool |
 * |-------------------------------------------------|----------|----------|-------------|----------|--------------|
 * | TOOL_NOT_ALLOWED                                | low      | high     | high        | critical | high         |
 * | TARGET_NOT_ALLOWED                              | medium   | high     | critical    | critical | high         |
 * | DATA_CLASS_NOT_ALLOWED                          | low      | medium   | high        | high     | -            |
 * | NO_INTENT, INTENT_UNKNOWN, INTENT_CLOSED,       | medium   | high     | critical    | critical | high         |
 * |   OUTSIDE_WINDOW                                |          |          |             |          |              |
 * | INTENT_AGENT_MISMATCH (another agent's intent)  | high     | critical | critical    | critical | critical     |
 * | UNKNOWN_TOOL (not in the catalogue)             | -        | -        | -           | -        | high         |
 *
 * An unknown tool is judged as "could be anything short of external": `high`, so it is revoked under the default
 * policy but ranks below a proven external send.
 */
type EffectOrUnknown = ToolEffect | 'unknown';
/** Reasons an intent is refused at declaration; an action under such an intent carries the same code. */
export type DeclarationReason = 'POLICY_DENIED' | 'APPROVAL_REQUIRED' | 'WINDOW_TOO_LONG' | 'DELEGATION_ESCALATION';
export type DriftReason =
  | 'NO_INTENT'
  | 'INTENT_UNKNOWN'
  | 'INTENT_CLOSED'
  | 'INTENT_AGENT_MISMATCH'
  | 'OUTSIDE_WINDOW'
  | 'TOOL_NOT_ALLOWED'
  | 'TARGET_NOT_ALLOWED'
  | 'DATA_CLASS_NOT_ALLOWED'
  | 'UNKNOWN_TOOL'
  | 'BUDGET_EXCEEDED'
  | 'INTENT_AFTER_ACTION'
  | DeclarationReason;
const NO_SCOPE: Record<EffectOrUnknown, Severity> = { read: 'medium', write: 'high', destructive: 'critical', external: 'critical', unknown: 'high' };
const SEVERITY: Record<DriftReason, Record<EffectOrUnknown, Severity>> = {
  TOOL_NOT_ALLOWED: { read: 'low', write: 'high', destructive: 'high', external: 'critical', unknown: 'high' },
  TARGET_NOT_ALLOWED: { read: 'medium', write: 'high', destructive: 'critical', external: 'critical', unknown: 'high' },
  DATA_CLASS_NOT_ALLOWED: { read: 'low', write: 'medium', destructive: 'high', external: 'high', unknown: 'high' },
  NO_INTENT: NO_SCOPE,
  INTENT_UNKNOWN: NO_SCOPE,
  INTENT_CLOSED: NO_SCOPE,
  OUTSIDE_WINDOW: NO_SCOPE,
  INTENT_AFTER_ACTION: NO_SCOPE,
  POLICY_DENIED: NO_SCOPE,
  APPROVAL_REQUIRED: NO_SCOPE,
  WINDOW_TOO_LONG: NO_SCOPE,
  DELEGATION_ESCALATION: NO_SCOPE,
  INTENT_AGENT_MISMATCH: { read: 'high', write: 'critical', destructive: 'critical', external: 'critical', unknown: 'critical' },
  UNKNOWN_TOOL: { read: 'high', write: 'high', destructive: 'high', external: 'high', unknown: 'high' },
  BUDGET_EXCEEDED: { read: 'medium', write: 'high', destructive: 'high', external: 'high', unknown: 'high' },
};

export function severityFor(reason: DriftReason, effect: EffectOrUnknown): Severity {
  return SEVERITY[reason][effect];
}

const key = (t: Target) => `${t.kind}\u0000${t.value}`;

function finding(reasonCode: DriftReason, effect: EffectOrUnknown, detail: string): DriftFinding {
  return { reasonCode, severity: severityFor(reasonCode, effect), detail };
}

/**
 * Is this action covered by its declared intent? Pure: same inputs, same verdict; no clock, no I/O.
 *
 * `intent` is what the caller found for `action.intentId` (null when the action names none or the id is unknown).
 * Order of judgement: first whether there is a usable intent at all (none, unknown, another agent's, closed); only
 * an intent the action may speak under is then compared field by field, and every breach is reported, so one
 * verdict says all that is wrong with the call. The window is inclusive at `notBefore` and exclusive at `notAfter`
 * (the convention of certificates and tokens: at `notAfter` the grant is already over).
 */
export function evaluateAction(intent: IntentView | null, action: ActionView, catalogue: ToolCatalogue): Verdict {
  const spec = lookupTool(catalogue, action.tool);
  const effect: EffectOrUnknown = spec ? spec.effect : 'unknown';

  // The agent's own report and the catalogue's reading of the args both count: an agent cannot hide a target by
  // leaving it out of `targets`, nor smuggle one past us by spelling it differently.
  const reported = action.targets.map((t) => ({ kind: t.kind, value: normaliseTarget(t.kind, t.value) }));
  const targets = dedupeTargets([...reported, ...targetsFromArgs(action.tool, action.args, catalogue)].filter((t) => t.value !== ''));

  const findings: DriftFinding[] = [];
  const done = () => ({ inScope: findings.length === 0, targets, findings });

  if (action.intentId === null) {
    findings.push(finding('NO_INTENT', effect, `${action.tool} was reported without an intent`));
    return done();
  }
  if (intent === null) {
    findings.push(finding('INTENT_UNKNOWN', effect, `${action.tool} names intent ${action.intentId}, which was never declared`));
    return done();
  }
  if (intent.intentId !== action.intentId) {
    // The caller handed us the wrong intent; judging against it would be judging against someone else's scope.
    findings.push(finding('INTENT_UNKNOWN', effect, `${action.tool} names intent ${action.intentId}, but intent ${intent.intentId} was supplied`));
    return done();
  }
  if (intent.agentId !== action.agentId) {
    findings.push(
      finding('INTENT_AGENT_MISMATCH', effect, `agent ${action.agentId} acted under intent ${intent.intentId}, declared by agent ${intent.agentId}`),
    );
    return done();
  }
  if (intent.status === 'pending') {
    // Only a request-time question meets this: the reconciler holds actions under a pending intent.
    findings.push(finding('INTENT_UNKNOWN', effect, `${action.tool} names intent ${intent.intentId}, which waits for its parent intent and is not yet in force`));
    return done();
  }
  if (intent.status === 'denied') {
    findings.push(finding(intent.deniedFor ?? 'POLICY_DENIED', effect, `${action.tool} was done under intent ${intent.intentId}, which was refused when it was declared`));
    return done();
  }
  if (intent.status === 'closed') {
    findings.push(finding('INTENT_CLOSED', effect, `${action.tool} came after intent ${intent.intentId} was closed`));
    return done();
  }

  const t = action.ts.getTime();
  if (Number.isNaN(t) || t < intent.notBefore.getTime() || t >= intent.notAfter.getTime()) {
    findings.push(
      finding(
        'OUTSIDE_WINDOW',
        effect,
        `${action.tool} at ${Number.isNaN(t) ? 'an invalid time' : action.ts.toISOString()} is outside the window ` +
          `[${intent.notBefore.toISOString()}, ${intent.notAfter.toISOString()})`,
      ),
    );
  }

  if (intent.declaredAt && t < intent.declaredAt.getTime()) {
    findings.push(finding('INTENT_AFTER_ACTION', effect, `${action.tool} at ${action.ts.toISOString()} came before intent ${intent.intentId} was declared (${intent.declaredAt.toISOString()})`));
  }
  if (intent.maxActions != null && action.priorActions !== undefined && action.priorActions >= intent.maxActions) {
    findings.push(finding('BUDGET_EXCEEDED', effect, `${action.tool} is action ${action.priorActions + 1} under intent ${intent.intentId}, whose budget is ${intent.maxActions}`));
  }

  if (!spec) {
    findings.push(finding('UNKNOWN_TOOL', effect, `${action.tool} is not in tool catalogue ${catalogue.name}; its effect cannot be judged`));
  }
  if (!intent.allowedTools.includes(action.tool)) {
    findings.push(finding('TOOL_NOT_ALLOWED', effect, `${action.tool} is not among the intent's allowed tools (${describeList(intent.allowedTools)})`));
  }
  if (spec && !intent.dataClasses.includes(spec.dataClass)) {
    findings.push(finding('DATA_CLASS_NOT_ALLOWED', effect, `${action.tool} touches ${spec.dataClass} data, which the intent does not declare (declared: ${describeList(intent.dataClasses)})`));
  }

  const declared = intent.allowedTargets.filter((a) => a.match !== 'pattern').map((a) => ({ kind: a.kind, value: normaliseTarget(a.kind, a.value) }));
  const patterns = intent.allowedTargets.filter((a) => a.match === 'pattern').map((a) => ({ kind: a.kind, value: normaliseTarget(a.kind, a.value) }));
  const exact = new Set(declared.map(key));
  // An open scope covers reads and writes only (no plan's "each member" reaches a delete or a send), and only the
  // catalogue's name kinds: an address is never "any".
  const openKinds = new Set(
    effect === 'read' || effect === 'write'
      ? (intent.openTargets ?? []).filter((o) => o.tool === action.tool && catalogue.nameKinds.includes(o.kind)).map((o) => o.kind)
      : [],
  );
  const outside = targets.filter(
    (x) =>
      !exact.has(key(x)) &&
      !declared.some((d) => targetMatches(x, d, catalogue)) &&
      !patterns.some((p) => p.kind === x.kind && globMatch(p.value, x.value)) &&
      !(openKinds.has(x.kind) && isNameLike(x.value)),
  );
  if (outside.length > 0) {
    const list = outside.map((x) => `${x.kind}:${x.value.length > 80 ? `${x.value.slice(0, 77)}...` : x.value}`).join(', ');
    const scope = intent.allowedTargets.length === 0 ? 'the intent declares no targets' : `declared: ${describeTargets(intent.allowedTargets)}`;
    findings.push(finding('TARGET_NOT_ALLOWED', effect, `${action.tool} touches undeclared target(s) ${list} (${scope})`));
  }
  return done();
}

/** The declared scope in an explanation: a few targets, with how many more, so the analyst sees what was allowed. */
function describeTargets(targets: Target[], max = 5): string {
  const shown = targets.slice(0, max).map((t) => `${t.kind}:${t.match === 'pattern' ? `${t.value} (pattern)` : t.value}`);
  return targets.length > max ? `${shown.join(', ')} and ${targets.length - max} more` : shown.join(', ');
}

function describeList(items: string[], max = 8): string {
  if (items.length === 0) return 'none';
  return items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ');
}
