import { REASON_CODES, type ReasonCode } from './reasons';

/**
 * Where each reason code sits in the frameworks SOC teams report against, so an alert can be filed without a
 * lookup table of the analyst's own:
 * - OWASP Top 10 for Agentic Applications (2026): ASI01 Agent Goal Hijack, ASI02 Tool Misuse and Exploitation,
 *   ASI03 Identity and Privilege Abuse, ASI04 Agentic Supply Chain Vulnerabilities, ASI05 Unexpected Code
 *   Execution, ASI06 Memory and Context Poisoning, ASI07 Insecure Inter-Agent Communication, ASI08 Cascading
 *   Failures, ASI09 Human-Agent Trust Exploitation, ASI10 Rogue Agents;
 * - CSA MAESTRO layers: L1 Foundation Models, L2 Data Operations, L3 Agent Frameworks, L4 Deployment and
 *   Infrastructure, L5 Evaluation and Observability, L6 Security and Compliance, L7 Agent Ecosystem;
 * - NIST AI RMF 1.0 subcategories (GOVERN, MAP, MEASURE, MANAGE).
 *
 * The mapping is by what the code means, not by which attack caused it: a TARGET_NOT_ALLOWED on an external send
 * is what a goal hijack looks like from outside (ASI01) and is tool misuse (ASI02) whatever its cause.
 */
export interface FrameworkMapping {
  owaspAgentic: string[];
  maestro: string[];
  nistAiRmf: string[];
}

export const OWASP_AGENTIC: Record<string, string> = {
  ASI01: 'Agent Goal Hijack',
  ASI02: 'Tool Misuse and Exploitation',
  ASI03: 'Identity and Privilege Abuse',
  ASI04: 'Agentic Supply Chain Vulnerabilities',
  ASI05: 'Unexpected Code Execution',
  ASI06: 'Memory and Context Poisoning',
  ASI07: 'Insecure Inter-Agent Communication',
  ASI08: 'Cascading Failures',
  ASI09: 'Human-Agent Trust Exploitation',
  ASI10: 'Rogue Agents',
};

export const MAESTRO_LAYERS: Record<string, string> = {
  L1: 'Foundation Models',
  L2: 'Data Operations',
  L3: 'Agent Frameworks',
  L4: 'Deployment and Infrastructure',
  L5: 'Evaluation and Observability',
  L6: 'Security and Compliance',
  L7: 'Agent Ecosystem',
};

export const NIST_AI_RMF: Record<string, string> = {
  'GOVERN 1.2': 'trustworthy AI characteristics are integrated into policies, processes and procedures',
  'GOVERN 6.1': 'policies address AI risks of third-party entities',
  'MAP 3.3': 'targeted application scope is specified and documented',
  'MAP 3.5': 'processes for human oversight are defined and documented',
  'MEASURE 2.7': 'AI system security and resilience are evaluated and documented',
  'MEASURE 2.8': 'risks of transparency and accountability are examined and documented',
  'MEASURE 2.10': 'privacy risk of the AI system is examined and documented',
  'MANAGE 2.4': 'mechanisms supersede, disengage or deactivate AI systems whose outcomes are inconsistent with intended use',
  'MANAGE 4.1': 'post-deployment monitoring plans are implemented',
};

const m = (owaspAgentic: string[], maestro: string[], nistAiRmf: string[]): FrameworkMapping => ({ owaspAgentic, maestro, nistAiRmf });

// Ingest rejections: malformed or forged input at the ledger's door.
const MALFORMED = m(['ASI04'], ['L4', 'L6'], ['MEASURE 2.7']);
const FORGERY = m(['ASI03', 'ASI07'], ['L6', 'L7'], ['MEASURE 2.7', 'MEASURE 2.8']);
/** A credential presented by someone who cannot prove they hold its key, or a proof made for another request. */
const STOLEN = m(['ASI03'], ['L6', 'L7'], ['MEASURE 2.7', 'MANAGE 2.4']);
const CONCEALMENT = m(['ASI10'], ['L5', 'L6'], ['MEASURE 2.8', 'MANAGE 4.1']);

export const FRAMEWORKS: Record<ReasonCode, FrameworkMapping> = {
  MALFORMED_JSON: MALFORMED,
  INVALID_UTF8: MALFORMED,
  DUPLICATE_KEY: MALFORMED,
  TOO_DEEP: MALFORMED,
  TOO_LARGE: MALFORMED,
  NUMBER_NOT_EXACT: MALFORMED,
  LONE_SURROGATE: MALFORMED,
  SCHEMA_INVALID: MALFORMED,
  BAD_TIMESTAMP: MALFORMED,
  CLOCK_SKEW: m(['ASI10'], ['L4', 'L5'], ['MEASURE 2.7']),
  UNKNOWN_AGENT: FORGERY,
  UNKNOWN_KEY: FORGERY,
  KEY_RETIRED: FORGERY,
  KEY_AGENT_MISMATCH: FORGERY,
  KAFKA_KEY_MISMATCH: m(['ASI07', 'ASI10'], ['L4', 'L6'], ['MEASURE 2.7']),
  SIG_BAD_ENCODING: FORGERY,
  SIG_INVALID: FORGERY,
  DUPLICATE_EVENT: m(['ASI07'], ['L6'], ['MEASURE 2.7']),
  SEQ_REPLAY: m(['ASI07'], ['L6'], ['MEASURE 2.7']),
  SEQ_GAP: CONCEALMENT,
  LATE_EVENT: CONCEALMENT,
  FORK: m(['ASI10', 'ASI07'], ['L5', 'L6'], ['MEASURE 2.7', 'MEASURE 2.8']),
  PREV_HASH_MISMATCH: m(['ASI10', 'ASI07'], ['L5', 'L6'], ['MEASURE 2.7', 'MEASURE 2.8']),
  NO_INTENT: m(['ASI10', 'ASI03'], ['L3', 'L6'], ['MAP 3.3', 'MANAGE 2.4']),
  INTENT_UNKNOWN: m(['ASI10', 'ASI03'], ['L3', 'L6'], ['MAP 3.3', 'MANAGE 2.4']),
  INTENT_CLOSED: m(['ASI03'], ['L3', 'L6'], ['MAP 3.3', 'MANAGE 2.4']),
  INTENT_AGENT_MISMATCH: m(['ASI03', 'ASI07'], ['L7', 'L6'], ['MAP 3.3', 'MANAGE 2.4']),
  OUTSIDE_WINDOW: m(['ASI03'], ['L3', 'L6'], ['MAP 3.3', 'MANAGE 2.4']),
  TOOL_NOT_ALLOWED: m(['ASI02', 'ASI01'], ['L3'], ['MAP 3.3', 'MANAGE 2.4']),
  TARGET_NOT_ALLOWED: m(['ASI01', 'ASI02'], ['L3', 'L2'], ['MAP 3.3', 'MEASURE 2.7', 'MANAGE 2.4']),
  DATA_CLASS_NOT_ALLOWED: m(['ASI02', 'ASI03'], ['L2', 'L3'], ['MAP 3.3', 'MEASURE 2.10', 'MANAGE 2.4']),
  UNKNOWN_TOOL: m(['ASI04', 'ASI02'], ['L3', 'L7'], ['GOVERN 6.1', 'MAP 3.3']),
  BUDGET_EXCEEDED: m(['ASI02', 'ASI08'], ['L3'], ['MAP 3.3', 'MANAGE 2.4']),
  INTENT_AFTER_ACTION: m(['ASI10'], ['L5', 'L3'], ['MEASURE 2.8', 'MANAGE 4.1']),
  DELEGATION_ESCALATION: m(['ASI03', 'ASI07'], ['L7', 'L3'], ['MAP 3.3', 'MANAGE 2.4']),
  POLICY_DENIED: m(['ASI03'], ['L6'], ['GOVERN 1.2', 'MAP 3.3']),
  APPROVAL_REQUIRED: m(['ASI09', 'ASI03'], ['L6'], ['MAP 3.5', 'GOVERN 1.2']),
  WINDOW_TOO_LONG: m(['ASI03'], ['L6'], ['GOVERN 1.2', 'MAP 3.3']),
  UNREPORTED_ACTION: m(['ASI10'], ['L5', 'L4'], ['MEASURE 2.8', 'MANAGE 4.1']),
  UNOBSERVED_ACTION: m(['ASI10'], ['L5', 'L4'], ['MEASURE 2.8', 'MANAGE 4.1']),
  CREDENTIAL_INVALID: STOLEN,
  CREDENTIAL_EXPIRED: m(['ASI03'], ['L6'], ['MANAGE 2.4']),
  CREDENTIAL_REVOKED: m(['ASI03', 'ASI10'], ['L6'], ['MANAGE 2.4']),
  PROOF_INVALID: STOLEN,
  PROOF_KEY_MISMATCH: STOLEN,
  PROOF_BINDING_MISMATCH: STOLEN,
  PROOF_STALE: m(['ASI03', 'ASI07'], ['L6'], ['MEASURE 2.7']),
  PROOF_REPLAYED: m(['ASI03', 'ASI07'], ['L6', 'L7'], ['MEASURE 2.7']),
  NOT_A_GATEWAY: FORGERY,
  ATTESTATION_INVALID: m(['ASI03', 'ASI04'], ['L4', 'L6'], ['GOVERN 6.1', 'MEASURE 2.7']),
  ANALYST_REVOKED: m(['ASI10', 'ASI09'], ['L6'], ['MANAGE 2.4', 'MAP 3.5']),
};

export function frameworksFor(code: ReasonCode): FrameworkMapping {
  return FRAMEWORKS[code];
}

/** Every code is mapped, and every id used is one of the frameworks' own (checked by the unit test, and here). */
export function checkFrameworks(): string[] {
  const problems: string[] = [];
  for (const code of REASON_CODES) {
    const f = FRAMEWORKS[code];
    if (!f) {
      problems.push(`${code}: no mapping`);
      continue;
    }
    for (const id of f.owaspAgentic) if (!OWASP_AGENTIC[id]) problems.push(`${code}: unknown OWASP id ${id}`);
    for (const id of f.maestro) if (!MAESTRO_LAYERS[id]) problems.push(`${code}: unknown MAESTRO layer ${id}`);
    for (const id of f.nistAiRmf) if (!NIST_AI_RMF[id]) problems.push(`${code}: unknown NIST AI RMF subcategory ${id}`);
    if (f.owaspAgentic.length === 0 || f.maestro.length === 0 || f.nistAiRmf.length === 0) problems.push(`${code}: empty mapping`);
  }
  return problems;
}
