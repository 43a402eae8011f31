/**
 * Local fakes of the Telegram Bot API and a Slack incoming webhook: HTTP servers on 127.0.0.1
 * that record what they receive, so notification tests never reach the internet.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeServer {
  readonly url: string;
  /** Answer the next N requests with this HTTP status instead of success. */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

function parse(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function listen(handle: (path: string, body: unknown) => { status: number; body: unknown }, failures: { count: number; status: number }): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      let answer: { status: number; body: unknown };
      if (failures.count > 0) {
        failures.count -= 1;
        answer = { status: failures.status, body: { ok: false, error_code: failures.status, description: 'injected failure' } };
      } else {
        answer = handle(req.url ?? '', parse(text));
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const closer = (server: Server) => () =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

export interface FakeTelegram extends FakeServer {
  readonly token: string;
  /** Messages the bot sent, in order. */
  readonly sent: { chat_id: string; text: string }[];
  /** Queues a message from a user for the bot's next getUpdates. */
  receive(chatId: string | number, text: string, username?: string): void;
}

export async function startFakeTelegram(token = '123456:TEST-token-for-the-fake'): Promise<FakeTelegram> {
  const sent: { chat_id: string; text: string }[] = [];
  const updates: { update_id: number; message: unknown }[] = [];
  let nextId = 1;
  let messageId = 1;
  const failures = { count: 0, status: 500 };
  const { server, url } = await listen((path, body) => {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(path);
    if (!m || m[1] !== token) return { status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } };
    const args = (body ?? {}) as Record<string, unknown>;
    if (m[2] === 'sendMessage') {
      sent.push({ chat_id: String(args.chat_id), text: String(args.text) });
      return { status: 200, body: { ok: true, result: { message_id: messageId++, text: args.text } } };
    }
    if (m[2] === 'getUpdates') {
      const offset = typeof args.offset === 'number' ? args.offset : 0;
      return { status: 200, body: { ok: true, result: updates.filter((u) => u.update_id >= offset) } };
    }
    return { status: 404, body: { ok: false, error_code: 404, description: 'Not Found' } };
  }, failures);
  return {
    url,
    token,
    sent,
    receive(chatId, text, username = 'alice') {
      updates.push({ update_id: nextId++, message: { message_id: messageId++, chat: { id: chatId }, from: { id: 42, username }, text } });
    },
    failNext(count, status = 500) {
      failures.count = count;
      failures.status = status;
    },
    close: closer(server),
  };
}

export interface FakeSlack extends FakeServer {
  readonly received: { text: string }[];
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const received: { text: string }[] = [];
  const failures = { count: 0, status: 500 };
  const { server, url } = await listen((path, body) => {
    if (path !== '/services/T000/B000/fake') return { status: 404, body: 'no_service' };
    received.push(body as { text: string });
    return { status: 200, body: 'ok' };
  }, failures);
  return {
    url: `${url}/services/T000/B000/fake`,
    received,
    failNext(count, status = 500) {
      failures.count = count;
      failures.status = status;
    },
    close: closer(server),
  };
}
