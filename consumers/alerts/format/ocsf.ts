import type { Severity } from '../../../schema/reasons';
import type { Delivery } from '../delivery';
import { PRODUCT, reasonTitle } from './product';

/** The OCSF schema version the events below follow. */
export const OCSF_VERSION = '1.3.0';

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical (6 Fatal is for the producer itself). */
export const OCSF_SEVERITY: Record<Severity, { id: number; caption: string }> = {
  low: { id: 2, caption: 'Low' },
  medium: { id: 3, caption: 'Medium' },
  high: { id: 4, caption: 'High' },
  critical: { id: 5, caption: 'Critical' },
};

const DETECTION_FINDING = 2004;
const CREATE = 1;
/** Observable type_id: 10 Resource UID, 19 User Credential ID. */
const RESOURCE_UID = 10;
const CREDENTIAL_ID = 19;

/**
 * An OCSF Detection Finding (class 2004, activity Create). Where the frameworks go: OCSF's `attacks` is MITRE
 * ATT&CK only (tactic, technique), and OWASP Agentic, MAESTRO and NIST AI RMF are not ATT&CK, so they are
 * `metadata.labels` (`owasp-agentic:ASI02`, `maestro:L3`, `nist-ai-rmf:MEASURE 2.7`) rather than fake techniques.
 * The agent, intent and revoked credentials are `resources` and `observables`; the reason code is the analytic
 * (a rule) and `metadata.event_code`; folded alerts give `count` and the first and last seen times.
 */
export function ocsfDetectionFinding(d: Delivery): Record<string, unknown> {
  const a = d.alert;
  const sev = OCSF_SEVERITY[d.severity];
  const first = d.firstSeenAt.getTime();
  const last = d.lastSeenAt.getTime();
  const resources: Array<{ uid: string; type: string }> = [{ uid: a.agentId, type: 'AI Agent' }];
  const observables: Array<{ name: string; type_id: number; type: string; value: string }> = [
    { name: 'resources.uid', type_id: RESOURCE_UID, type: 'Resource UID', value: a.agentId },
  ];
  if (a.intentId !== null) {
    resources.push({ uid: a.intentId, type: 'Intent' });
    observables.push({ name: 'resources.uid', type_id: RESOURCE_UID, type: 'Resource UID', value: a.intentId });
  }
  for (const c of a.credentialsRevoked) {
    resources.push({ uid: c, type: 'Credential' });
    observables.push({ name: 'resources.uid', type_id: CREDENTIAL_ID, type: 'User Credential ID', value: c });
  }
  return {
    class_uid: DETECTION_FINDING,
    class_name: 'Detection Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: CREATE,
    activity_name: 'Create',
    type_uid: DETECTION_FINDING * 100 + CREATE,
    type_name: 'Detection Finding: Create',
    time: first,
    start_time: first,
    end_time: last,
    count: d.count,
    severity_id: sev.id,
    severity: sev.caption,
    status_id: 1,
    status: 'New',
    is_alert: true,
    message: a.detail,
    metadata: {
      version: OCSF_VERSION,
      uid: d.deliveryId,
      event_code: a.reasonCode,
      product: { name: PRODUCT.name, vendor_name: PRODUCT.vendor, version: PRODUCT.version },
      labels: [
        ...a.frameworks.owaspAgentic.map((x) => `owasp-agentic:${x}`),
        ...a.frameworks.maestro.map((x) => `maestro:${x}`),
        ...a.frameworks.nistAiRmf.map((x) => `nist-ai-rmf:${x}`),
      ],
    },
    finding_info: {
      uid: a.findingId,
      title: a.tool ? `${reasonTitle(a.reasonCode)}: ${a.tool}` : reasonTitle(a.reasonCode),
      desc: a.detail,
      types: ['Scope Drift'],
      analytic: { uid: a.reasonCode, name: a.reasonCode, type_id: 1, type: 'Rule' },
      related_events: [{ uid: a.actionEventId }],
      created_time: first,
      first_seen_time: first,
      last_seen_time: last,
    },
    resources,
    observables,
    unmapped: { tool: a.tool, finding_ids: d.findingIds },
  };
}

export function formatOcsf(d: Delivery): string {
  return JSON.stringify(ocsfDetectionFinding(d));
}
