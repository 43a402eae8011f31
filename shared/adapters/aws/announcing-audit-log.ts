/**
 * The audit log that also announces notable decisions as domain events (OPS-10): after a record
 * is stored, the event it implies (domain-events.ts) is published; every record of a batch item
 * (PERF-2) is announced, as if it had been appended alone. The record is the truth;
 * the event is news about it.
 *
 * A failed publish does not fail the append: trading must never wait on, or be retried
 * because of, a notification. It is reported (error log and metric) through `onPublishError`,
 * never hidden.
 */
import { domainEventOf, type DomainEvent } from '../../domain/domain-events.js';
import type { AuditEntry, AuditRecord } from '../../ports/audit-log.js';
import type { EventPublisher } from '../../ports/event-publisher.js';
import { DynamoDbAuditLog, type DynamoDbAuditLogOptions } from './dynamodb-audit-log.js';

export interface AnnouncingAuditLogOptions extends DynamoDbAuditLogOptions {
  readonly events: EventPublisher;
  readonly onPublishError: (error: unknown, event: DomainEvent) => void;
}

export class AnnouncingAuditLog extends DynamoDbAuditLog {
  readonly #events: EventPublisher;
  readonly #onPublishError: AnnouncingAuditLogOptions['onPublishError'];

  constructor(options: AnnouncingAuditLogOptions) {
    super(options);
    this.#events = options.events;
    this.#onPublishError = options.onPublishError;
  }

  /** Every append (`append` too goes through here): each record of a batch is announced, in order. */
  override async appendBatch(stream: string, entries: readonly AuditEntry[], at: Date): Promise<AuditRecord[]> {
    const records = await super.appendBatch(stream, entries, at);
    for (const record of records) {
      const event = domainEventOf(record);
      if (!event) continue;
      try {
        await this.#events.publish(event.detailType, event.detail);
      } catch (error) {
        this.#onPublishError(error, event);
      }
    }
    return records;
  }
}
