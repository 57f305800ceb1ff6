import { IsText, Optional } from './request-fields';
import { validateRequest } from './request-validation';

class Question {
  @IsText({ maxLength: 10 })
  purpose!: string;
}

class QuestionWithChannel extends Question {
  @Optional()
  @IsText({ maxLength: 10 })
  channel?: string;
}

const problemsOf = (requestClass: new () => object, json: unknown) => validateRequest(requestClass, json).errors ?? [];

describe('class-validator rules, remembered per class', () => {
  it('keeps a class and its subclass apart, whichever is validated first', () => {
    expect(problemsOf(Question, { purpose: 'ads' })).toEqual([]);
    expect(problemsOf(QuestionWithChannel, { purpose: 'ads', channel: 'email' })).toEqual([]);
    expect(problemsOf(Question, { purpose: 'ads', channel: 'email' })).toEqual([{ field: 'channel', message: 'is not a known field' }]);
  });

  it('applies a parent class rule to the subclass every time', () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(problemsOf(QuestionWithChannel, { purpose: 'far-too-long-a-purpose', channel: 'email' })).toEqual([
        { field: 'purpose', message: expect.stringMatching(/10/) },
      ]);
    }
  });
});
