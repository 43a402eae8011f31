/**
 * The web console (OPS-9): a small Hono app on 127.0.0.1 that serves one page, its assets
 * (TradingView lightweight-charts from node_modules) and a JSON API, with live updates as
 * server-sent events.
 *
 * Security (SEC-7):
 * - every request needs the token (query `token`, `Authorization: Bearer`, or the HttpOnly
 *   SameSite=Strict cookie the page sets): without it, 401 and nothing runs;
 * - the Host header must name the loopback address (no DNS rebinding);
 * - state changes are POST only, JSON only, at most MAX_BODY_BYTES, with the CSRF header, and
 *   go through ConsoleActions, which audit them with the author "console";
 * - bad input is a coded error (400 VALIDATION_FAILED, 404 NOT_FOUND, 413 BODY_TOO_LARGE, ...)
 *   and changes nothing.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { ErrorCode, ValidationError, toTradewardenError } from '../shared/domain/errors.js';
import type { ConsoleActions } from './actions.js';
import type { ConsoleReadModel } from './read-model.js';
import { CSRF_HEADER, TOKEN_COOKIE, sameSecret, type ConsoleSecrets } from './security.js';

/** Largest request body accepted (the biggest real one, a tunable, is well under 1 KB). */
export const MAX_BODY_BYTES = 16 * 1024;
/** How often the live stream pushes the overview. */
export const LIVE_INTERVAL_MS = 2_000;

/** Codes of the console's HTTP-level refusals (input errors use the domain's VALIDATION_FAILED). */
export const ConsoleErrorCode = {
  Unauthorized: 'UNAUTHORIZED',
  CsrfFailed: 'CSRF_FAILED',
  BadHost: 'BAD_HOST',
  NotFound: 'NOT_FOUND',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  BodyTooLarge: 'BODY_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
} as const;

type Status = 400 | 401 | 403 | 404 | 405 | 413 | 415 | 500 | 503;

function refuse(c: Context, status: Status, code: string, message: string, details: Record<string, unknown> = {}) {
  return c.json({ error: { code, message, details } }, status);
}

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const require = createRequire(import.meta.url);

function loadAssets() {
  // The package exports only its ES module; the standalone build (one global) sits next to it.
  const charts = join(dirname(require.resolve('lightweight-charts/package.json')), 'dist', 'lightweight-charts.standalone.production.js');
  return {
    html: readFileSync(`${STATIC_DIR}index.html`, 'utf8'),
    js: readFileSync(`${STATIC_DIR}app.js`, 'utf8'),
    css: readFileSync(`${STATIC_DIR}style.css`, 'utf8'),
    charts: readFileSync(charts, 'utf8'),
  };
}

const ReasonBody = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(200), confirm: z.literal(true) }).strict();
const ResumeBody = z.object({ confirm: z.literal(true) }).strict();
const CancelBody = z
  .object({ orderId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an order id as the orders table lists it'), reason: z.string().trim().min(1, 'a reason is required').max(200), confirm: z.literal(true) })
  .strict();
const TunableBody = z.object({ key: z.string().min(1).max(200), value: z.string().max(200) }).strict();

async function jsonBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch (error) {
    throw new ValidationError('the body is not valid JSON', [], { cause: error });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new ValidationError(`bad request: ${issues.join('; ')}`, issues);
  }
  return parsed.data;
}

export interface ConsoleServerOptions {
  readonly read: ConsoleReadModel;
  readonly actions: ConsoleActions;
  readonly secrets: ConsoleSecrets;
  /** @default LIVE_INTERVAL_MS */
  readonly liveIntervalMs?: number;
}

export function createConsoleApp(options: ConsoleServerOptions): { app: Hono; allowHost(host: string): void } {
  const { read, actions, secrets } = options;
  const assets = loadAssets();
  const hosts = new Set<string>();
  const app = new Hono();

  app.onError((error, c) => {
    const e = toTradewardenError(error);
    const status: Status = e.code === ErrorCode.ValidationFailed ? 400 : e.code === ErrorCode.StorageFailed ? 503 : 500;
    return refuse(c, status, e.code, e.message, e.code === ErrorCode.ValidationFailed ? e.details : {});
  });
  app.notFound((c) => refuse(c, 404, ConsoleErrorCode.NotFound, `no such page: ${c.req.method} ${c.req.path}`));

  // Host first (DNS rebinding), then the token, before any route runs.
  app.use('*', async (c, next) => {
    if (hosts.size > 0 && !hosts.has(c.req.header('host') ?? '')) return refuse(c, 403, ConsoleErrorCode.BadHost, 'the console answers only on its loopback address');
    const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    const presented = bearer ?? getCookie(c, TOKEN_COOKIE) ?? (c.req.method === 'GET' ? c.req.query('token') : undefined);
    if (!sameSecret(presented, secrets.token)) return refuse(c, 401, ConsoleErrorCode.Unauthorized, 'the console token is missing or wrong; use the address printed at start');
    return next();
  });
  // State changes: POST only, same origin, JSON, small, with the CSRF header.
  app.use('/api/actions/*', async (c, next) => {
    if (c.req.method !== 'POST') return refuse(c, 405, ConsoleErrorCode.MethodNotAllowed, 'actions are POST only');
    const origin = c.req.header('origin');
    if (origin !== undefined && !hosts.has(origin.replace(/^http:\/\//, ''))) return refuse(c, 403, ConsoleErrorCode.CsrfFailed, `cross-origin request from ${origin}`);
    if (!sameSecret(c.req.header(CSRF_HEADER), secrets.csrf)) return refuse(c, 403, ConsoleErrorCode.CsrfFailed, `the ${CSRF_HEADER} header is missing or wrong`);
    if (!(c.req.header('content-type') ?? '').startsWith('application/json')) return refuse(c, 415, ConsoleErrorCode.UnsupportedMediaType, 'actions take application/json');
    return next();
  });
  app.use('/api/actions/*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => refuse(c, 413, ConsoleErrorCode.BodyTooLarge, `bodies are limited to ${MAX_BODY_BYTES} bytes`) }));

  app.get('/', (c) => {
    setCookie(c, TOKEN_COOKIE, secrets.token, { httpOnly: true, sameSite: 'Strict', path: '/' });
    c.header('cache-control', 'no-store');
    c.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
    c.header('referrer-policy', 'no-referrer');
    return c.html(assets.html.replace('__CSRF__', secrets.csrf));
  });
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/assets/app.js', (c) => c.body(assets.js, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/assets/style.css', (c) => c.body(assets.css, 200, { 'content-type': 'text/css; charset=utf-8' }));
  app.get('/assets/lightweight-charts.js', (c) => c.body(assets.charts, 200, { 'content-type': 'text/javascript; charset=utf-8' }));

  app.get('/api/overview', async (c) => c.json(await read.overview()));
  app.get('/api/equity', async (c) => c.json(await read.equity()));
  app.get('/api/candles', async (c) => c.json(await read.candles(c.req.query('symbol') ?? '')));
  app.get('/api/history/:correlationId', async (c) => c.json(await read.history(c.req.param('correlationId'))));
  app.get('/api/orders/:id', async (c) => {
    const id = c.req.param('id');
    const order = (await read.overview()).orders.find((o) => o.id === id);
    if (!order) return refuse(c, 404, ConsoleErrorCode.NotFound, `no recent order ${JSON.stringify(id)}`);
    return c.json(order);
  });
  app.get('/api/tunables', async (c) => c.json(await actions.tunables()));
  app.get('/api/live', (c) =>
    streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      while (open) {
        try {
          await stream.writeSSE({ event: 'overview', data: JSON.stringify(await read.overview()) });
        } catch (error) {
          await stream.writeSSE({ event: 'failure', data: JSON.stringify({ error: toTradewardenError(error).toJSON() }) });
        }
        await stream.sleep(options.liveIntervalMs ?? LIVE_INTERVAL_MS);
      }
    }),
  );

  app.post('/api/actions/pause', async (c) => c.json(await actions.pause(await jsonBody(c, ReasonBody))));
  app.post('/api/actions/resume', async (c) => {
    await jsonBody(c, ResumeBody);
    return c.json(await actions.resume());
  });
  app.post('/api/actions/emergency-stop', async (c) => c.json(await actions.emergencyStop(await jsonBody(c, ReasonBody))));
  app.post('/api/actions/cancel', async (c) => c.json(await actions.cancelOrder(await jsonBody(c, CancelBody))));
  app.post('/api/actions/tunables', async (c) => c.json(await actions.setTunable(await jsonBody(c, TunableBody))));

  return { app, allowHost: (host) => hosts.add(host) };
}

export interface RunningConsole {
  readonly url: string;
  readonly port: number;
  /** The CSRF token its page carries (for clients other than the page, such as tests). */
  readonly csrf: string;
  stop(): Promise<void>;
}

/** Serves the console on 127.0.0.1 (never another interface) on `port` (0: a free one). */
export async function startConsoleServer(options: ConsoleServerOptions & { readonly port?: number }): Promise<RunningConsole> {
  const { app, allowHost } = createConsoleApp(options);
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  allowHost(`127.0.0.1:${port}`);
  allowHost(`localhost:${port}`);
  return {
    port,
    csrf: options.secrets.csrf,
    url: `http://127.0.0.1:${port}/?token=${options.secrets.token}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
