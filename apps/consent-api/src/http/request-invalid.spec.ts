import { RequestInvalid, validQueryOrThrow } from './request-invalid';
import { SubjectDecisionRequest } from '../subject-decision/subject-decision.request';

describe('validQueryOrThrow', () => {
  it('answers a repeated parameter set with the same validated value, which no request can change', () => {
    const first = validQueryOrThrow(SubjectDecisionRequest, { purpose: 'newsletter-customers', channel: 'email' });
    const again = validQueryOrThrow(SubjectDecisionRequest, { purpose: 'newsletter-customers', channel: 'email' });

    expect(again).toBe(first);
    expect(first).toMatchObject({ purpose: 'newsletter-customers', channel: 'email' });
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('refuses a bad parameter set every time it is sent', () => {
    const ask = () => validQueryOrThrow(SubjectDecisionRequest, { purpose: 'newsletter-customers', channel: 'fax' });

    expect(ask).toThrow(RequestInvalid);
    expect(ask).toThrow(RequestInvalid);
  });

  it('tells parameter sets apart', () => {
    const email = validQueryOrThrow(SubjectDecisionRequest, { purpose: 'newsletter-customers', channel: 'email' });
    const sms = validQueryOrThrow(SubjectDecisionRequest, { purpose: 'newsletter-customers', channel: 'sms' });

    expect(sms.channel).toBe('sms');
    expect(email.channel).toBe('email');
  });
});
