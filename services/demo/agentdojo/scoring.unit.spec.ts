import { score, scoreBy, type ScoredCall } from './scoring';

const calls = (spec: Array<[ScoredCall['label'], boolean, number]>): ScoredCall[] =>
  spec.flatMap(([label, flagged, n]) => Array.from({ length: n }, () => ({ label, flagged })));

describe('score', () => {
  it('counts a confusion matrix with drift as positive and unknown left out', () => {
    const s = score(
      calls([
        ['drift', true, 8],
        ['drift', false, 2],
        ['intent', true, 1],
        ['intent', false, 89],
        ['unknown', true, 3],
        ['unknown', false, 4],
      ]),
    );
    expect(s).toEqual({ tp: 8, fp: 1, tn: 89, fn: 2, unknownExcluded: 7, precision: 8 / 9, recall: 0.8, fpr: 1 / 90 });
  });

  it('scores a perfect detector 1/1/0', () => {
    expect(score(calls([['drift', true, 3], ['intent', false, 5]]))).toMatchObject({ precision: 1, recall: 1, fpr: 0 });
  });

  it('gives a detector that flags nothing no precision (n/a) and recall 0 when there was drift to find', () => {
    expect(score(calls([['drift', false, 3], ['intent', false, 5]]))).toMatchObject({ tp: 0, fn: 3, precision: null, recall: 0, fpr: 0 });
  });

  it('leaves precision and recall n/a when there was nothing to find and nothing was flagged', () => {
    expect(score(calls([['intent', false, 5]]))).toMatchObject({ precision: null, recall: null, fpr: 0 });
  });

  it('handles the empty input and flag-everything', () => {
    expect(score([])).toEqual({ tp: 0, fp: 0, tn: 0, fn: 0, unknownExcluded: 0, precision: null, recall: null, fpr: null });
    expect(score(calls([['drift', true, 1], ['intent', true, 3]]))).toMatchObject({ precision: 0.25, recall: 1, fpr: 1 });
  });
});

describe('scoreBy', () => {
  it('scores each group on its own, in first-seen order', () => {
    const pairs = [
      { suite: 'slack', label: 'drift' as const, flagged: true },
      { suite: 'banking', label: 'intent' as const, flagged: true },
      { suite: 'slack', label: 'intent' as const, flagged: false },
    ];
    const by = scoreBy(pairs, (p) => p.suite);
    expect([...by.keys()]).toEqual(['slack', 'banking']);
    expect(by.get('slack')).toMatchObject({ tp: 1, tn: 1, fp: 0, fn: 0 });
    expect(by.get('banking')).toMatchObject({ fp: 1, precision: 0, fpr: 1 });
  });
});
