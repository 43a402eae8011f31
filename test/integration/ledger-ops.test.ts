/**
 * REC-6 / REC-7 on the emulators: the book opens from the exchange's balances within TW_BUDGET
 * (audited), drift is counted against the book plus the recorded external baseline, and the
 * operator changes the book with `ops ledger deposit | withdraw | rebase`, each audited and
 * written conditional on the version read; bad input changes nothing. Then two deployments (two
 * table sets) on one paper account, each with its own budget: both trade, neither pauses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOps, runOpsCommandLine } from '../../scripts/ops.js';
import { LocalRuntime } from '../../local-runtime/runtime.js';
import { createQueues, createTables } from '../../local-runtime/provision.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localStackOutputs } from '../../local-runtime/stack.js';
import { localOperatorDeps } from '../../operator/local-transport.js';
import { writeOutputsFile } from '../../operator/stack-outputs.js';
import { LOCAL_STACK_NAME } from '../../shared/definitions/stack-outputs.js';
import { dec } from '../../shared/domain/money.js';
import { ENV, loadConfig } from '../../shared/runtime/config.js';
import { changeLedger, showLedger } from '../../shared/operations/ledger.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { sdkEnvFor, withSdkEnv } from '../support/deployed-env.js';
import { auditRecords, execute, intent } from './reconcile-support.js';
import { transferOnPaperExchange } from '../support/paper-balances.js';


function lines(): { out: (line: string) => void; text: () => string } {
  const all: string[] = [];
  return { out: (line) => all.push(line), text: () => all.join('\n') };
}

describe('A ledger that starts from the truth, with scoped drift (REC-6, REC-7)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-04-01T10:00:00.000Z'));
  const c = () => runtime.containers.reconciler;

  beforeAll(async () => {
    // The paper account holds 10000 USDT; this deployment's budget is 1000 of it.
    t = await startTestStack({ TW_PAPER_SEED: 'ledger-ops', TW_WATCHLIST: 'BTC/USDT,ETH/USDT', TW_PAPER_INITIAL_QUOTE: '10000', TW_BUDGET: 'USDT:1000' });
    runtime = t.runtime({ clock });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('opens the book from the exchange within the budget, audited, with the rest as the external baseline: no drift', async () => {
    // Act
    await c().ensureAccount();
    await c().ensureAccount();
    const report = await runtime.reconcile();

    // Assess
    const book = await c().accounts.get('USDT');
    expect(book).toMatchObject({ total: '1000', available: '1000', baselines: { USDT: '9000', BTC: '0', ETH: '0' }, opened: { source: 'exchange', budget: { USDT: '1000' }, amounts: { USDT: '1000' } } });
    const opened = (await auditRecords(c(), 'account:USDT')).filter((r) => r.type === 'ledger.opened');
    expect(opened).toHaveLength(1);
    expect(opened[0]?.data).toMatchObject({ source: 'exchange', total: '1000', baselines: { USDT: '9000' } });
    expect(report.balances?.drift).toMatchObject({ level: 'ok', quote: '0' });
    expect(report.balances?.drift.assets[0]).toMatchObject({ asset: 'USDT', local: '1000', exchange: '10000', baseline: '9000', difference: '0' });
  });

  it('records deposits and withdrawals, audited and versioned, and the drift stays zero when the exchange moved with them', async () => {
    const deps = localOperatorDeps(runtime);
    const before = await c().accounts.get('USDT');

    // Act
    const deposited = await changeLedger(deps, { kind: 'deposit', asset: 'USDT', amount: '250.5', author: 'ops' });
    await transferOnPaperExchange(c(), 'USDT', '250.5');
    const withdrawn = await changeLedger(deps, { kind: 'withdraw', asset: 'USDT', amount: '50', author: 'ops' });
    await transferOnPaperExchange(c(), 'USDT', '-50');
    clock.advance(60_000);
    const report = await runtime.reconcile();

    // Assess
    expect(deposited).toMatchObject({ kind: 'deposit', asset: 'USDT', amount: '250.5', before: '1000', after: '1250.5', version: (before?.version ?? 0) + 1 });
    expect(withdrawn).toMatchObject({ before: '1250.5', after: '1200.5' });
    expect(await showLedger(deps)).toMatchObject({ total: '1200.5', available: '1200.5', baselines: { USDT: '9000' } });
    const types = (await auditRecords(c(), 'account:USDT')).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['ledger.deposit', 'ledger.withdraw']));
    expect(report.balances?.drift).toMatchObject({ level: 'ok', quote: '0' });
  });

  it('calls money that appears on the account without a deposit drift, and a rebase with a reason records the baseline again', async () => {
    // Prepare: 300 USDT arrive on the exchange; nobody told Tradewarden.
    await transferOnPaperExchange(c(), 'USDT', '300');
    clock.advance(60_000);
    const drifted = await runtime.reconcile();
    await c().control.setPause({ paused: false });

    // Act: the operator says it is not Tradewarden's: the book stays, the baseline grows.
    const deps = localOperatorDeps(runtime);
    const rebased = await changeLedger(deps, { kind: 'rebase', asset: 'USDT', amount: '1200.5', author: 'ops', reason: 'owner topped up the account for other use' });
    clock.advance(60_000);
    const after = await runtime.reconcile();

    // Assess
    expect(drifted.balances?.drift).toMatchObject({ level: 'pause', quote: '300' });
    expect(rebased).toMatchObject({ kind: 'rebase', before: '1200.5', after: '1200.5', baseline: '9300' });
    const record = (await auditRecords(c(), 'account:USDT')).find((r) => r.type === 'ledger.rebase');
    expect(record?.data).toMatchObject({ reason: 'owner topped up the account for other use', author: 'ops', baseline: '9300' });
    expect(after.balances?.drift).toMatchObject({ level: 'ok', quote: '0' });
  });

  it('refuses bad amounts, a rebase without a reason and a withdrawal of more than is free with coded errors, changing nothing', async () => {
    const before = await c().accounts.get('USDT');
    const auditsBefore = (await auditRecords(c(), 'account:USDT')).length;
    const { out } = lines();
    for (const bad of ['-5', 'NaN', '1e3', 'abc', '', '0', 'Infinity', '1,5', '99999999999999999']) {
      for (const kind of ['deposit', 'withdraw'] as const) {
        await expect(runOps(['ledger', kind, 'USDT', bad], runtime, out), `${kind} ${JSON.stringify(bad)}`).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
    }
    await expect(runOps(['ledger', 'rebase', 'USDT', '100'], runtime, out)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/--reason/) });
    await expect(changeLedger(localOperatorDeps(runtime), { kind: 'rebase', asset: 'USDT', amount: '100', author: 'ops', reason: '  ' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(runOps(['ledger', 'deposit', 'usdt!', '5'], runtime, out)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(runOps(['ledger', 'withdraw', 'USDT', '5000'], runtime, out)).rejects.toMatchObject({ code: 'INSUFFICIENT_BUDGET' });

    expect(await c().accounts.get('USDT')).toEqual(before);
    expect((await auditRecords(c(), 'account:USDT')).length).toBe(auditsBefore);
  });

  it('refuses to write over a book that changed since it was read (version check)', async () => {
    const deps = localOperatorDeps(runtime);
    const real = deps.accounts;
    const current = await real.get('USDT');
    if (!current) throw new Error('no book');
    // The book as another writer's change left it, read a moment earlier by this command.
    const stale = { ...current, version: current.version - 1 };
    const racing = { ...deps, accounts: { open: real.open.bind(real), update: real.update.bind(real), get: async () => stale } };

    await expect(changeLedger(racing, { kind: 'deposit', asset: 'USDT', amount: '10', author: 'ops' })).rejects.toMatchObject({ code: 'CONCURRENT_MODIFICATION' });
    expect(await real.get('USDT')).toEqual(current);
  });

  it('works through the deployed transport: ledger show and deposit with --outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-ledger-'));
    const file = join(dir, 'outputs.json');
    try {
      writeOutputsFile(file, LOCAL_STACK_NAME, localStackOutputs(t.stack.env));
      const shown = lines();
      const deposited = lines();
      await withSdkEnv(sdkEnvFor(t.stack), async () => {
        expect(await runOpsCommandLine(['--outputs', file, 'ledger', 'show', '--json'], shown.out)).toBe(0);
        expect(await runOpsCommandLine(['--outputs', file, 'ledger', 'deposit', 'USDT', '5', '--author', 'deployed-ops'], deposited.out)).toBe(0);
      });
      expect(JSON.parse(shown.text())).toMatchObject({ currency: 'USDT', baselines: { USDT: '9300' } });
      expect(JSON.parse(deposited.text())).toMatchObject({ kind: 'deposit', amount: '5' });
      expect((await c().accounts.get('USDT'))?.total).toBe('1205.5');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a budget for an asset the exchange does not list, with a coded error, and opens nothing', async () => {
    const other = await startTestStack({ TW_PAPER_SEED: 'ledger-unlisted', TW_WATCHLIST: 'BTC/USDT', TW_BUDGET: 'USDT:1000,XYZ:5' });
    try {
      const r = other.runtime({ clock });
      await expect(r.containers.executor.ensureAccount()).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/XYZ: the exchange does not list it/) });
      expect(await r.containers.executor.accounts.get('USDT')).toBeNull();
    } finally {
      await other.stop();
    }
  });
});

describe('Two deployments on one paper account, each with its own budget (REC-7)', () => {
  let t: TestStack;
  let a: LocalRuntime;
  let b: LocalRuntime;
  const clock = new ManualClock(new Date('2026-04-02T10:00:00.000Z'));
  const ddbClients: DynamoDBClient[] = [];

  beforeAll(async () => {
    // Risk limits well above these trades: the test is about drift, not exposure (EXE-13).
    const env = { TW_PAPER_SEED: 'two-stacks', TW_WATCHLIST: 'BTC/USDT,ETH/USDT', TW_PAPER_INITIAL_QUOTE: '10000', TW_DRIFT_MODE: 'shared', TW_MAX_EXPOSURE_PER_SYMBOL: '5000' };
    t = await startTestStack({ ...env, TW_BUDGET: 'USDT:1000' });
    a = t.runtime({ clock });
    // The second deployment: its own tables and queues, the same paper account (exchange).
    const ddb = new DynamoDBClient({ endpoint: t.stack.dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    ddbClients.push(ddb);
    const tables = await createTables(ddb, 'tw-second');
    const queues = await createQueues(t.sqs, 'tw-second');
    const configB = loadConfig({
      ...t.stack.env,
      ...env,
      TW_BUDGET: 'USDT:2000',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      [ENV.stateTable]: tables.StateTable ?? '',
      [ENV.auditTable]: tables.AuditTable ?? '',
      [ENV.idempotencyTable]: tables.IdempotencyTable ?? '',
      [ENV.executionQueueUrl]: queues.executionQueueUrl,
      [ENV.executionDlqUrl]: queues.executionDlqUrl,
    });
    expect(configB.paperTable).toBe(t.config.paperTable);
    b = new LocalRuntime(configB, t.sqs, { clock });
  });

  afterAll(async () => {
    b?.close();
    for (const client of ddbClients) client.destroy();
    await t?.stop();
  });

  it('lets both trade on the shared account and neither pauses for drift', async () => {
    // Prepare: both open their books from the same account.
    await a.containers.executor.ensureAccount();
    await b.containers.executor.ensureAccount();

    // Act: both trade, twice, each time followed by both reconciling.
    for (let round = 0; round < 2; round += 1) {
      expect(await execute(a, intent({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quoteAmount: '150', at: clock.now() }))).toMatchObject({ outcome: 'executed', state: 'FILLED' });
      expect(await execute(b, intent({ symbol: 'ETH/USDT', side: 'buy', type: 'market', quoteAmount: '300', at: clock.now() }))).toMatchObject({ outcome: 'executed', state: 'FILLED' });
      expect(await execute(b, intent({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quoteAmount: '200', at: clock.now() }))).toMatchObject({ outcome: 'executed', state: 'FILLED' });
      clock.advance(60_000);
      const ra = await a.reconcile();
      const rb = await b.reconcile();
      expect(ra.balances, `A after round ${round}`).toMatchObject({ paused: false, drift: { level: 'ok', quote: '0' } });
      expect(rb.balances, `B after round ${round}`).toMatchObject({ paused: false, drift: { level: 'ok', quote: '0' } });
    }
    const sellA = await a.containers.executor.accounts.get('USDT');
    expect(await execute(a, intent({ symbol: 'BTC/USDT', side: 'sell', type: 'market', amount: sellA?.positions['BTC/USDT']?.qty ?? '0', at: clock.now() }))).toMatchObject({ outcome: 'executed', state: 'FILLED' });
    clock.advance(60_000);
    const finalA = await a.reconcile();
    const finalB = await b.reconcile();

    // Assess
    expect(finalA.balances).toMatchObject({ paused: false, drift: { level: 'ok' } });
    expect(finalB.balances).toMatchObject({ paused: false, drift: { level: 'ok' } });
    expect((await a.containers.executor.control.getPause()).paused).toBe(false);
    expect((await b.containers.executor.control.getPause()).paused).toBe(false);
    const bookA = await a.containers.executor.accounts.get('USDT');
    const bookB = await b.containers.executor.accounts.get('USDT');
    expect(bookA?.opened?.amounts).toEqual({ USDT: '1000' });
    expect(bookB?.opened?.amounts).toEqual({ USDT: '2000' });
    expect(dec(bookB?.positions['ETH/USDT']?.qty ?? '0').gt(0)).toBe(true);
    // The account holds both books' money: neither book claims more than the exchange has.
    const balances = await a.containers.executor.exchange.fetchBalances();
    const cash = (book: typeof bookA) => dec(book?.available ?? '0').plus(book?.reserved ?? '0');
    expect(dec(balances.USDT?.total ?? '0').gte(cash(bookA).plus(cash(bookB)))).toBe(true);
    const btc = dec(bookA?.positions['BTC/USDT']?.qty ?? '0').plus(bookB?.positions['BTC/USDT']?.qty ?? '0');
    expect(dec(balances.BTC?.total ?? '0').toFixed()).toBe(btc.toFixed());
  });

  it('still sees drift in shared mode when the exchange holds less than the book itself', async () => {
    // Prepare: what the account holds in USDT beyond 500 leaves it: less than A's own cash (about 1000).
    const held = (await a.containers.executor.exchange.fetchBalances()).USDT?.total ?? '0';
    await transferOnPaperExchange(a.containers.executor, 'USDT', dec('500').minus(held).toFixed());
    clock.advance(60_000);

    // Act
    const report = await a.reconcile();

    // Assess
    expect(report.balances?.drift.level).toBe('pause');
    expect(report.balances?.drift.assets[0]).toMatchObject({ asset: 'USDT', exchange: '500' });
    expect(dec(report.balances?.drift.assets[0]?.difference ?? '0').lt(-100)).toBe(true);
    expect(report.balances?.paused).toBe(true);
  });
});
