/**
 * The domain events people are told about (OPS-10), and how they follow from audit records.
 *
 * Every trading decision is audited first (OPS-4); the notable ones also go out as domain events
 * on the bus. Deriving them from the audit record keeps one source of truth: an event exists
 * exactly when its decision was recorded. Each event carries an `eventId` derived from what it
 * says (the order and its cumulative fill, the pause's start time...), so the same decision
 * recorded twice (a retried run) is the same event, and the notifier sends it once.
 */
import type { AuditRecord } from '../ports/audit-log.js';

export const DomainEventType = {
  OrderFilled: 'OrderFilled',
  OrderRejected: 'OrderRejected',
  OrderUnknown: 'OrderUnknown',
  TradingPaused: 'TradingPaused',
  TradingResumed: 'TradingResumed',
  DriftAlarm: 'DriftAlarm',
  HealthChanged: 'HealthChanged',
  DailySummary: 'DailySummary',
} as const;
export type DomainEventType = (typeof DomainEventType)[keyof typeof DomainEventType];

export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = Object.values(DomainEventType);

export interface DomainEvent {
  readonly detailType: DomainEventType;
  readonly detail: Readonly<Record<string, unknown>> & { readonly eventId: string; readonly at: string };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
/** `symbol:BTC/USDT` -> `BTC/USDT`. */
const symbolOf = (stream: string): string | undefined => (stream.startsWith('symbol:') ? stream.slice('symbol:'.length) : undefined);

/** The domain event an audit record announces, or null when it is not one people are told about. */
export function domainEventOf(record: AuditRecord): DomainEvent | null {
  const d = record.data;
  const base = { at: record.at, ...(record.correlationId ? { correlationId: record.correlationId } : {}) };
  const symbol = symbolOf(record.stream);
  switch (record.type) {
    case 'order.filled':
      return {
        detailType: DomainEventType.OrderFilled,
        detail: { ...base, eventId: `OrderFilled:${text(d.orderId)}:${text(d.filled)}`, orderId: d.orderId, symbol, side: d.side, state: d.to, filled: d.filled, cost: d.cost, fees: d.fees },
      };
    case 'order.rejected':
    case 'intent.rejected':
      return { detailType: DomainEventType.OrderRejected, detail: { ...base, eventId: `OrderRejected:${text(d.orderId)}`, orderId: d.orderId, symbol, side: d.side, reason: d.reason } };
    case 'order.unknown':
      return { detailType: DomainEventType.OrderUnknown, detail: { ...base, eventId: `OrderUnknown:${text(d.orderId)}`, orderId: d.orderId, symbol, error: d.error } };
    case 'control.paused':
      return { detailType: DomainEventType.TradingPaused, detail: { ...base, eventId: `TradingPaused:${text(d.since) ?? record.at}`, reason: d.reason, author: d.author, until: d.until } };
    case 'control.resumed':
      return { detailType: DomainEventType.TradingResumed, detail: { ...base, eventId: `TradingResumed:${record.stream}#${record.seq}`, author: d.author } };
    case 'balance.drift':
      return {
        detailType: DomainEventType.DriftAlarm,
        detail: { ...base, eventId: `DriftAlarm:${record.stream}#${record.seq}`, level: d.level, driftQuote: d.driftQuote, currency: d.currency, confirmed: d.confirmed },
      };
    default:
      return null;
  }
}
