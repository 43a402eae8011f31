/**
 * The reader thread's module (read-worker.ts) as one ES module file, for a run from the TypeScript
 * source: bundled with esbuild and kept between runs in the system's temporary directory, named by
 * the hash of its inputs. A run whose inputs hash as the kept bundle's starts the thread from that
 * file and loads no esbuild (whose service process alone took about 50 ms to start); a changed
 * input makes a new bundle. The thread needs no TypeScript loader of its own (tsx in a thread took
 * about 0.3 s to start).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';

/** Where bundles are kept by default: the user's own directory (mode 0700), as tsx keeps its cache. */
export const READER_BUNDLE_DIR = join(tmpdir(), `tradewarden-backtest-reader-${process.getuid?.() ?? 'user'}`);

/** The inputs and their hash, and the bundle file with the hash of its content (checked before use). */
const ManifestSchema = z.object({ inputs: z.array(z.string()), hash: z.string(), file: z.string(), bundleHash: z.string() });
type Manifest = z.infer<typeof ManifestSchema>;

export interface ReaderBundle {
  /** The module to start the thread from. */
  readonly url: URL;
  /** Whether it was bundled now (false: the kept bundle was still current). */
  readonly built: boolean;
}

/** The SHA-256 of the files' names and contents, in order; undefined when one cannot be read. */
function hashOf(files: readonly string[]): string | undefined {
  const hash = createHash('sha256');
  try {
    for (const file of files) hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}

function sha256OfFile(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
}

function readManifest(path: string): Manifest | undefined {
  try {
    return ManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return undefined;
  }
}

/** Writes a file whole or not at all (a reader of the same name sees the old or the new content). */
function writeWhole(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}

/**
 * The bundle of the module at `entry` (an absolute path): the kept one when its inputs are
 * unchanged, else a new one. When the bundle cannot be kept (no writable directory) it is handed
 * over as a data URL.
 * @throws the build's error when the source does not bundle.
 */
export async function readerBundle(entry: string, dir: string = READER_BUNDLE_DIR): Promise<ReaderBundle> {
  const manifestPath = join(dir, `${createHash('sha256').update(entry).digest('hex').slice(0, 16)}.json`);
  const kept = readManifest(manifestPath);
  if (kept && hashOf(kept.inputs) === kept.hash && sha256OfFile(kept.file) === kept.bundleHash) return { url: pathToFileURL(kept.file), built: false };

  const { build } = await import('esbuild');
  const workingDir = dirname(entry);
  const out = await build({ entryPoints: [entry], absWorkingDir: workingDir, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', target: 'node22', logLevel: 'silent' });
  const code = out.outputFiles[0]!.text;
  const inputs = Object.keys(out.metafile.inputs).map((input) => resolve(workingDir, input)).sort();
  const hash = hashOf(inputs);
  try {
    if (hash === undefined) throw new Error('an input of the bundle cannot be read back');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `reader-${hash.slice(0, 16)}.mjs`);
    writeWhole(file, code);
    writeWhole(manifestPath, JSON.stringify({ inputs, hash, file, bundleHash: createHash('sha256').update(code).digest('hex') } satisfies Manifest));
    return { url: pathToFileURL(file), built: true };
  } catch {
    return { url: new URL(`data:text/javascript,${encodeURIComponent(code)}`), built: true };
  }
}
