import type { Label } from './traces';

export interface ScoredCall {
  label: Label;
  flagged: boolean;
}

export interface Score {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** Calls labelled `unknown`: neither side of the question, so left out of every rate. */
  unknownExcluded: number;
  /** tp / (tp + fp); null when nothing was flagged (0/0 is not a rate). */
  precision: number | null;
  /** tp / (tp + fn); null when there was no drift to find. */
  recall: number | null;
  /** False-positive rate: fp / (fp + tn); null when there were no benign calls. */
  fpr: number | null;
}
/** The same figures under the name the pipeline report uses. */
export type Confusion = Score;

/**
 * Confusion counts with `drift` as the positive class. A rate whose denominator is empty is null ("n/a"), never a
 * flattering 1 or 0: a detector that flagged nothing has no precision, and a slice with no drift has no recall.
 */
export function score(pairs: Iterable<ScoredCall>): Score {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let unknownExcluded = 0;
  for (const { label, flagged } of pairs) {
    if (label === 'unknown') unknownExcluded++;
    else if (label === 'drift') flagged ? tp++ : fn++;
    else flagged ? fp++ : tn++;
  }
  const ratio = (num: number, den: number) => (den === 0 ? null : num / den);
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  const fpr = ratio(fp, fp + tn);
  return { tp, fp, tn, fn, unknownExcluded, precision, recall, fpr };
}

/** One score per group (e.g. per suite), groups in first-seen order. */
export function scoreBy<T extends ScoredCall>(pairs: Iterable<T>, groupOf: (p: T) => string): Map<string, Score> {
  const groups = new Map<string, T[]>();
  for (const p of pairs) {
    const g = groupOf(p);
    const list = groups.get(g);
    if (list) list.push(p);
    else groups.set(g, [p]);
  }
  return new Map([...groups].map(([g, list]) => [g, score(list)]));
}
