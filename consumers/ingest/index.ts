export { startIngestConsumer } from './ingestConsumer';
export type { IngestConsumer } from './ingestConsumer';
export { ingestBatch } from './ingestBatch';
export { decodeEvent } from './decodeEvent';
export { verifyEnvelope } from './verifyEnvelope';
export { decideChain } from './decideChain';
export { IngestMetrics } from './ingestMetrics';
export type { LedgerNotice } from './ledgerStore';
