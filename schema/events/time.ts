import { z } from 'zod';

/**
 * RFC 3339 in UTC with a `Z`, millisecond precision at most, naming a real instant (no 2023-02-30) in years
 * 0001-9999. Year 0000 is a valid RFC 3339 and ECMAScript date but not a Postgres timestamptz: a signed event
 * carrying it would fail its ledger insert on every retry and stall its partition, so it is refused here.
 */
export const Rfc3339Utc = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, 'timestamp must be RFC 3339 UTC, e.g. 2026-01-02T03:04:05.678Z')
  .refine((s) => !s.startsWith('0000'), 'timestamp must lie in the years 0001-9999')
  .refine((s) => {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return false;
    // Date() rolls 02-30 over to 03-02; the round trip catches impossible dates.
    return d.toISOString().slice(0, 19) === s.slice(0, 19);
  }, 'timestamp names an impossible date or time');
