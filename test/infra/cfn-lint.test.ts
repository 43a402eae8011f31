/**
 * cfn-lint over every template a deploy can produce (dev, prod on paper, prod live), as a
 * reviewer would run it: one cfn-lint process over the three files, failing on any finding
 * (errors and warnings). cfn-lint is part of the project's toolchain: when it is missing the
 * test fails and says how to install it; it is never skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StageContext } from '../../infra/config/stages.js';
import { buildStack } from './stack-fixture.js';

/** The deployable variants: stage x trading mode. */
export const DEPLOYABLE_TEMPLATES: Readonly<Record<string, StageContext>> = {
  dev: {},
  'prod-paper': { stage: 'prod' },
  'prod-live': { stage: 'prod', live: 'true', alarmEmail: 'ops@example.com' },
};

const INSTALL_HINT = 'cfn-lint is not installed: install it with `pipx install cfn-lint` (or `pip install --user cfn-lint`) and put it on PATH';
/**
 * Checks left out, each with its reason. W3005 (a DependsOn already implied by a GetAtt): CDK's
 * Lambda Function construct itself adds its role to DependsOn next to `Role: GetAtt`; redundant
 * and harmless, and not ours to remove.
 */
const IGNORED_CHECKS = ['W3005'];
/**
 * Three syntheses (without cdk-nag: stack.test.ts covers it) and one cfn-lint run, about 4 s per
 * template on an idle small machine; generous for a loaded one.
 */
const TIMEOUT_MS = 300_000;

const dir = mkdtempSync(join(tmpdir(), 'tradewarden-cfn-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Templates: cfn-lint', () => {
  it('finds nothing in the dev, prod-paper and prod-live templates', () => {
    const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) throw new Error(INSTALL_HINT, { cause: version.error });

    const files = Object.entries(DEPLOYABLE_TEMPLATES).map(([name, context]) => {
      const file = join(dir, `${name}.template.json`);
      writeFileSync(file, JSON.stringify(buildStack(context, { nag: false }).template.toJSON(), null, 1));
      return file;
    });
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--ignore-checks', ...IGNORED_CHECKS, '--', ...files], { encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  }, TIMEOUT_MS);
});
