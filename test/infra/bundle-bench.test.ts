import { describe, it, expect } from 'vitest';
import { BARE_LOGGER, measureBundles } from '../../infra/bench/bundle-sizes.js';

describe('Bench: measureBundles', () => {
  it('bundles the bare Powertools-logger handler and times its import in a fresh process', async () => {
    const [bare, ...rest] = await measureBundles({ targets: [], samples: 1 });
    expect(rest).toEqual([]);
    expect(bare?.name).toBe(BARE_LOGGER);
    expect(bare?.bytes).toBeGreaterThan(1_000);
    expect(bare?.gzipBytes).toBeLessThan(bare?.bytes ?? 0);
    expect(bare?.sourceMapBytes).toBeGreaterThan(0);
    expect(bare?.coldLoad.samplesMs).toHaveLength(1);
    expect(bare?.coldLoad.medianMs).toBeGreaterThan(0);
    expect(bare?.coldLoad.samplesCpuMs).toHaveLength(1);
    expect(bare?.coldLoad.medianCpuMs).toBeGreaterThan(0);
  }, 60_000);
});
