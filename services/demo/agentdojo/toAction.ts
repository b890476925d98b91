import type { Target } from '../../../schema/events/intent';
import { targetsFromArgs, type ToolCatalogue } from '../../../schema/catalogue';

export interface DemoAction {
  tool: string;
  args: Record<string, unknown>;
  targets: Target[];
}

/**
 * A recorded tool call as the agent would report it. The demo agent reports honestly: its targets are what the
 * catalogue reads from the arguments. (The reconciler derives them again anyway, so a lying agent gains nothing.)
 * Only the call itself is read; its label and labelling rule stay with the scorer.
 */
export function toAction(call: { function: string; args: Record<string, unknown> }, catalogue: ToolCatalogue): DemoAction {
  const args = { ...call.args };
  return { tool: call.function, args, targets: targetsFromArgs(call.function, args, catalogue) };
}
