import { sampleDelivery } from '../testFixtures';
import { cefHeaderEscape, cefValueEscape, fitToSize, formatCef, formatJson, ocsfDetectionFinding, octetCountingFrame, sdEscape, syslog5424, TRUNCATED, FORMATS } from '.';
import { parseCef, parseSyslog5424, splitOctetCounted } from '../../../test/alertParsers';
import { SEVERITIES } from '../../../schema/reasons';

const header = { facility: 'local0' as const, hostname: 'ledger-1', appName: 'intent-ledger', procId: '4242', enterpriseId: '32473' };

describe('CEF', () => {
  it('escapes header fields (backslash, pipe; line breaks become spaces) and extension values (backslash, equals, line breaks)', () => {
    expect(cefHeaderEscape('a|b\\c\r\nd\ne')).toBe('a\\|b\\\\c d e');
    expect(cefValueEscape('a=b\\c|d\r\ne\rf')).toBe('a\\=b\\\\c|d\\ne\\rf');
  });

  it('writes one line a CEF reader takes apart into the alert it came from', () => {
    const d = sampleDelivery({ count: 3, findingIds: ['42', '43', '44'], lastSeenAt: new Date('2026-03-01T10:00:05.000Z') }, { detail: 'sent to x=1 | y\\z\nnext line', tool: 'send|money' });
    const line = formatCef(d);
    expect(line).not.toMatch(/[\r\n]/);
    expect(line.startsWith('CEF:0|Intent Ledger|intent-ledger|')).toBe(true);
    const c = parseCef(line);
    expect([c.version, c.vendor, c.product, c.signatureId, c.name, c.severity]).toEqual([0, 'Intent Ledger', 'intent-ledger', 'TARGET_NOT_ALLOWED', 'Target not allowed', '10']);
    expect(c.ext).toMatchObject({
      rt: String(Date.parse('2026-03-01T10:00:05.000Z')), start: String(Date.parse('2026-03-01T10:00:00.000Z')), cnt: '3', externalId: 'dlv_test', cat: 'TARGET_NOT_ALLOWED',
      suser: 'agent-7', msg: 'sent to x=1 | y\\z\nnext line', cn1Label: 'findingId', cn1: '42', cs1Label: 'intentId', cs1: 'int_abc', cs2: 'evt_123',
      cs3Label: 'owaspAgentic', cs3: 'ASI01,ASI02', cs4: 'L3,L2', cs5: 'MAP 3.3,MEASURE 2.7,MANAGE 2.4', cs6Label: 'credentialsRevoked', cs6: 'cred_x', flexString1: 'send|money',
      outcome: 'credential revoked',
    });
  });

  it('maps severities onto CEF 0-10 in order', () => {
    const sev = SEVERITIES.map((s) => Number(parseCef(formatCef(sampleDelivery({ severity: s }))).severity));
    expect(sev).toEqual([3, 5, 8, 10]);
  });
});

describe('OCSF Detection Finding', () => {
  it('is class 2004 / activity Create with severity_id, finding_info, resources, observables and the frameworks as labels', () => {
    const f = ocsfDetectionFinding(sampleDelivery({ count: 2, findingIds: ['42', '43'], lastSeenAt: new Date('2026-03-01T10:00:09.000Z') })) as Record<string, any>;
    expect([f.class_uid, f.category_uid, f.activity_id, f.type_uid, f.severity_id, f.severity, f.status_id, f.is_alert, f.count]).toEqual([2004, 2, 1, 200401, 5, 'Critical', 1, true, 2]);
    expect(f.time).toBe(Date.parse('2026-03-01T10:00:00.000Z'));
    expect(f.end_time).toBe(Date.parse('2026-03-01T10:00:09.000Z'));
    expect(f.metadata).toMatchObject({ version: '1.3.0', uid: 'dlv_test', event_code: 'TARGET_NOT_ALLOWED', product: { name: 'intent-ledger', vendor_name: 'Intent Ledger' } });
    expect(f.metadata.labels).toEqual(['owasp-agentic:ASI01', 'owasp-agentic:ASI02', 'maestro:L3', 'maestro:L2', 'nist-ai-rmf:MAP 3.3', 'nist-ai-rmf:MEASURE 2.7', 'nist-ai-rmf:MANAGE 2.4']);
    expect(f.finding_info).toMatchObject({ uid: '42', title: 'Target not allowed: send_money', analytic: { uid: 'TARGET_NOT_ALLOWED', type_id: 1, type: 'Rule' }, related_events: [{ uid: 'evt_123' }] });
    expect(f.resources).toEqual([{ uid: 'agent-7', type: 'AI Agent' }, { uid: 'int_abc', type: 'Intent' }, { uid: 'cred_x', type: 'Credential' }]);
    expect(f.observables.map((o: any) => [o.type_id, o.value])).toEqual([[10, 'agent-7'], [10, 'int_abc'], [19, 'cred_x']]);
    expect(f.attacks).toBeUndefined(); // not MITRE ATT&CK
  });

  it('maps low..critical to severity_id 2..5', () => {
    expect(SEVERITIES.map((s) => (ocsfDetectionFinding(sampleDelivery({ severity: s })) as { severity_id: number }).severity_id)).toEqual([2, 3, 4, 5]);
  });

  it('leaves the intent out when the alert names none', () => {
    const f = ocsfDetectionFinding(sampleDelivery({}, { intentId: null, credentialsRevoked: [], tool: '' })) as Record<string, any>;
    expect(f.resources).toEqual([{ uid: 'agent-7', type: 'AI Agent' }]);
    expect(f.finding_info.title).toBe('Target not allowed');
  });
});

describe('JSON', () => {
  it('is the alert with the delivery id, count, finding ids, first/last seen and the highest severity', () => {
    const j = JSON.parse(formatJson(sampleDelivery({ severity: 'critical', count: 2, findingIds: ['42', '50'] }, { severity: 'high' })));
    expect(j).toMatchObject({ type: 'drift.finding', findingId: '42', severity: 'critical', deliveryId: 'dlv_test', count: 2, findingIds: ['42', '50'], firstSeenAt: '2026-03-01T10:00:00.000Z' });
    expect(FORMATS.json.contentType).toBe('application/json');
  });
});

describe('RFC 5424 syslog and RFC 6587 framing', () => {
  it('writes PRI from facility and severity, the reason code as MSGID, ids as structured data, CEF as MSG', () => {
    const d = sampleDelivery({}, { agentId: 'agent "q" [x]\\' });
    const m = parseSyslog5424(syslog5424(d, formatCef(d), header));
    expect([m.version, m.facility, m.severity, m.timestamp, m.hostname, m.appName, m.procId, m.msgId]).toEqual([1, 16, 2, '2026-03-01T10:00:00.000Z', 'ledger-1', 'intent-ledger', '4242', 'TARGET_NOT_ALLOWED']);
    expect(m.sd['intentledger@32473']).toEqual({
      deliveryId: 'dlv_test', findingId: '42', agentId: 'agent "q" [x]\\', intentId: 'int_abc', reasonCode: 'TARGET_NOT_ALLOWED', severity: 'critical', count: '1',
    });
    expect(m.bom).toBe(false);
    expect(parseCef(m.msg).ext.suser).toBe('agent "q" [x]\\');
  });

  it('escapes ", \\ and ] in SD-PARAM values and starts a non-ASCII MSG with the BOM', () => {
    expect(sdEscape('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
    const d = sampleDelivery({}, { detail: 'Überweisung' });
    const raw = syslog5424(d, formatJson(d), header);
    const m = parseSyslog5424(raw);
    expect(m.bom).toBe(true);
    expect(JSON.parse(m.msg).detail).toBe('Überweisung');
  });

  it('maps severities to syslog Notice, Warning, Error, Critical', () => {
    expect(SEVERITIES.map((s) => parseSyslog5424(syslog5424(sampleDelivery({ severity: s }), 'x', header)).severity)).toEqual([5, 4, 3, 2]);
  });

  it('frames by octet count, so messages holding newlines and multi-byte text split back exactly', () => {
    const a = Buffer.from('first\nwith newline');
    const b = Buffer.from('zweite Nachricht: ü');
    const stream = Buffer.concat([octetCountingFrame(a), octetCountingFrame(b), Buffer.from('12 partial')]);
    expect(octetCountingFrame(b).toString('utf8').startsWith(`${b.length} `)).toBe(true);
    const { messages, rest } = splitOctetCounted(stream);
    expect(messages.map((x) => x.toString('utf8'))).toEqual([a.toString(), b.toString()]);
    expect(rest.toString()).toBe('12 partial');
  });
});

describe('fitToSize', () => {
  it('cuts only the detail, marks the cut, and fits exactly within the limit', () => {
    const d = sampleDelivery({}, { detail: 'ü'.repeat(5000) });
    const render = (x: typeof d) => syslog5424(x, formatCef(x), header);
    expect(render(d).length).toBeGreaterThan(2048);
    const out = fitToSize(d, 2048, render)!;
    expect(out.length).toBeLessThanOrEqual(2048);
    const m = parseSyslog5424(out);
    const c = parseCef(m.msg);
    expect(c.ext.msg!.endsWith(TRUNCATED)).toBe(true);
    expect(c.ext.msg!.length).toBeGreaterThan(100);
    expect(m.sd['intentledger@32473']!.findingId).toBe('42');
  });

  it('returns the message untouched when it fits, and null when not even an empty detail fits', () => {
    const d = sampleDelivery();
    const render = (x: typeof d) => Buffer.from(formatJson(x));
    expect(fitToSize(d, 100_000, render)!.equals(render(d))).toBe(true);
    expect(fitToSize(d, 50, render)).toBeNull();
  });
});
