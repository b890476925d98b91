export { startBroker, type Broker, type BrokerOptions } from './brokerServer';
export { decideIssue, type IssueView, type IssueDecision } from './decideIssue';
