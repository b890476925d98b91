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
  precision: number;
  recall: number;
  /** False-positive rate: fp / (fp + tn). */
  fpr: number;
}
/** The same figures under the name the pipeline report uses. */
export type Confusion = Score;

/**
 * Confusion counts with `drift` as the positive class.
 * Empty denominators, chosen so that a detector cannot look good by doing nothing:
 * - precision with nothing flagged is 1 when there was nothing to find (no false alarm was raised) and 0 when
 *   there were drift calls (it found none of them);
 * - recall with no drift calls is 1 (nothing was missed);
 * - FPR with no intent calls is 0 (no false alarm was possible).
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
  const positives = tp + fn;
  const precision = tp + fp === 0 ? (positives === 0 ? 1 : 0) : tp / (tp + fp);
  const recall = positives === 0 ? 1 : tp / positives;
  const fpr = fp + tn === 0 ? 0 : fp / (fp + tn);
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
