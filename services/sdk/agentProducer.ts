import type { Kafka, Producer } from 'kafkajs';

/**
 * The Kafka producer agents should hand to AgentClient. Not kafkajs's idempotent mode: when a produce request fails
 * ambiguously (say the broker restarts after writing it), kafkajs hands its sequence number to whichever send comes
 * next on that partition, often another agent's, and the broker then acknowledges that record as a duplicate
 * without writing it: an event lost with a success reply. Plain retries can only duplicate, and the ledger already
 * refuses a re-sent event (DUPLICATE_EVENT), so nothing is lost and nothing is ledgered twice.
 */
export function createAgentProducer(kafka: Kafka): Producer {
  return kafka.producer({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false });
}
