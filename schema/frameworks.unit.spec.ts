import { checkFrameworks, frameworksFor, OWASP_AGENTIC } from './frameworks';
import { REASON_CODES } from './reasons';

describe('framework mappings', () => {
  it('maps every reason code to known OWASP Agentic, MAESTRO and NIST AI RMF ids', () => {
    expect(checkFrameworks()).toEqual([]);
    expect(REASON_CODES.length).toBeGreaterThan(30);
  });

  it('maps scope drift to tool misuse and goal hijack, and identity forgery to privilege abuse', () => {
    expect(frameworksFor('TARGET_NOT_ALLOWED').owaspAgentic).toEqual(['ASI01', 'ASI02']);
    expect(frameworksFor('SIG_INVALID').owaspAgentic).toContain('ASI03');
    expect(frameworksFor('DELEGATION_ESCALATION')).toEqual({ owaspAgentic: ['ASI03', 'ASI07'], maestro: ['L7', 'L3'], nistAiRmf: ['MAP 3.3', 'MANAGE 2.4'] });
    expect(Object.keys(OWASP_AGENTIC)).toEqual(['ASI01', 'ASI02', 'ASI03', 'ASI04', 'ASI05', 'ASI06', 'ASI07', 'ASI08', 'ASI09', 'ASI10']);
  });
});
