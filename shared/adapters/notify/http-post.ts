/**
 * One JSON POST to a chat service with a timeout, its failure classified for the notifier:
 * a network error, a timeout, 429 or 5xx may pass on a later try; any other answer is a refusal.
 */
import { NotificationError } from '../../ports/notifier.js';

/** A send that takes longer than this is abandoned and retried. */
export const SEND_TIMEOUT_MS = 10_000;

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/**
 * @param what names the call in errors, never with its URL (a webhook URL or bot token is a secret).
 * @returns the parsed JSON answer, or null when it has none.
 */
export async function postJson(fetchImpl: Fetch, url: string, body: unknown, what: string, timeoutMs = SEND_TIMEOUT_MS): Promise<unknown> {
  let res: Response;
  try {
    res = await fetchImpl(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new NotificationError(`${what}: ${error instanceof Error ? error.name : 'request failed'}`, true, { cause: error });
  }
  const text = await res.text();
  if (!res.ok) {
    const retryable = res.status === 429 || res.status >= 500;
    throw new NotificationError(`${what}: HTTP ${res.status} ${text.slice(0, 200)}`, retryable, { details: { status: res.status } });
  }
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
