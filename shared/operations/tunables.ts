/**
 * Read and change the runtime tunables without a redeploy (OPS-5). A change is validated the way
 * the scanner will use it (the record's schema, then every strategy name and parameter against
 * the registry over the configured defaults) before it is written, conditional on the version
 * read, and audited.
 */
import { ValidationError, toTradewardenError } from '../domain/errors.js';
import { BUILT_IN_STRATEGIES } from '../domain/strategies/index.js';
import { TunablesSchema, type Tunables } from '../ports/tunables-store.js';
import { resolveScanSettings, type ScanSettings } from '../use-cases/scan-market.js';
import type { OperatorDeps } from './ports.js';

/** Deepest tunables path: strategies.<name>.symbols.<symbol>. */
const MAX_KEY_DEPTH = 4;

/** Splits `a.b.c` into path segments; a symbol segment keeps its slash. @throws ValidationError */
export function tunablesKeyPath(key: string): string[] {
  const path = key.split('.');
  if (path.length === 0 || path.length > MAX_KEY_DEPTH || path.some((p) => p.length === 0)) {
    throw new ValidationError(`bad tunables key ${JSON.stringify(key)}: use names joined by dots, e.g. strategies.price-drop.enabled`);
  }
  return path;
}

/** A copy of `record` with `path` set to `value` (removed when `value` is undefined); empty maps are dropped. */
function withValue(record: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return record;
  const copy: Record<string, unknown> = { ...record };
  if (rest.length === 0) {
    if (value === undefined) delete copy[head];
    else copy[head] = value;
    return copy;
  }
  const child = copy[head];
  const nested = withValue(child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : {}, rest, value);
  if (Object.keys(nested).length === 0) delete copy[head];
  else copy[head] = nested;
  return copy;
}

/**
 * Readings of a command-line value, most specific first: JSON (numbers, booleans, null to remove),
 * then the text itself (decimal strings such as "2.5" are strings in the record).
 */
function readings(text: string): unknown[] {
  const result: unknown[] = [];
  try {
    result.push(JSON.parse(text));
  } catch {
    // Not JSON: only the text reading applies.
  }
  if (!result.includes(text)) result.push(text);
  return result.map((v) => (v === null ? undefined : v));
}

function validTunables(defaults: ScanSettings, candidate: unknown): { ok: true; tunables: Tunables } | { ok: false; problem: string } {
  const parsed = TunablesSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ') };
  try {
    resolveScanSettings(defaults, parsed.data, BUILT_IN_STRATEGIES);
  } catch (error) {
    return { ok: false, problem: toTradewardenError(error).message };
  }
  return { ok: true, tunables: parsed.data };
}

/** The values the scanner will use: the record over the configured defaults. */
export function effectiveTunables(defaults: ScanSettings, tunables: Tunables) {
  const resolved = resolveScanSettings(defaults, tunables, BUILT_IN_STRATEGIES);
  return {
    orderQuoteAmount: resolved.orderQuoteAmount,
    ...resolved.protections,
    strategies: Object.fromEntries(
      resolved.strategies.map(({ strategy, enabledFor }) => [
        strategy.name,
        {
          params: strategy.params,
          candlesNeeded: strategy.candlesNeeded,
          enabledFor: Object.fromEntries(defaults.watchlist.map((s) => [s, enabledFor(s)])),
        },
      ]),
    ),
  };
}

function pick(record: unknown, path: readonly string[]): unknown {
  let current: unknown = record;
  for (const p of path) current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[p] : undefined;
  return current;
}

export type TunablesView =
  | { readonly key: string; readonly stored: unknown; readonly effective: unknown }
  | { readonly version: number; readonly updatedAt?: string; readonly updatedBy?: string; readonly stored: Tunables; readonly effective: ReturnType<typeof effectiveTunables> };

/** The whole record with its effective values, or one key of both. */
export async function getTunables(deps: Pick<OperatorDeps, 'tunables' | 'scanDefaults'>, input: { readonly key?: string } = {}): Promise<TunablesView> {
  const stored = await deps.tunables.getTunables();
  const effective = effectiveTunables(deps.scanDefaults, stored.tunables);
  if (input.key !== undefined) {
    const path = tunablesKeyPath(input.key);
    return { key: input.key, stored: pick(stored.tunables, path) ?? null, effective: pick(effective, path) ?? null };
  }
  return {
    version: stored.version,
    ...(stored.updatedAt ? { updatedAt: stored.updatedAt } : {}),
    ...(stored.updatedBy ? { updatedBy: stored.updatedBy } : {}),
    stored: stored.tunables,
    effective,
  };
}

export interface SetTunableInput {
  readonly key: string;
  /** As typed: JSON (numbers, booleans, `null` to remove) or text. */
  readonly value: string;
  readonly author: string;
}

export interface SetTunableResult {
  readonly key: string;
  readonly value: unknown;
  readonly version: number;
  readonly tunables: Tunables;
}

/**
 * 1. Read the record and its version.
 * 2. Take the first reading of the value that makes a valid record.
 * 3. Write it conditional on the version read; audit the change.
 * @throws ValidationError naming the problem when no reading is valid (nothing is written).
 */
export async function setTunable(deps: Pick<OperatorDeps, 'tunables' | 'scanDefaults' | 'audit' | 'clock'>, input: SetTunableInput): Promise<SetTunableResult> {
  const path = tunablesKeyPath(input.key);
  const current = await deps.tunables.getTunables();
  let problem = '';
  for (const reading of readings(input.value)) {
    const checked = validTunables(deps.scanDefaults, withValue(current.tunables as Record<string, unknown>, path, reading));
    if (!checked.ok) {
      problem ||= checked.problem;
      continue;
    }
    const now = deps.clock.now();
    await deps.tunables.putTunables(checked.tunables, current.version, input.author, now);
    await deps.audit.append('control', { type: 'control.tunables-set', data: { key: input.key, value: reading ?? null, author: input.author, version: current.version + 1 } }, now);
    return { key: input.key, value: reading ?? null, version: current.version + 1, tunables: checked.tunables };
  }
  throw new ValidationError(`cannot set ${input.key} to ${input.value}: ${problem}`);
}
