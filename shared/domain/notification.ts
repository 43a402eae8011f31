/**
 * What a person reads for each domain event (OPS-10): one short plain-text message per event,
 * with amounts rounded for reading (the audit log keeps full precision).
 */
import { ValidationError } from './errors.js';
import { DomainEventType } from './domain-events.js';
import { dec } from './money.js';

export interface Notification {
  /** The event's id: the deduplication key. */
  readonly id: string;
  readonly kind: DomainEventType;
  readonly at: string;
  /** One line for the subject (email) and the first line of chat messages. */
  readonly title: string;
  readonly text: string;
}

const s = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
/** Rounds a decimal string for reading: 8 significant digits, no exponent. */
export function readable(value: unknown, places = 8): string {
  if (typeof value !== 'string' && typeof value !== 'number') return '?';
  try {
    const d = dec(String(value));
    return d.toSignificantDigits(places).toFixed();
  } catch {
    return String(value);
  }
}

/** `[{currency, amount}]` as `0.1 USDT, 0.00001 BNB` (none: `0`). */
function feesText(fees: unknown): string {
  if (!Array.isArray(fees) || fees.length === 0) return '0';
  return fees.map((f: { currency?: unknown; amount?: unknown }) => `${readable(f.amount)} ${s(f.currency)}`).join(', ');
}

/**
 * The notification of one event.
 * @throws ValidationError for an event type without a message or a detail without an id.
 */
export function notificationOf(detailType: string, detail: Readonly<Record<string, unknown>>): Notification {
  const at = typeof detail.at === 'string' ? detail.at : '';
  const eventId = typeof detail.eventId === 'string' && detail.eventId.length > 0 ? detail.eventId : detailType === DomainEventType.HealthChanged && at ? `HealthChanged:${at}` : '';
  if (!eventId) throw new ValidationError(`event ${detailType} has no eventId`);
  const make = (kind: DomainEventType, title: string, lines: readonly string[] = []): Notification => ({ id: eventId, kind, at, title, text: [title, ...lines].join('\n') });
  switch (detailType) {
    case DomainEventType.OrderFilled: {
      const price = typeof detail.cost === 'string' && typeof detail.filled === 'string' && !dec(detail.filled).isZero() ? readable(dec(detail.cost).div(detail.filled).toFixed()) : '?';
      const partial = detail.state !== undefined && detail.state !== 'FILLED' ? ' (partial)' : '';
      return make(DomainEventType.OrderFilled, `Filled${partial}: ${s(detail.side).toUpperCase()} ${readable(detail.filled)} ${s(detail.symbol)} at ${price}`, [`cost ${readable(detail.cost)}, fees ${feesText(detail.fees)}`, `order ${s(detail.orderId)}`]);
    }
    case DomainEventType.OrderRejected:
      return make(DomainEventType.OrderRejected, `Rejected: ${s(detail.side).toUpperCase()} ${s(detail.symbol)}`, [`reason: ${s(detail.reason)}`, `order ${s(detail.orderId)}`]);
    case DomainEventType.OrderUnknown:
      return make(DomainEventType.OrderUnknown, `UNKNOWN outcome: ${s(detail.symbol)} order ${s(detail.orderId)}`, [`the reconciler will resolve it; ${s(detail.error)}`]);
    case DomainEventType.TradingPaused:
      return make(DomainEventType.TradingPaused, `Trading PAUSED by ${s(detail.author) || 'unknown'}`, [`reason: ${s(detail.reason)}`, ...(detail.until ? [`until ${s(detail.until)}`] : [])]);
    case DomainEventType.TradingResumed:
      return make(DomainEventType.TradingResumed, `Trading resumed by ${s(detail.author) || 'unknown'}`);
    case DomainEventType.DriftAlarm:
      return make(DomainEventType.DriftAlarm, `Balance drift ${s(detail.level).toUpperCase()}: ${readable(detail.driftQuote)} ${s(detail.currency)}`, [detail.confirmed === false ? 'orders in flight: not yet confirmed' : 'confirmed']);
    case DomainEventType.HealthChanged: {
      const reasons = Array.isArray(detail.reasons) ? detail.reasons.map(s) : [];
      return make(DomainEventType.HealthChanged, `Health ${s(detail.from) || 'new'} -> ${s(detail.to)}`, reasons.slice(0, 5));
    }
    case DomainEventType.DailySummary:
      return make(DomainEventType.DailySummary, `Daily summary ${s(detail.day)}`, [
        `equity ${readable(detail.equity)} ${s(detail.currency)}, realized PnL ${readable(detail.realizedPnl)}, unrealized ${readable(detail.unrealizedPnl)}`,
        `fills ${s(detail.fills)}, open positions ${s(detail.openPositions)}, health ${s(detail.health)}${detail.paused ? ', PAUSED' : ''}`,
      ]);
    default:
      throw new ValidationError(`no notification for event type ${JSON.stringify(detailType)}`);
  }
}
