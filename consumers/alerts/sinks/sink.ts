import type { Delivery } from '../delivery';

/**
 * A place alerts are sent. `deliver` resolves once the receiver has the delivery (as far as its protocol can
 * tell) and throws a SinkError otherwise; it is called for one delivery at a time per sink.
 */
export interface Sink {
  readonly name: string;
  deliver(d: Delivery): Promise<void>;
  close(): Promise<void>;
}
