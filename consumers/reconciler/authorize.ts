import type { Target } from '../../schema/events/intent';
import type { ToolCatalogue } from '../../schema/catalogue';
import type { ReasonCode, Severity } from '../../schema/reasons';
import { frameworksFor, type FrameworkMapping } from '../../schema/frameworks';
import { evaluateChain } from './delegation';
import type { IntentView } from './evaluateAction';

/** An action an agent is about to take: asked before the tool runs. */
export interface AuthorizationRequest {
  agentId: string;
  intentId: string | null;
  tool: string;
  args?: Record<string, unknown>;
  targets?: Target[];
  /** When the action would happen; the caller's clock. */
  at: Date;
}

export interface DecisionReason {
  code: ReasonCode;
  severity: Severity;
  detail: string;
  frameworks: FrameworkMapping;
}

export interface Decision {
  decision: 'allow' | 'deny';
  reasons: DecisionReason[];
  /** The targets judged: those given and those the catalogue reads from the arguments. */
  targets: Target[];
}

/**
 * allow or deny, before the tool runs: the very evaluator the reconciler applies afterwards (evaluateChain over
 * evaluateAction), so a call that was allowed is not later found to drift unless something changed in between
 * (the intent closed, its budget was spent). Deny on any finding, whatever its severity: request time is where
 * refusing costs least. `chain` is the intent and its ancestors (null: the intent is unknown); `priorActions` the
 * actions already reported under it, for its budget.
 */
export function authorize(chain: IntentView[] | null, req: AuthorizationRequest, catalogue: ToolCatalogue, priorActions = 0, spentByAncestor: ReadonlyMap<string, number> = new Map()): Decision {
  const v = evaluateChain(chain, { agentId: req.agentId, intentId: req.intentId, tool: req.tool, args: req.args, targets: req.targets ?? [], ts: req.at, priorActions }, catalogue, spentByAncestor);
  return {
    decision: v.findings.length === 0 ? 'allow' : 'deny',
    reasons: v.findings.map((f) => ({ code: f.reasonCode, severity: f.severity, detail: f.detail, frameworks: frameworksFor(f.reasonCode) })),
    targets: v.targets,
  };
}
