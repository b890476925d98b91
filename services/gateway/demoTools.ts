import { lookupTool, type ToolCatalogue } from '../../schema/catalogue';

/**
 * Stand-ins for the AgentDojo tools behind the gateway: any catalogued tool answers with what it was asked, so the
 * gateway's checks and its observations are what is exercised, not a simulated bank or mailbox. Null for a tool the
 * catalogue does not know.
 */
export function runDemoTool(catalogue: ToolCatalogue, tool: string, args: Record<string, unknown>): Record<string, unknown> | null {
  const spec = lookupTool(catalogue, tool);
  if (!spec) return null;
  return { tool, effect: spec.effect, status: 'ok', args };
}
