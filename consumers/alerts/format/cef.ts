import type { Severity } from '../../../schema/reasons';
import type { Delivery } from '../delivery';
import { PRODUCT, reasonTitle } from './product';

/** CEF severity is 0-10; ArcSight reads 0-3 Low, 4-6 Medium, 7-8 High, 9-10 Very-High. */
export const CEF_SEVERITY: Record<Severity, number> = { low: 3, medium: 5, high: 8, critical: 10 };

/** Header fields: backslash and pipe are escaped; a line break cannot be represented and becomes a space. */
export function cefHeaderEscape(value: string): string {
  return value.replace(/[\\|]/g, (c) => '\\' + c).replace(/\r\n|[\r\n]/g, ' ');
}

/** Extension values: backslash and equals sign are escaped, line breaks written as \n or \r. Pipes are literal. */
export function cefValueEscape(value: string): string {
  return value.replace(/[\\=]/g, (c) => '\\' + c).replace(/\r\n|\n/g, '\\n').replace(/\r/g, '\\r');
}

/**
 * One ArcSight Common Event Format line (CEF:0). The reason code is the event class id, so SIEM rules can key on
 * it; the framework mappings and the ledger ids go in labelled custom strings.
 */
export function formatCef(d: Delivery): string {
  const a = d.alert;
  const header = ['CEF:0', PRODUCT.vendor, PRODUCT.name, PRODUCT.version, a.reasonCode, reasonTitle(a.reasonCode), String(CEF_SEVERITY[d.severity])].map((h, i) =>
    i === 0 ? h : cefHeaderEscape(h),
  );
  const ext: Array<[string, string]> = [
    ['rt', String(d.lastSeenAt.getTime())],
    ['start', String(d.firstSeenAt.getTime())],
    ['end', String(d.lastSeenAt.getTime())],
    ['cnt', String(d.count)],
    ['externalId', d.deliveryId],
    ['cat', a.reasonCode],
    ['suser', a.agentId],
    ['msg', a.detail],
    ['cn1Label', 'findingId'],
    ['cn1', a.findingId],
    ['cs1Label', 'intentId'],
    ['cs1', a.intentId ?? ''],
    ['cs2Label', 'actionEventId'],
    ['cs2', a.actionEventId],
    ['cs3Label', 'owaspAgentic'],
    ['cs3', a.frameworks.owaspAgentic.join(',')],
    ['cs4Label', 'maestro'],
    ['cs4', a.frameworks.maestro.join(',')],
    ['cs5Label', 'nistAiRmf'],
    ['cs5', a.frameworks.nistAiRmf.join(',')],
    ['cs6Label', 'credentialsRevoked'],
    ['cs6', a.credentialsRevoked.join(',')],
    ['flexString1Label', 'tool'],
    ['flexString1', a.tool],
    ['outcome', a.credentialsRevoked.length > 0 ? 'credential revoked' : 'alerted'],
  ];
  return header.join('|') + '|' + ext.map(([k, v]) => `${k}=${cefValueEscape(v)}`).join(' ');
}
