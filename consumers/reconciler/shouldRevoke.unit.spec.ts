import { shouldRevoke } from './shouldRevoke';
import { SEVERITIES, type Severity } from '../../schema/reasons';

describe('shouldRevoke', () => {
  it('revokes at and above the threshold, never below', () => {
    const grid = SEVERITIES.map((revokeAt) => SEVERITIES.map((severity) => shouldRevoke({ severity }, { revokeAt })));
    expect(grid).toEqual([
      // severity: low, medium, high, critical
      [true, true, true, true], // revokeAt low
      [false, true, true, true], // revokeAt medium
      [false, false, true, true], // revokeAt high
      [false, false, false, true], // revokeAt critical
    ]);
  });

  it('fails closed on a severity outside the enum', () => {
    expect(shouldRevoke({ severity: 'bogus' as Severity }, { revokeAt: 'critical' })).toBe(true);
    expect(shouldRevoke({ severity: 'low' }, { revokeAt: 'bogus' as Severity })).toBe(true);
  });
});
