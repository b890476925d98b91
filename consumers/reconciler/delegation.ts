import type { OpenTarget, Target } from '../../schema/events/intent';
import { normaliseTarget, targetMatches, type ToolCatalogue } from '../../schema/catalogue';
import { globMatch, type DeclarationFinding } from '../../schema/policy';
import { severityRank } from '../../schema/reasons';
import { evaluateAction, type ActionView, type DriftFinding, type IntentView, type Verdict } from './evaluateAction';

/** The deepest chain of delegations followed; deeper chains are refused (policy depths are at most 32). */
export const MAX_CHAIN = 33;

/** What a child intent asks for, as far as narrowing is concerned. */
export interface ChildDeclaration {
  intentId: string;
  allowedTools: string[];
  allowedTargets: Target[];
  openTargets?: OpenTarget[];
  dataClasses: string[];
  notBefore: Date;
  notAfter: Date;
  maxActions?: number | null;
}

/**
 * A child intent may only narrow its parent: no tool, data class or target the parent lacks, a window inside the
 * parent's, a budget no larger than the parent's, and a parent that is still open. Every escalation is named.
 * A target pattern in the child is covered only by a parent pattern that matches it as written (with `*` only:
 * then every value the child's pattern admits, the parent's admits too).
 */
export function checkDelegation(parent: IntentView, child: ChildDeclaration, catalogue: ToolCatalogue): DeclarationFinding[] {
  const problems: string[] = [];
  if (parent.status !== 'open') problems.push(`its parent ${parent.intentId} is ${parent.status}`);
  const tools = child.allowedTools.filter((t) => !parent.allowedTools.includes(t));
  if (tools.length > 0) problems.push(`tool(s) ${tools.join(', ')} not in parent ${parent.intentId}`);
  const classes = child.dataClasses.filter((c) => !parent.dataClasses.includes(c));
  if (classes.length > 0) problems.push(`data class(es) ${classes.join(', ')} not in parent ${parent.intentId}`);
  const targets = child.allowedTargets.filter((t) => !covered(t, parent.allowedTargets, catalogue));
  if (targets.length > 0) {
    problems.push(`target(s) ${targets.map((t) => `${t.kind}:${t.value}${t.match === 'pattern' ? ' (pattern)' : ''}`).join(', ')} not covered by parent ${parent.intentId}`);
  }
  const open = (child.openTargets ?? []).filter((o) => !(parent.openTargets ?? []).some((q) => q.tool === o.tool && q.kind === o.kind));
  if (open.length > 0) problems.push(`open target(s) ${open.map((o) => `${o.tool}:any ${o.kind}`).join(', ')} not in parent ${parent.intentId}`);
  if (child.notBefore.getTime() < parent.notBefore.getTime() || child.notAfter.getTime() > parent.notAfter.getTime()) {
    problems.push(
      `window [${child.notBefore.toISOString()}, ${child.notAfter.toISOString()}) outside parent's [${parent.notBefore.toISOString()}, ${parent.notAfter.toISOString()})`,
    );
  }
  if (parent.maxActions != null && (child.maxActions == null || child.maxActions > parent.maxActions)) {
    problems.push(`budget ${child.maxActions ?? 'unlimited'} above parent's ${parent.maxActions}`);
  }
  if (problems.length === 0) return [];
  return [{ reasonCode: 'DELEGATION_ESCALATION', severity: 'high', detail: `intent ${child.intentId} claims more than it was delegated: ${problems.join('; ')}` }];
}

function covered(t: Target, parentTargets: Target[], catalogue: ToolCatalogue): boolean {
  const value = normaliseTarget(t.kind, t.value);
  for (const p of parentTargets) {
    if (p.kind !== t.kind) continue;
    const pv = normaliseTarget(p.kind, p.value);
    if (t.match === 'pattern') {
      if (p.match === 'pattern' ? pv === value || (!pv.includes('?') && globMatch(pv, value)) : false) return true;
    } else if (p.match === 'pattern' ? globMatch(pv, value) : pv === value || targetMatches({ kind: t.kind, value }, { kind: p.kind, value: pv }, catalogue)) {
      return true;
    }
  }
  return false;
}

/**
 * Judges an action against its own intent and every intent it was delegated from, up to the root: an action three
 * hops down must fit the root's scope (tools, targets, data classes, window, status) as well as its own. The
 * agent check applies to the action's own intent only (ancestors are other agents' by design); an ancestor's budget
 * is checked against `spentByAncestor` (the actions already under its whole subtree), when given. `chain[0]` is the action's own intent; null when it is unknown.
 *
 * One finding per reason code (the ledger keeps one per action and code): an ancestor's breach of the same kind
 * as the action's own is folded into it, at the higher severity, with both explanations.
 */
export function evaluateChain(chain: IntentView[] | null, action: ActionView, catalogue: ToolCatalogue, spentByAncestor: ReadonlyMap<string, number> = new Map()): Verdict {
  const own = evaluateAction(chain?.[0] ?? null, action, catalogue);
  if (!chain || chain.length < 2 || own.findings.some((f) => ['NO_INTENT', 'INTENT_UNKNOWN', 'INTENT_AGENT_MISMATCH'].includes(f.reasonCode))) return own;
  const byCode = new Map<string, DriftFinding>(own.findings.map((f) => [f.reasonCode, f]));
  for (let hop = 1; hop < chain.length; hop++) {
    const ancestor = chain[hop]!;
    // An ancestor's budget counts every action under it and under the intents delegated from it, so splitting a task
    // among children cannot multiply it.
    const v = evaluateAction(ancestor, { ...action, agentId: ancestor.agentId, intentId: ancestor.intentId, priorActions: spentByAncestor.get(ancestor.intentId) }, catalogue);
    const label = hop === chain.length - 1 ? 'root intent' : 'ancestor intent';
    for (const f of v.findings) {
      if (f.reasonCode === 'INTENT_AFTER_ACTION') continue;
      const detail = `under ${label} ${ancestor.intentId} (${hop} delegation${hop > 1 ? 's' : ''} up): ${f.detail}`;
      const prior = byCode.get(f.reasonCode);
      if (!prior) byCode.set(f.reasonCode, { ...f, detail });
      else byCode.set(f.reasonCode, { reasonCode: f.reasonCode, severity: severityRank(f.severity) > severityRank(prior.severity) ? f.severity : prior.severity, detail: `${prior.detail}; ${detail}` });
    }
  }
  const findings = [...byCode.values()];
  return { inScope: findings.length === 0, targets: own.targets, findings };
}
