/**
 * The EventBridge bus for domain events (OrderFilled, HealthChanged, ...), with an archive of
 * every event published to it so a window of events can be replayed.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { EventBus, type Archive } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

/** Default archive retention, in days. */
const DEFAULT_ARCHIVE_RETENTION_DAYS = 365;

export interface DomainEventBusProps {
  /**
   * How long archived events are kept for replay.
   * @default 365 days
   */
  readonly archiveRetention?: Duration;
}

export class DomainEventBus extends Construct {
  readonly bus: EventBus;
  readonly archive: Archive;

  constructor(scope: Construct, id: string, props: DomainEventBusProps = {}) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'Tradewarden domain events' });
    // Every event on this bus comes from this account: the pattern matches all of them.
    this.archive = this.bus.archive('Archive', {
      description: 'Every Tradewarden domain event, for replay',
      eventPattern: { account: [Stack.of(this).account] },
      retention: props.archiveRetention ?? Duration.days(DEFAULT_ARCHIVE_RETENTION_DAYS),
    });
  }
}
