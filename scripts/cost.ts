/**
 * `npm run cost`: the monthly AWS bill of a deployment (PERF-4), from the synthesized template
 * (offline, no bundling) and the usage measured by the bench (infra/cost/measured-usage.json),
 * priced with infra/cost/prices.ts. Prints the default settings, a busy profile (1000 symbols,
 * 1000 trades a day) and how the bill grows with months of history.
 *
 *   npm run cost                      dev stage, paper trading
 *   npm run cost -- --stage prod      another stage
 *   npm run cost -- --live            live trading (the secret, ccxt)
 *   npm run cost -- --monitoring full the full alarm profile (infra/README.md#alarms)
 *   npm run cost -- --json            { monthlyUsd: { default, busy }, growthUsdPerMonthOfHistory, items: [{ name, usd }] }
 */
import { App } from 'aws-cdk-lib';
import { DEFAULT_ASSUMPTIONS, growthPerMonthOfHistory, monthlyBill, type Bill, type TrafficProfile } from '../infra/cost/cost-model.js';
import { readMeasuredUsage } from '../infra/cost/measured-usage.js';
import { PRICES, PRICES_AS_OF, PRICES_REGION } from '../infra/cost/prices.js';
import { templateFacts, type CfnTemplate } from '../infra/cost/template-facts.js';
import { resolveDeploymentConfig } from '../infra/config/stages.js';
import { TradewardenStack } from '../infra/stacks/tradewarden-stack.js';
import { runAsScript } from './run-as-script.js';

/** The default settings: the stage's watchlist and about 100 trades a day. */
export const DEFAULT_TRADES_PER_DAY = 100;
export const BUSY_PROFILE: TrafficProfile = { name: 'busy', symbols: 1000, tradesPerDay: 1000 };

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Synthesizes the stack of a stage (no bundling) and returns its template. */
export function synthesizedTemplate(stage: string | undefined, live: boolean, monitoring?: string): { template: CfnTemplate; symbols: number } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = resolveDeploymentConfig({ stage, ...(live ? { live: true, alarmEmail: 'cost-model@example.com' } : {}), ...(monitoring ? { monitoring } : {}) });
  const stack = new TradewardenStack(app, 'Tradewarden-cost', { config });
  return { template: app.synth().getStackByName(stack.stackName).template as CfnTemplate, symbols: config.watchlist.length };
}

function printBill(bill: Bill): void {
  console.log(`\n${bill.profile.name}: ${bill.profile.symbols} symbols, ${bill.profile.tradesPerDay} trades/day, month ${bill.monthOfHistory}`);
  console.log('| item | quantity | USD (after always-free) | USD (no free tier) |\n| --- | --- | --- | --- |');
  for (const i of bill.items) console.log(`| ${i.name} | ${i.quantity} | ${i.usd.toFixed(2)} | ${i.grossUsd.toFixed(2)} |`);
  console.log(`| **total** | | **${bill.usd.toFixed(2)}** | ${bill.grossUsd.toFixed(2)} |`);
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const live = argv.includes('--live');
  const { template, symbols } = synthesizedTemplate(option(argv, '--stage'), live, option(argv, '--monitoring'));
  // The stack references its secrets by name and the operator creates them (the notifier's
  // always, the exchange keys for live trading): they are on the bill though not in the template.
  const fromTemplate = templateFacts(template);
  const facts = { ...fromTemplate, secrets: fromTemplate.secrets + 1 + (live ? 1 : 0) };
  const usage = readMeasuredUsage();
  const defaults: TrafficProfile = { name: 'default', symbols, tradesPerDay: DEFAULT_TRADES_PER_DAY };
  const bills = { default: monthlyBill(facts, usage, defaults, PRICES), busy: monthlyBill(facts, usage, BUSY_PROFILE, PRICES) };
  const growth = { default: growthPerMonthOfHistory(facts, usage, defaults, PRICES), busy: growthPerMonthOfHistory(facts, usage, BUSY_PROFILE, PRICES) };
  if (argv.includes('--json')) {
    console.log(
      JSON.stringify(
        {
          monthlyUsd: { default: bills.default.usd, busy: bills.busy.usd },
          monthlyUsdWithoutFreeTier: { default: bills.default.grossUsd, busy: bills.busy.grossUsd },
          growthUsdPerMonthOfHistory: growth.default,
          growthUsdPerMonthOfHistoryBusy: growth.busy,
          items: bills.default.items.map((i) => ({ name: i.name, usd: i.usd })),
          itemsBusy: bills.busy.items.map((i) => ({ name: i.name, usd: i.usd })),
          pricesAsOf: PRICES_AS_OF,
          usageMeasuredAt: usage.measuredAt,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  console.log(`Monthly AWS bill, ${PRICES_REGION} list prices as of ${PRICES_AS_OF} (infra/cost/prices.ts), usage measured ${usage.measuredAt}`);
  console.log(`template: ${facts.functions.length} functions, ${facts.schedules.length} schedules, ${facts.alarms.length} alarms, ${facts.dashboards} dashboard(s), ${usage.metricSeries.length} custom metric series${live ? ', live mode' : ''}`);
  printBill(bills.default);
  printBill(bills.busy);
  console.log(`\ngrowth per month of history (no free tier): default ${growth.default.toFixed(4)} USD, busy ${growth.busy.toFixed(4)} USD`);
  console.log(`assumptions: ${Object.entries(DEFAULT_ASSUMPTIONS).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return 0;
}

runAsScript(import.meta.url, () => main());
