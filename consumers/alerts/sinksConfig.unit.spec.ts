import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSinksConfig, parseSinksConfig, NO_SINKS, type WebhookSinkConfig, type SyslogSinkConfig } from './sinksConfig';
import { AlertConfigError } from './errors';

const env = { SOC_KEY: 's'.repeat(32) };
const webhook = { name: 'soc', type: 'webhook', url: 'https://soc.example/hook', secretEnv: 'SOC_KEY' };

function err(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof AlertConfigError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('sinks file', () => {
  it('fills defaults: every severity, no folding, retry forever with backoff, the key from the environment', () => {
    const c = parseSinksConfig({ version: 1, sinks: [webhook, { name: 'siem', type: 'syslog', transport: 'udp', host: '10.0.0.5', port: 514 }] }, 'f', env);
    expect(c.retry).toEqual({ initialDelayMs: 1000, maxDelayMs: 300000, maxAttempts: 0 });
    const w = c.sinks[0] as WebhookSinkConfig;
    expect([w.format, w.severities, w.dedupeWindowSeconds, w.hmacKey.toString()]).toEqual(['json', ['low', 'medium', 'high', 'critical'], 0, 's'.repeat(32)]);
    const s = c.sinks[1] as SyslogSinkConfig;
    expect([s.format, s.facility, s.enterpriseId, s.maxMessageBytes, s.confirmMs]).toEqual(['cef', 'local0', '32473', 8192, 100]);
  });

  it('takes a file-wide dedupe window that a sink may override', () => {
    const c = parseSinksConfig({ version: 1, dedupeWindowSeconds: 60, sinks: [webhook, { ...webhook, name: 'pager', severities: ['critical'], dedupeWindowSeconds: 0 }] }, 'f', env);
    expect(c.sinks.map((s) => [s.name, s.dedupeWindowSeconds, s.severities])).toEqual([['soc', 60, ['low', 'medium', 'high', 'critical']], ['pager', 0, ['critical']]]);
  });

  it('refuses secrets written in the file, in the URL, or missing from the environment', () => {
    expect(err(() => parseSinksConfig({ version: 1, sinks: [{ ...webhook, secret: 'hunter2' }] }, 'f', env))).toMatch(/^ALERT_SINKS_INVALID: f is not a valid sinks file: sinks.0.secret: secrets may not be written in the sinks file/);
    expect(err(() => parseSinksConfig({ version: 1, sinks: [{ ...webhook, url: 'https://u:p@soc.example/' }] }, 'f', env))).toMatch(/sinks.0.url: credentials may not be written in the URL/);
    expect(err(() => parseSinksConfig({ version: 1, sinks: [webhook] }, 'f', {}))).toBe('ALERT_SINK_SECRET_MISSING: f: sink "soc" signs with the key in SOC_KEY, which is not set');
    expect(err(() => parseSinksConfig({ version: 1, sinks: [webhook] }, 'f', { SOC_KEY: 'short' }))).toMatch(/^ALERT_SINKS_INVALID: f: sink "soc": SOC_KEY holds 5 characters; an HMAC key needs at least 32/);
  });

  it('refuses unknown fields, bad values and two sinks with one name, naming the field', () => {
    expect(err(() => parseSinksConfig({ version: 1, sinks: [{ ...webhook, severites: ['high'] }] }, 'f', env))).toMatch(/sinks.0: Unrecognized key.*severites/);
    expect(err(() => parseSinksConfig({ version: 1, sinks: [{ ...webhook, severities: ['urgent'] }] }, 'f', env))).toMatch(/sinks.0.severities.0/);
    expect(err(() => parseSinksConfig({ version: 1, sinks: [{ ...webhook, url: 'ftp://x/' }] }, 'f', env))).toMatch(/sinks.0.url/);
    expect(err(() => parseSinksConfig({ version: 1, sinks: [{ name: 's', type: 'syslog', transport: 'quic', host: 'h', port: 514 }] }, 'f', env))).toMatch(/sinks.0.transport/);
    expect(err(() => parseSinksConfig({ version: 1, sinks: [{ name: 'k', type: 'kafka', topic: 'bad topic' }] }, 'f', env))).toMatch(/sinks.0.topic: a Kafka topic name/);
    expect(err(() => parseSinksConfig({ version: 2, sinks: [] }, 'f', env))).toMatch(/version/);
    expect(err(() => parseSinksConfig({ version: 1, sinks: [webhook, webhook] }, 'f', env))).toMatch(/^ALERT_SINK_DUPLICATE: f: sinks.1.name: "soc" names two sinks/);
    expect(err(() => parseSinksConfig({ version: 1, retry: { initialDelayMs: 5000, maxDelayMs: 1000 }, sinks: [] }, 'f', env))).toMatch(/retry.maxDelayMs \(1000\) is below/);
  });

  it('reads a file strictly, and no file means no sinks', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'il-sinks-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ version: 1, sinks: [{ name: 'lake', type: 'kafka', topic: 'soc.findings', format: 'ocsf' }] }));
    expect(loadSinksConfig(good, env).sinks.map((s) => [s.name, s.type])).toEqual([['lake', 'kafka']]);
    const dup = path.join(dir, 'dup.json');
    writeFileSync(dup, '{"version": 1, "sinks": [], "sinks": []}');
    expect(err(() => loadSinksConfig(dup, env))).toMatch(/^ALERT_SINKS_NOT_JSON: sinks file .*dup.json is not valid JSON: DUPLICATE_KEY/);
    expect(err(() => loadSinksConfig(path.join(dir, 'missing.json'), env))).toMatch(/^ALERT_SINKS_UNREADABLE: cannot read sinks file .*missing.json \(IL_ALERT_SINKS\)/);
    expect(loadSinksConfig(null, env)).toBe(NO_SINKS);
  });
});
