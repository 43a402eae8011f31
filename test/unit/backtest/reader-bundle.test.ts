/**
 * The reader thread's bundle (backtest/data/reader-bundle.ts) is made once and used again while
 * its inputs are unchanged; a changed input or a damaged bundle makes a new one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readerBundle } from '../../../backtest/data/reader-bundle.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tw-bt-bundle-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A small module graph to bundle: an entry that posts what its import gives. */
function sources(value: string): string {
  const entry = join(dir, 'entry.ts');
  writeFileSync(join(dir, 'value.ts'), `export const value: string = ${JSON.stringify(value)};\n`);
  writeFileSync(entry, "import { parentPort } from 'node:worker_threads';\nimport { value } from './value.js';\nparentPort!.postMessage(value);\n");
  return entry;
}

async function run(url: URL): Promise<unknown> {
  const worker = new Worker(url, { execArgv: [] });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

describe('Backtest data: the reader thread\'s bundle', () => {
  it('bundles once and uses the kept bundle while the inputs are unchanged', async () => {
    const entry = sources('first');
    const cache = join(dir, 'cache');
    const made = await readerBundle(entry, cache);
    expect(made.built).toBe(true);
    expect(made.url.protocol).toBe('file:');
    expect(await run(made.url)).toBe('first');
    const again = await readerBundle(entry, cache);
    expect(again).toEqual({ url: made.url, built: false });
  });

  it('bundles again when an input changed, and when the kept bundle was damaged', async () => {
    const entry = sources('first');
    const cache = join(dir, 'cache');
    const first = await readerBundle(entry, cache);
    sources('second');
    const changed = await readerBundle(entry, cache);
    expect(changed.built).toBe(true);
    expect(await run(changed.url)).toBe('second');
    const file = fileURLToPath(changed.url);
    writeFileSync(file, readFileSync(file, 'utf8').replace('second', 'tampered'));
    const repaired = await readerBundle(entry, cache);
    expect(repaired.built).toBe(true);
    expect(await run(repaired.url)).toBe('second');
    expect(first.url).not.toEqual(changed.url);
  });

  it('hands the bundle over as a data URL when it cannot be kept', async () => {
    const entry = sources('kept nowhere');
    // A file where the cache directory would be: nothing can be written under it.
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, '');
    const made = await readerBundle(entry, join(blocked, 'cache'));
    expect(made.url.protocol).toBe('data:');
    expect(await run(made.url)).toBe('kept nowhere');
  });
});
