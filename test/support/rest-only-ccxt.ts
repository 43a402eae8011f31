/**
 * The exchange class exactly as a live bundle carries it: ccxt's class and base with what only
 * websockets or other exchanges use replaced, and what a spot client never calls left out
 * (infra/bundling/ccxt-rest-only.ts, ccxt-prune.ts), imported from the generated copies.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Exchange as CcxtClient } from 'ccxt';
import { PROJECT_ROOT } from '../../infra/bundling/esbuild-options.js';
import { ensureCcxtRestOnlyFiles } from '../../infra/bundling/generated-modules.js';

export type CcxtExchangeClass = new (settings?: Record<string, unknown>) => CcxtClient;

export async function restOnlyExchangeClass(exchangeId: string): Promise<CcxtExchangeClass> {
  const files = ensureCcxtRestOnlyFiles(PROJECT_ROOT, exchangeId);
  const module = (await import(pathToFileURL(join(PROJECT_ROOT, files.exchange)).href)) as { default: CcxtExchangeClass };
  return module.default;
}
