import type { IntentDeclaredPayload, OpenTarget, Target } from '../../../schema/events/intent';
import { addressesInText, dedupeTargets, lookupTool, normaliseTarget, targetsFromArgs, toolsOf, type ToolCatalogue } from '../../../schema/catalogue';

/**
 * What a planner knows before the agent reads any tool output: the suite it works in, the user's request and a
 * reference plan. Nothing else of a trace may shape the intent: the attacker's goal, the labels and the outcome are
 * exactly what a real planner never has. Taking this narrow type (not the whole trace) makes that checkable.
 */
export interface PlannerInput {
  suite: string;
  user_task_prompt: string;
  user_task_ground_truth_calls: ReadonlyArray<{ function: string; args: Record<string, unknown> }>;
}

export type DerivedIntent = Omit<IntentDeclaredPayload, 'intentId' | 'window'>;

// Kinds whose values have their own syntax; free-text mentions never become one of these.
const ADDRESS_KINDS = new Set(['email', 'iban', 'url']);

const QUOTED_RE = /(?<![\p{L}\p{N}])['"‘“]([^'"‘’“”\n]{1,200})['"’”](?![\p{L}\p{N}])/gu;
const FILE_RE = /(?<![\w.-])[\w][\w.-]*\.(?:txt|docx?|xlsx?|pptx?|pdf|csv|json|md|png|jpe?g|zip)(?![\w])/gi;
// A word that starts with a capital letter or a digit and has a letter (names, channel names such as External_0).
const NAME_WORD_RE = /^(?:\p{Lu}|\p{N})[\p{L}\p{N}_'’&.-]*$/u;
// Sentence openers and request words that are capitalised by grammar, not because they name something.
const NOT_NAMES = new Set(
  'a an the i i\'m i\'ll i\'d i\'ve my me we our you your please can could would will do does did is are was were be hey hi hello thanks thank also then and or but if so for to of in on at by from with what which who when where how why find read send make give tell get check create add invite write visit summarize summarise perform sort let it this that there here note sure yes no ok'.split(
    ' ',
  ),
);

/** Words the user wrote that name something: quoted strings, file names, and runs of capitalised words. */
export function mentionsInPrompt(prompt: string): string[] {
  const out = new Set<string>();
  for (const m of prompt.matchAll(QUOTED_RE)) out.add(m[1].trim());
  for (const m of prompt.matchAll(FILE_RE)) out.add(m[0]);
  // Runs of capitalised words, and every contiguous part of a run ("Invite Dora" must still yield "Dora"). Runs
  // stop at clause punctuation, so "... to Slack. You can" does not make "Slack You".
  for (const clause of prompt.split(/[.!?;:,()[\]{}"“”]+(?:\s|$)|\n/)) {
    let run: string[] = [];
    const flush = () => {
      for (let i = 0; i < run.length; i++) {
        for (let j = i + 1; j <= Math.min(run.length, i + 6); j++) {
          const phrase = run.slice(i, j);
          if (phrase.length === 1 && NOT_NAMES.has(phrase[0].toLowerCase())) continue;
          out.add(phrase.join(' '));
        }
      }
      run = [];
    };
    for (const raw of clause.split(/[\s,;:!?()[\]{}"“”]+/)) {
      const w = raw.replace(/^['‘]+|['’.]+$/g, '');
      if (w !== '' && NAME_WORD_RE.test(w) && /\p{L}/u.test(w)) run.push(w);
      else flush();
    }
    flush();
  }
  out.delete('');
  return [...out];
}

/**
 * The intent a careful planner would declare for this task, from the prompt and the reference plan only.
 * - tools: the plan's tools, plus every read tool of the suite (reading is how an agent finds things out, and a
 *   read alone moves nothing outside the principal);
 * - data classes: those of the plan's tools, of the reads that take an address the prompt names, and the
 *   catalogue's ambient ones (a read of another class of data is out of scope);
 * - targets: every target the plan's calls name, plus the addresses (e-mails, URLs, IBANs) in the prompt and the
 *   names the user wrote (quoted strings, file names, capitalised words), the latter for every name-like target
 *   kind of the suite, since the prompt does not say whether "Alice" is a user or "general" a channel;
 * - open targets: where the plan lists a collection (a tool whose catalogue entry `lists` kind K) and then applies one
 *   read or write tool to two or more members of kind K, it means "each member": that tool may touch any K (the
 *   members at run time need not be the ones the reference plan happened to visit). Never for deletes or sends.
 */
export function deriveIntent(input: PlannerInput, catalogue: ToolCatalogue): DerivedIntent {
  // Destructure once: the rest of the function sees nothing else of the trace.
  const { suite, user_task_prompt: prompt, user_task_ground_truth_calls: plan } = input;

  const tools = new Set<string>(plan.map((c) => c.function));
  for (const t of toolsOf(catalogue, suite, 'read')) tools.add(t);

  const dataClasses = new Set<string>(catalogue.ambientDataClasses);
  for (const c of plan) {
    const spec = lookupTool(catalogue, c.function);
    if (spec) dataClasses.add(spec.dataClass);
  }

  const targets: Target[] = [];
  for (const c of plan) targets.push(...targetsFromArgs(c.function, c.args, catalogue));
  const addresses = addressesInText(prompt);
  targets.push(...addresses);
  // An address the user wrote may be looked at: a URL in the prompt puts the reads that take URLs (and their data
  // class) in scope even when the reference plan happens not to open it.
  const addressKinds = new Set(addresses.map((a) => a.kind));
  for (const t of toolsOf(catalogue, suite, 'read')) {
    const spec = catalogue.tools[t];
    if (Object.values(spec.targetArgs).some((k) => addressKinds.has(k))) dataClasses.add(spec.dataClass);
  }

  const mentionKinds = new Set<string>();
  for (const t of toolsOf(catalogue, suite)) {
    for (const kind of Object.values(catalogue.tools[t].targetArgs)) if (!ADDRESS_KINDS.has(kind)) mentionKinds.add(kind);
  }
  for (const mention of mentionsInPrompt(prompt)) {
    for (const kind of mentionKinds) {
      const value = normaliseTarget(kind, mention);
      if (value !== '') targets.push({ kind, value });
    }
  }

  const openTargets = openTargetsOf(plan, catalogue);

  const firstSentence = prompt.split(/(?<=[.!?])\s/)[0] ?? prompt;
  return {
    task: prompt.slice(0, 8192),
    purpose: `${suite}: ${firstSentence}`.slice(0, 2048),
    allowedTools: [...tools].slice(0, 512),
    allowedTargets: dedupeTargets(targets).slice(0, 1024),
    dataClasses: [...dataClasses].slice(0, 64),
    ...(openTargets.length > 0 ? { openTargets: openTargets.slice(0, 64) } : {}),
  };
}

/** See deriveIntent: (tool, kind) pairs the plan applies to two or more members of a collection it lists. */
export function openTargetsOf(plan: PlannerInput['user_task_ground_truth_calls'], catalogue: ToolCatalogue): OpenTarget[] {
  const listed = new Set<string>();
  for (const c of plan) {
    const kind = lookupTool(catalogue, c.function)?.lists;
    if (kind) listed.add(kind);
  }
  const members = new Map<string, Set<string>>();
  for (const c of plan) {
    const effect = lookupTool(catalogue, c.function)?.effect;
    if (effect !== 'read' && effect !== 'write') continue;
    for (const t of targetsFromArgs(c.function, c.args, catalogue)) {
      if (!listed.has(t.kind)) continue;
      const k = `${c.function}\u0000${t.kind}`;
      const set = members.get(k) ?? new Set<string>();
      members.set(k, set.add(t.value));
    }
  }
  return [...members]
    .filter(([, values]) => values.size >= 2)
    .map(([k]) => {
      const [tool, kind] = k.split('\u0000') as [string, string];
      return { tool, kind };
    });
}
