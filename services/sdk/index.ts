export { AgentClient } from './agentClient';
export type { AgentClientOptions, ActionReport, SentEvent } from './agentClient';
export { createAgentKey, loadOrCreateAgentKey, keyIdFor } from './agentKey';
export type { AgentKey } from './agentKey';
