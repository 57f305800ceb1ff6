import fc from 'fast-check';
import { rawJsonProblems } from './raw-json';
import { screenJson } from './request-validation';

/** Containers inside containers, counting the outermost: `[]` is 1, `[[]]` is 2, `1` is 0. */
const nestingOf = (value: unknown): number =>
  typeof value !== 'object' || value === null ? 0 : 1 + Math.max(0, ...Object.values(value).map(nestingOf));

const tooDeepIn = (text: string, maxDepth: number) => rawJsonProblems(text, maxDepth).tooDeep;

describe('finding a JSON text nested too deeply, before parsing it', () => {
  it('refuses it with the field and message screenJson gives', () => {
    const text = '{"capture":{"actor":[{"kind":[1]}]}}';
    expect(tooDeepIn(text, 3)).toEqual({ field: 'capture.actor[0]', message: 'is nested too deeply (at most 3 levels)' });
    expect(screenJson(JSON.parse(text), { maxDepth: 3, maxValues: 100 })).toEqual([tooDeepIn(text, 3)]);
  });

  it('names the body when the document itself is one level too many', () => {
    expect(tooDeepIn('[]', 0)).toEqual({ field: 'body', message: 'is nested too deeply (at most 0 levels)' });
  });

  it('counts the position in a list and decodes an escaped key', () => {
    expect(tooDeepIn('{"subject\\u0049ds":["a","b",["c"]]}', 2)).toEqual({ field: 'subjectIds[2]', message: 'is nested too deeply (at most 2 levels)' });
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(tooDeepIn('{"a":"[[[[\\"[[[[","b":["{{{{"]}', 2)).toBeUndefined();
  });

  it('stops at the first level too many of a text megabytes deep', () => {
    const depth = 1_000_000;
    expect(tooDeepIn(`${'['.repeat(depth)}${']'.repeat(depth)}`, 6)).toEqual({ field: '[0][0][0][0][0][0]', message: 'is nested too deeply (at most 6 levels)' });
  });

  it('refuses exactly the texts JSON.stringify writes deeper than the limit', () =>
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 5 }), (value, maxDepth) => {
        expect(tooDeepIn(JSON.stringify(value), maxDepth) !== undefined).toBe(nestingOf(value) > maxDepth);
      }),
    ));
});
