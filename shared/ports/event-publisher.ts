/** Domain events (OrderFilled, HealthChanged, ...) to the EventBridge bus, or the log locally. */
export interface EventPublisher {
  publish(detailType: string, detail: Readonly<Record<string, unknown>>): Promise<void>;
}
