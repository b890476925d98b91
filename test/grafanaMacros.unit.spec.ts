import { expandMacros } from './grafanaMacros';

describe('expandMacros (Grafana PostgreSQL macros)', () => {
  const range = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z'), intervalSeconds: 60 };

  it('expands time filters and groups as Grafana does', () => {
    expect(expandMacros('SELECT $__timeGroupAlias(created_at, $__interval), count(*) FROM t WHERE $__timeFilter(created_at) GROUP BY 1', range)).toBe(
      `SELECT floor(extract(epoch from created_at)/60)*60 AS "time", count(*) FROM t WHERE created_at BETWEEN '2026-01-01T00:00:00.000Z' AND '2026-01-02T00:00:00.000Z' GROUP BY 1`,
    );
    expect(expandMacros("SELECT $__timeGroup(date_trunc('hour', t), '5m')", range)).toBe("SELECT floor(extract(epoch from date_trunc('hour', t))/300)*300");
  });

  it('refuses a macro it does not know', () => {
    expect(() => expandMacros('SELECT $__timeEpoch(t)', range)).toThrow(/timeEpoch/);
  });
});
