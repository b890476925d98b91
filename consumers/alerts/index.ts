export { startAlertsConsumer, type AlertsConsumer, type AlertsConsumerOptions } from './alertsConsumer';
export { loadSinksConfig, parseSinksConfig, NO_SINKS, type AlertSinksConfig, type SinkConfig } from './sinksConfig';
export { deliveryStatus, renderDeliveryStatus, type DeliveryStatus } from './deliveryStatus';
export { requeueFailed } from './outboxStore';
export { signWebhook, verifyWebhookSignature, SIGNATURE_HEADER, DELIVERY_HEADER } from './sinks/webhookSignature';
export { AlertConfigError, SinkError, WebhookSignatureError } from './errors';
export { AlertsMetrics } from './alertsMetrics';
export type { Delivery } from './delivery';
export type { Sink } from './sinks/sink';
