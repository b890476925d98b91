import type { Severity } from '../../../schema/reasons';
import type { Delivery } from '../delivery';

/** RFC 5424 facility codes (section 6.2.1), by the names syslog.conf uses. */
export const FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  ntp: 12, audit: 13, alert: 14, clock: 15, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;
export type Facility = keyof typeof FACILITIES;

/** Our severities as syslog's: critical 2 (Critical), high 3 (Error), medium 4 (Warning), low 5 (Notice). */
export const SYSLOG_SEVERITY: Record<Severity, number> = { critical: 2, high: 3, medium: 4, low: 5 };

export interface SyslogHeader {
  facility: Facility;
  hostname: string;
  appName: string;
  procId: string;
  enterpriseId: string;
}

/** SD-PARAM values escape `"`, `\` and `]` (RFC 5424 section 6.3.3). */
export function sdEscape(value: string): string {
  return value.replace(/["\\\]]/g, (c) => '\\' + c);
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`. MSGID is the reason code; the
 * structured data element `intentledger@<enterprise id>` carries the ids a collector may index without parsing
 * MSG. MSG is UTF-8 and starts with the BOM the RFC asks for when it holds anything beyond US-ASCII (a pure ASCII
 * message, such as most CEF lines, is sent without one, which some CEF parsers would choke on).
 */
export function syslog5424(d: Delivery, msg: string, h: SyslogHeader): Buffer {
  const a = d.alert;
  const pri = FACILITIES[h.facility] * 8 + SYSLOG_SEVERITY[d.severity];
  const params: Array<[string, string]> = [
    ['deliveryId', d.deliveryId],
    ['findingId', a.findingId],
    ['agentId', a.agentId],
    ['intentId', a.intentId ?? ''],
    ['reasonCode', a.reasonCode],
    ['severity', d.severity],
    ['count', String(d.count)],
  ];
  const sd = `[intentledger@${h.enterpriseId} ${params.map(([k, v]) => `${k}="${sdEscape(v)}"`).join(' ')}]`;
  const head = `<${pri}>1 ${d.lastSeenAt.toISOString()} ${h.hostname} ${h.appName} ${h.procId} ${a.reasonCode} ${sd} `;
  // eslint-disable-next-line no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(msg);
  return Buffer.concat([Buffer.from(head, 'utf8'), ascii ? Buffer.alloc(0) : BOM, Buffer.from(msg, 'utf8')]);
}

/** RFC 6587 section 3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, so a message may hold any byte, newlines too. */
export function octetCountingFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}
