import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { IntentLedgerError } from '../services/common/errors';
import { SEVERITIES, type ReasonCode, type Severity } from './reasons';
import type { ToolCatalogue } from './catalogue';
import { parseStrictJson } from './crypto/strictJson';

/**
 * Who may declare what. A policy is a list of rules, each for the agents whose id matches one of its patterns;
 * the first rule that matches an agent is the one applied (so put specific rules first and a catch-all last, or
 * none: an agent no rule names may declare nothing). A rule says which tools and data classes the agent may put
 * in an intent, which of them need a human approval reference, the longest window it may ask for and how deep a
 * chain of delegations may go. `revokeAt` is the drift severity from which the credential is revoked.
 */
const Pattern = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._:@/*?-]+$/, 'a pattern is 1-256 chars of [A-Za-z0-9._:@/-] with * and ? wildcards');

const Rule = z
  .object({
    description: z.string().max(1024).optional(),
    agents: z.array(Pattern).min(1).max(256),
    tools: z.array(Pattern).min(1).max(1024),
    dataClasses: z.array(Pattern).min(1).max(256),
    requireApproval: z
      .object({ tools: z.array(Pattern).max(1024).default([]), dataClasses: z.array(Pattern).max(256).default([]) })
      .strict()
      .default({ tools: [], dataClasses: [] }),
    maxWindowSeconds: z.number().int().min(1).max(366 * 24 * 3600),
    maxDelegationDepth: z.number().int().min(0).max(32).default(3),
  })
  .strict();

export const Policy = z
  .object({
    name: z.string().min(1).max(128),
    version: z.number().int().min(1),
    revokeAt: z.enum(SEVERITIES),
    /** How long an action whose intent has not arrived waits before it is judged without one. */
    graceMs: z.number().int().min(0).max(3_600_000).default(30_000),
    /** The longest a credential the broker issues may live, whatever the intent's window. */
    maxCredentialSeconds: z.number().int().min(1).max(24 * 3600).default(900),
    /**
     * Tools reachable only through a tool gateway: a reported call to one that no gateway observed within the
     * grace window is UNOBSERVED_ACTION (the agent reached it some other way, or reported a call it never made).
     */
    gatewayOnlyTools: z.array(Pattern).max(1024).default([]),
    rules: z.array(Rule).min(1).max(1024),
  })
  .strict();
export type Policy = z.infer<typeof Policy>;
export type PolicyRule = z.infer<typeof Rule>;

export class PolicyError extends IntentLedgerError {
  constructor(message: string) {
    super('POLICY_INVALID', message);
  }
}

/**
 * Validates a policy, and with a catalogue also that every tool and data class it names exactly exists (a
 * misspelt tool in a policy would silently deny, or worse, silently fail to require an approval).
 */
export function parsePolicy(json: unknown, source = 'policy', catalogue?: ToolCatalogue): Policy {
  const parsed = Policy.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new PolicyError(`${source} is not a valid policy: ${issues}`);
  }
  const policy = parsed.data;
  if (catalogue) {
    const tools = Object.keys(catalogue.tools);
    const classes = new Set([...Object.values(catalogue.tools).map((t) => t.dataClass), ...catalogue.ambientDataClasses]);
    const problems: string[] = [];
    policy.rules.forEach((r, i) => {
      const check = (what: string, patterns: string[], known: Iterable<string>) => {
        const list = [...known];
        for (const p of patterns) if (!list.some((k) => globMatch(p, k))) problems.push(`rules.${i}.${what}: "${p}" matches nothing in catalogue ${catalogue.name}`);
      };
      check('tools', r.tools, tools);
      check('dataClasses', r.dataClasses, classes);
      check('requireApproval.tools', r.requireApproval.tools, tools);
      check('requireApproval.dataClasses', r.requireApproval.dataClasses, classes);
    });
    for (const p of policy.gatewayOnlyTools) if (!tools.some((k) => globMatch(p, k))) problems.push(`gatewayOnlyTools: "${p}" matches nothing in catalogue ${catalogue.name}`);
    if (problems.length > 0) throw new PolicyError(`${source} is not a valid policy: ${problems.join('; ')}`);
  }
  return policy;
}

export function loadPolicy(path: string, catalogue?: ToolCatalogue): Policy {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    throw new PolicyError(`cannot read policy ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = parseStrictJson(text, { maxDepth: 32, maxBytes: 16 * 1024 * 1024 });
  } catch (e) {
    throw new PolicyError(`policy ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parsePolicy(json, `policy ${path}`, catalogue);
}

/**
 * `*` any run of characters, `?` one; the whole value must match. At most pattern × value steps (one star is
 * retried at a time, never nested backtracking as a regex would), and both are bounded by the schemas.
 */
export function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

export function ruleFor(policy: Policy, agentId: string): PolicyRule | null {
  return policy.rules.find((r) => r.agents.some((a) => globMatch(a, agentId))) ?? null;
}

export interface DeclarationFinding {
  reasonCode: Extract<ReasonCode, 'POLICY_DENIED' | 'APPROVAL_REQUIRED' | 'WINDOW_TOO_LONG' | 'DELEGATION_ESCALATION'>;
  severity: Severity;
  detail: string;
}

export interface DeclarationView {
  agentId: string;
  intentId: string;
  allowedTools: string[];
  dataClasses: string[];
  notBefore: Date;
  notAfter: Date;
  approvalRef?: string | null;
  /** Hops from the root intent: 0 for an intent with no parent. */
  delegationDepth: number;
}

/**
 * May this agent declare this intent? Every breach is reported. A denied intent gets no credential, and every
 * action under it is out of scope (INTENT_CLOSED would be wrong: it was never open).
 */
export function checkDeclaration(policy: Policy, d: DeclarationView): DeclarationFinding[] {
  const rule = ruleFor(policy, d.agentId);
  if (!rule) return [{ reasonCode: 'POLICY_DENIED', severity: 'high', detail: `policy ${policy.name} v${policy.version} has no rule for agent ${d.agentId}` }];
  const out: DeclarationFinding[] = [];
  const tools = d.allowedTools.filter((t) => !rule.tools.some((p) => globMatch(p, t)));
  if (tools.length > 0) out.push({ reasonCode: 'POLICY_DENIED', severity: 'high', detail: `intent ${d.intentId} declares tool(s) ${tools.join(', ')}, which policy ${policy.name} does not let agent ${d.agentId} use` });
  const classes = d.dataClasses.filter((c) => !rule.dataClasses.some((p) => globMatch(p, c)));
  if (classes.length > 0) out.push({ reasonCode: 'POLICY_DENIED', severity: 'high', detail: `intent ${d.intentId} declares data class(es) ${classes.join(', ')}, which policy ${policy.name} does not let agent ${d.agentId} touch` });
  if (!d.approvalRef) {
    const needs = [
      ...d.allowedTools.filter((t) => rule.requireApproval.tools.some((p) => globMatch(p, t))).map((t) => `tool ${t}`),
      ...d.dataClasses.filter((c) => rule.requireApproval.dataClasses.some((p) => globMatch(p, c))).map((c) => `data class ${c}`),
    ];
    if (needs.length > 0) out.push({ reasonCode: 'APPROVAL_REQUIRED', severity: 'high', detail: `intent ${d.intentId} declares ${needs.join(', ')} without an approval reference` });
  }
  const seconds = (d.notAfter.getTime() - d.notBefore.getTime()) / 1000;
  if (seconds > rule.maxWindowSeconds) out.push({ reasonCode: 'WINDOW_TOO_LONG', severity: 'medium', detail: `intent ${d.intentId} asks for a ${Math.round(seconds)} s window; policy ${policy.name} allows at most ${rule.maxWindowSeconds} s` });
  if (d.delegationDepth > rule.maxDelegationDepth) out.push({ reasonCode: 'DELEGATION_ESCALATION', severity: 'high', detail: `intent ${d.intentId} is ${d.delegationDepth} delegations from its root; policy ${policy.name} allows ${rule.maxDelegationDepth}` });
  return out;
}

/** Is this tool one the policy says is reachable only through a gateway? */
export function isGatewayOnly(policy: Policy, tool: string): boolean {
  return policy.gatewayOnlyTools.some((p) => globMatch(p, tool));
}
