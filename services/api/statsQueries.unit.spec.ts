import { HttpError } from '../common/http';
import { bucketStart, statsWindow } from './statsQueries';
import { MAX_BUCKETS } from './apiSchemas';

describe('statsWindow', () => {
  const now = new Date('2026-03-04T05:06:07.890Z');

  it('floors times to UTC buckets', () => {
    expect(bucketStart(now, 'minute').toISOString()).toBe('2026-03-04T05:06:00.000Z');
    expect(bucketStart(now, 'hour').toISOString()).toBe('2026-03-04T05:00:00.000Z');
    expect(bucketStart(now, 'day').toISOString()).toBe('2026-03-04T00:00:00.000Z');
  });

  it('starts at the bucket of the oldest finding and ends now by default', () => {
    const w = statsWindow({ bucket: 'minute' }, new Date('2026-03-04T04:59:30Z'), now);
    expect([w.since.toISOString(), w.until.toISOString()]).toEqual(['2026-03-04T04:59:00.000Z', now.toISOString()]);
  });

  it('goes back at most MAX_BUCKETS buckets when the oldest finding is older', () => {
    const w = statsWindow({ bucket: 'minute' }, new Date('2020-01-01T00:00:00Z'), now);
    expect((bucketStart(now, 'minute').getTime() - w.since.getTime()) / 60_000).toBe(MAX_BUCKETS - 1);
  });

  it('covers the last bucket when there are no findings', () => {
    const w = statsWindow({ bucket: 'hour' }, null, now);
    expect(w.since.toISOString()).toBe('2026-03-04T05:00:00.000Z');
  });

  it('refuses an empty window and one with too many buckets', () => {
    expect(() => statsWindow({ bucket: 'hour', since: '2026-03-05T00:00:00Z', until: '2026-03-04T00:00:00Z' }, null, now)).toThrow(HttpError);
    expect(() => statsWindow({ bucket: 'minute', since: '2026-01-01T00:00:00Z', until: '2026-03-01T00:00:00Z' }, null, now)).toThrow(/at most 1440/);
    expect(statsWindow({ bucket: 'day', since: '2026-01-01T00:00:00Z', until: '2026-03-01T00:00:00Z' }, null, now).since.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});
