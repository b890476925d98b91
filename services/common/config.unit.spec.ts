import { ConfigError, loadConfig, MAX_VERIFY_WORKERS } from './config';

function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('loadConfig', () => {
  it('has the README defaults', () => {
    const c = loadConfig({});
    expect(c.kafkaBrokers).toBeNull();
    expect(c.databaseUrl).toBeNull();
    expect(c.topics).toEqual({ events: 'il.events', ledger: 'il.ledger', deadLetter: 'il.events.dlq', revocations: 'il.revocations', alerts: 'il.alerts' });
    expect(c.partitions).toBe(4);
    expect(c.maxEventBytes).toBe(262144);
    expect(c.maxJsonDepth).toBe(32);
    expect(c.clockSkewMs).toBe(300000);
    expect(c.verifyWorkers).toBe(1);
    expect(c.revokeAt).toBeNull(); // the policy's revokeAt applies
    expect(loadConfig({ IL_REVOKE_AT_SEVERITY: 'CRITICAL' }).revokeAt).toBe('critical');
    expect(c.policyPath).toMatch(/schema\/policies\/default\.json$/);
    expect(c.alertsGroup).toBe('il.alert-delivery');
    expect(c.alertSinksPath).toBeNull();
    expect(loadConfig({ IL_ALERT_SINKS: '/etc/il/sinks.json' }).alertSinksPath).toBe('/etc/il/sinks.json');
  });

  it('takes IL_VERIFY_WORKERS from 0 to the cap', () => {
    expect(loadConfig({ IL_VERIFY_WORKERS: '0' }).verifyWorkers).toBe(0);
    expect(loadConfig({ IL_VERIFY_WORKERS: String(MAX_VERIFY_WORKERS) }).verifyWorkers).toBe(MAX_VERIFY_WORKERS);
  });

  it('refuses a worker count that would only exhaust memory, naming the range', () => {
    expect(reason(() => loadConfig({ IL_VERIFY_WORKERS: '99999' }))).toBe(
      `CONFIG_INVALID: IL_VERIFY_WORKERS must be an integer from 0 to ${MAX_VERIFY_WORKERS}; got "99999"`,
    );
    expect(reason(() => loadConfig({ IL_VERIFY_WORKERS: '-1' }))).toMatch(/^CONFIG_INVALID: IL_VERIFY_WORKERS must be an integer from 0 to/);
  });

  it('refuses settings it cannot use, each with the variable named', () => {
    expect(reason(() => loadConfig({ IL_PARTITIONS: '0' }))).toBe('CONFIG_INVALID: IL_PARTITIONS must be an integer >= 1; got "0"');
    expect(reason(() => loadConfig({ KAFKA_BROKERS: 'localhost' }))).toMatch(/^CONFIG_INVALID: KAFKA_BROKERS must be/);
    expect(reason(() => loadConfig({ DATABASE_URL: 'mysql://x/y' }))).toMatch(/^CONFIG_INVALID: DATABASE_URL must be a postgresql/);
    expect(reason(() => loadConfig({ IL_REVOKE_AT_SEVERITY: 'severe' }))).toMatch(/^CONFIG_INVALID: IL_REVOKE_AT_SEVERITY must be one of low, medium, high, critical/);
    expect(reason(() => loadConfig({ IL_TOPIC_PREFIX: 'a b' }))).toMatch(/^CONFIG_INVALID: IL_TOPIC_PREFIX/);
  });

  it('has the broker and gateway defaults, and refuses URLs and ids it cannot use', () => {
    const c = loadConfig({});
    expect(c.broker).toEqual({ host: '127.0.0.1', port: 59480, url: null, keyFile: null, publicKey: null });
    expect(c.gateway).toEqual({ host: '127.0.0.1', port: 59481, url: null, agentId: 'gateway', keyFile: null });
    expect(c.dpopMaxAgeMs).toBe(60000);
    expect(loadConfig({ IL_BROKER_URL: 'https://broker.example/' }).broker.url).toBe('https://broker.example');
    expect(reason(() => loadConfig({ IL_GATEWAY_URL: 'ftp://gw' }))).toMatch(/^CONFIG_INVALID: IL_GATEWAY_URL must be an http/);
    expect(reason(() => loadConfig({ IL_BROKER_URL: 'http://b/x?y=1' }))).toMatch(/^CONFIG_INVALID: IL_BROKER_URL/);
    expect(reason(() => loadConfig({ IL_GATEWAY_ID: 'a b' }))).toMatch(/^CONFIG_INVALID: IL_GATEWAY_ID/);
    expect(reason(() => loadConfig({ IL_DPOP_MAX_AGE_MS: '10' }))).toMatch(/^CONFIG_INVALID: IL_DPOP_MAX_AGE_MS must be an integer from 1000/);
  });
});
