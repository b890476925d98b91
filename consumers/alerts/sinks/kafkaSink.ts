import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { Delivery } from '../delivery';
import type { KafkaSinkConfig } from '../sinksConfig';
import { FORMATS } from '../format';
import { SinkError } from '../errors';
import type { Sink } from './sink';

/** Broker refusals that no retry will change. */
const PERMANENT = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'TOPIC_AUTHORIZATION_FAILED', 'INVALID_TOPIC_EXCEPTION', 'CORRUPT_MESSAGE']);

/**
 * A Kafka topic (on the ledger's brokers unless the sink names others), keyed by agent, acknowledged by all
 * in-sync replicas, with the delivery id in an `idempotency-key` header. The producer is not kafkajs's idempotent
 * one (see services/sdk/agentProducer.ts), so a retried send may land twice: readers drop repeats by that header.
 * A missing topic is retried, not created: where alerts go is the operator's decision.
 */
export function kafkaSink(cfg: KafkaSinkConfig, defaultBrokers: string[], clientId: string): Sink {
  const brokers = cfg.brokers ? cfg.brokers.split(',') : defaultBrokers;
  const kafka = new Kafka({
    clientId: `${clientId}-sink-${cfg.name}`,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(cfg.timeoutMs, 10_000),
    requestTimeout: cfg.timeoutMs,
    // Our own backoff decides when to try again; kafkajs only smooths over a leader moving.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  const format = FORMATS[cfg.format];
  let producer: Producer | null = null;
  const reset = async () => {
    const p = producer;
    producer = null;
    await p?.disconnect().catch(() => undefined);
  };
  return {
    name: cfg.name,
    async deliver(d: Delivery) {
      let value: string;
      try {
        value = format.render(d);
      } catch (e) {
        throw new SinkError('SINK_FORMAT_FAILED', `cannot format delivery ${d.deliveryId} as ${cfg.format}: ${(e as Error).message}`, false);
      }
      try {
        if (producer === null) {
          const p = kafka.producer({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false });
          await p.connect();
          producer = p;
        }
        await producer.send({
          topic: cfg.topic,
          acks: -1,
          timeout: cfg.timeoutMs,
          messages: [{ key: d.alert.agentId, value, headers: { 'idempotency-key': d.deliveryId, 'content-type': format.contentType } }],
        });
      } catch (e) {
        await reset();
        const err = e as Error & { type?: string; cause?: { type?: string } };
        const type = err.type ?? err.cause?.type;
        const permanent = type !== undefined && PERMANENT.has(type);
        throw new SinkError(permanent ? 'SINK_REJECTED' : 'SINK_UNREACHABLE', `kafka ${cfg.topic} on ${brokers.join(',')}: ${type ? `${type}: ` : ''}${err.message}`, !permanent);
      }
    },
    close: reset,
  };
}
