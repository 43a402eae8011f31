/**
 * Domain events: to the EventBridge bus when deployed, to the structured log locally (there is
 * no EventBridge emulator).
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { StorageError } from '../../domain/errors.js';
import type { EventPublisher } from '../../ports/event-publisher.js';

/** `source` of every Tradewarden event on the bus. */
export const EVENT_SOURCE = 'tradewarden';

export class EventBridgePublisher implements EventPublisher {
  constructor(private readonly options: { client: EventBridgeClient; busName: string }) {}

  /** The SDK client it publishes with. */
  get client(): EventBridgeClient {
    return this.options.client;
  }

  async publish(detailType: string, detail: Readonly<Record<string, unknown>>): Promise<void> {
    const out = await this.options.client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: this.options.busName, Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }],
      }),
    );
    if ((out.FailedEntryCount ?? 0) > 0) {
      throw new StorageError(`EventBridge refused ${detailType}`, { details: { entries: out.Entries } });
    }
  }
}

export interface EventLog {
  info(message: string, extra: Record<string, unknown>): void;
}

/** Writes each event as one structured log line, and keeps the last ones for tests and ops. */
export class LogEventPublisher implements EventPublisher {
  readonly published: { detailType: string; detail: Readonly<Record<string, unknown>> }[] = [];
  private static readonly KEEP = 100;

  constructor(private readonly log: EventLog) {}

  async publish(detailType: string, detail: Readonly<Record<string, unknown>>): Promise<void> {
    this.log.info('domain event', { detailType, source: EVENT_SOURCE, detail });
    this.published.push({ detailType, detail });
    if (this.published.length > LogEventPublisher.KEEP) this.published.shift();
  }
}
