export { registerAgentKey, retireAgentKey } from './registerAgentKey';
export type { KeyRegistration } from './registerAgentKey';
