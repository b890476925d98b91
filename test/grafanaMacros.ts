/**
 * Grafana's PostgreSQL macros, expanded the way its data source does, so a dashboard's SQL can run on a plain
 * Postgres in a test. A macro not listed here fails the expansion rather than reaching the database.
 */
export interface TimeRange {
  from: Date;
  to: Date;
  /** What `$__interval` stands for, in seconds. */
  intervalSeconds: number;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function seconds(arg: string, range: TimeRange): number {
  const a = arg.trim().replace(/^'(.*)'$/, '$1');
  if (a === '$__interval') return range.intervalSeconds;
  const m = /^(\d+)([smhd])$/.exec(a);
  if (!m) throw new Error(`grafana macro: cannot read the interval "${arg}"`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** The arguments of a macro call, split on top-level commas. */
function args(sql: string, open: number): { list: string[]; end: number } {
  let depth = 0;
  const list: string[] = [];
  let cur = '';
  for (let i = open; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === '(') {
      depth += 1;
      if (depth === 1) continue;
    } else if (c === ')') {
      depth -= 1;
      if (depth === 0) return { list: [...list, cur.trim()], end: i + 1 };
    } else if (c === ',' && depth === 1) {
      list.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  throw new Error('grafana macro: unbalanced parentheses');
}

export function expandMacros(sql: string, range: TimeRange): string {
  const from = `'${range.from.toISOString()}'`;
  const to = `'${range.to.toISOString()}'`;
  let out = '';
  let i = 0;
  for (;;) {
    const at = sql.indexOf('$__', i);
    if (at < 0) return out + sql.slice(i);
    out += sql.slice(i, at);
    const name = /^\$__(\w+)/.exec(sql.slice(at))![1]!;
    const after = at + 3 + name.length;
    const call = sql[after] === '(' ? args(sql, after) : null;
    const a = call?.list ?? [];
    const group = (col: string, iv: string) => `floor(extract(epoch from ${col})/${seconds(iv, range)})*${seconds(iv, range)}`;
    switch (name) {
      case 'timeFilter': out += `${a[0]} BETWEEN ${from} AND ${to}`; break;
      case 'timeFrom': out += from; break;
      case 'timeTo': out += to; break;
      case 'timeGroup': out += group(a[0]!, a[1]!); break;
      case 'timeGroupAlias': out += `${group(a[0]!, a[1]!)} AS "time"`; break;
      case 'unixEpochFilter': out += `${a[0]} >= ${Math.floor(range.from.getTime() / 1000)} AND ${a[0]} <= ${Math.floor(range.to.getTime() / 1000)}`; break;
      case 'interval': out += `'${range.intervalSeconds}s'`; break;
      default: throw new Error(`grafana macro $__${name} is not one the test knows how to expand`);
    }
    i = call ? call.end : after;
  }
}
