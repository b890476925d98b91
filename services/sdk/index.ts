export { AgentClient, DEFAULT_SEND_RETRY } from './agentClient';
export type { AgentClientOptions, ActionReport, SentEvent, SendRetryPolicy } from './agentClient';
export { EventNotDelivered } from '../common/errors';
export { createAgentProducer } from './agentProducer';
export { createAgentKey, loadOrCreateAgentKey, keyIdFor } from './agentKey';
export type { AgentKey } from './agentKey';
export { CredentialClient, CredentialRefused } from './credentialClient';
export type { IssuedCredential, ToolCallResult } from './credentialClient';
