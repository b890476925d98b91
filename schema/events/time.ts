import { z } from 'zod';

/** RFC 3339 in UTC with a `Z`, millisecond precision at most, naming a real instant (no 2023-02-30). */
export const Rfc3339Utc = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, 'timestamp must be RFC 3339 UTC, e.g. 2026-01-02T03:04:05.678Z')
  .refine((s) => {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return false;
    // Date() rolls 02-30 over to 03-02; the round trip catches impossible dates.
    return d.toISOString().slice(0, 19) === s.slice(0, 19);
  }, 'timestamp names an impossible date or time');

