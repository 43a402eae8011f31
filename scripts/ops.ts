/**
 * `npm run ops -- <command>`: operate the local stack.
 *   status [--json]                      mode, data source, jobs, orders, positions, balances, health
 *   health [--json]                      run the health check now
 *   pause --reason "..." [--for 2h] [--author name]
 *   resume
 *   emergency-stop [--reason "..."]      pause, then cancel every open order
 *   audit verify                         exit 1 naming the first broken record of each bad stream
 *   redrive                              move dead-lettered intents back to the execution queue
 */
import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ValidationError, toTradewardenError } from '../shared/domain/errors.js';
import type { LocalRuntime } from '../infra/local/runtime.js';
import { withLocalRuntime } from './local-session.js';
import { collectStatus } from './status.js';

const DURATION = /^(\d{1,5})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new ValidationError(`--for must look like 30m, 2h or 1d, got ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

type Command = (runtime: LocalRuntime, args: { json: boolean; reason?: string; for?: string; author?: string }) => Promise<number>;

const commands: Record<string, Command> = {
  async status(runtime, { json }) {
    const status = await collectStatus(runtime.containers.health);
    if (json) console.log(JSON.stringify(status, null, 2));
    else {
      console.log(`mode ${status.mode} | exchange ${status.exchange} | data ${status.dataSource} | health ${String(status.health?.status ?? 'unknown')} | paused ${status.pause.paused}`);
      for (const j of status.jobs) console.log(`  ${j.job.padEnd(10)} last success ${j.lastSuccess ?? '-'} (${j.lastOutcome ?? 'never run'}, ${j.lastDurationMs ?? '-'} ms)`);
      console.log(`  ledger ${JSON.stringify(status.ledger)} equity ${status.equity}`);
      for (const p of Object.values(status.positions)) console.log(`  position ${p.symbol} qty ${p.qty} avg ${p.avgPrice} realized ${p.realizedPnl}`);
      for (const o of status.orders) console.log(`  order ${o.id} ${o.symbol} ${o.side} ${o.amount} ${o.state}${o.reason ? ` (${o.reason})` : ''}`);
    }
    return 0;
  },
  async health(runtime, { json }) {
    const report = await runtime.health();
    if (json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(`health ${report.status}`);
      for (const r of report.reasons) console.log(`  ${r}`);
    }
    return report.status === 'FAILING' ? 1 : 0;
  },
  async pause(runtime, args) {
    if (!args.reason) throw new ValidationError('pause needs --reason "..."');
    const c = runtime.containers.health;
    const now = c.clock.now();
    const until = args.for ? new Date(now.getTime() + parseDuration(args.for)).toISOString() : undefined;
    const state = { paused: true, reason: args.reason, author: args.author ?? process.env.USER ?? 'ops', since: now.toISOString(), ...(until ? { until } : {}) };
    await c.control.setPause(state);
    await c.audit.append('control', { type: 'control.paused', data: state }, now);
    console.log(JSON.stringify(state));
    return 0;
  },
  async resume(runtime, args) {
    const c = runtime.containers.health;
    const now = c.clock.now();
    await c.control.setPause({ paused: false });
    await c.audit.append('control', { type: 'control.resumed', data: { author: args.author ?? process.env.USER ?? 'ops' } }, now);
    console.log(JSON.stringify({ paused: false }));
    return 0;
  },
  async 'emergency-stop'(runtime, args) {
    await commands.pause?.(runtime, { ...args, reason: args.reason ?? 'emergency stop' });
    const c = runtime.containers.health;
    let canceled = 0;
    for (const o of await c.exchange.fetchOpenOrders()) {
      await c.exchange.cancelOrder(o.symbol, o.clientOrderId);
      canceled += 1;
    }
    await c.audit.append('control', { type: 'control.emergency-stop', data: { canceled } }, c.clock.now());
    console.log(JSON.stringify({ canceled }));
    return 0;
  },
  async audit(runtime, args) {
    const verification = await runtime.containers.health.audit.verify();
    console.log(args.json ? JSON.stringify(verification, null, 2) : `audit ${verification.valid ? 'valid' : 'BROKEN'}: ${verification.records} records in ${verification.streams} streams`);
    for (const p of verification.problems) console.log(`  ${p.stream} #${p.seq}: ${p.problem}`);
    return verification.valid ? 0 : 1;
  },
  async redrive(runtime) {
    const { sqs, config } = runtime;
    let moved = 0;
    for (;;) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: config.executionDlqUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) {
        // Send first, delete second: a crash in between duplicates the message, which the
        // executor absorbs (EXE-1); the other order could lose it.
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: config.executionQueueUrl,
            MessageBody: m.Body ?? '',
            MessageGroupId: m.Attributes?.MessageGroupId ?? 'redrive',
            MessageDeduplicationId: `${m.MessageId ?? ''}-redrive-${Date.now()}`,
          }),
        );
        await sqs.send(new DeleteMessageCommand({ QueueUrl: config.executionDlqUrl, ReceiptHandle: m.ReceiptHandle ?? '' }));
        moved += 1;
      }
    }
    console.log(JSON.stringify({ redriven: moved }));
    return 0;
  },
};

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, reason: { type: 'string' }, for: { type: 'string' }, author: { type: 'string' } },
  });
  const [name, sub] = positionals;
  const command = name ? commands[name] : undefined;
  if (!command || (name === 'audit' && sub !== 'verify')) {
    throw new ValidationError(`usage: npm run ops -- <${Object.keys(commands).map((c) => (c === 'audit' ? 'audit verify' : c)).join('|')}> [--json]`);
  }
  if (values.reason !== undefined && (values.reason.length === 0 || values.reason.length > 500)) throw new ValidationError('--reason must be 1 to 500 characters');
  if (values.for !== undefined) parseDuration(values.for);
  return withLocalRuntime((runtime) =>
    command(runtime, {
      json: values.json ?? false,
      ...(values.reason !== undefined ? { reason: values.reason } : {}),
      ...(values.for !== undefined ? { for: values.for } : {}),
      ...(values.author !== undefined ? { author: values.author } : {}),
    }),
  );
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(JSON.stringify({ error: toTradewardenError(error).toJSON() }, null, 2));
    process.exit(1);
  });
