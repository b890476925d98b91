import { IntentLedgerError } from '../common/errors';

export class UsageError extends IntentLedgerError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** `--name value` and `--flag` options after positional words; unknown options are an error, not ignored. */
export function parseArgs(argv: string[], known: Record<string, 'value' | 'flag'>): { positional: string[]; options: Record<string, string | true> } {
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const kind = known[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'flag') {
      options[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`option --${name} needs a value`);
    options[name] = value;
  }
  return { positional, options };
}
