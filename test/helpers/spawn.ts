import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Starting the project's servers as real processes; used by the tests and by the benchmark. */
const root = new URL('../..', import.meta.url).pathname;

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash, nothing flushed. */
  kill(): Promise<void>;
}

export function tempDir(prefix = 'store-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Ports for the servers a test starts come from below the kernel's ephemeral range (32768+), in a
 * block of its own per vitest worker: a port handed out by `listen(0)` could be taken again by an
 * outgoing connection or by a server of a file running beside this one, and a readiness check
 * would then talk to the wrong process. Each candidate is still checked by binding it.
 * TEST_PORT_BASE (default 20000) moves the blocks, for two suites run side by side from two checkouts.
 */
const PORT_BLOCK = 1500;
let nextPort = Number(process.env.TEST_PORT_BASE ?? 20_000) + (Number(process.env.VITEST_POOL_ID ?? 0) % 8) * PORT_BLOCK;
const blockEnd = nextPort + PORT_BLOCK;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  while (nextPort < blockEnd) {
    const port = nextPort++;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port left in this worker's block (${blockEnd - PORT_BLOCK}..${blockEnd - 1})`);
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it was ready:\n${output()}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${url}:\n${output()}`);
}

/**
 * Under vitest, servers run from the JavaScript that global-setup.ts compiled from src/ into
 * TEST_BUILD_DIR: starting under tsx costs seconds per process, and the suite starts dozens.
 */
export function nodeArguments(entry: string): string[] {
  const buildDir = process.env.TEST_BUILD_DIR;
  if (buildDir && entry.startsWith('src/')) return [join(root, buildDir, entry.slice('src/'.length).replace(/\.ts$/, '.js'))];
  return ['--import', 'tsx', entry];
}

export interface SpawnOptions {
  /** Another checkout of the project to run the entry from (the benchmark's `--against`). */
  root?: string;
  /** A command the node process runs under, such as `taskset -c 0`. */
  prefix?: string[];
}

/** Starts a server entry (`src/...ts`) from the project root (or options.root), collecting what it writes. */
function launch(entry: string, env: Record<string, string>, args: string[] = [], options: SpawnOptions = {}): { child: ChildProcess; output: () => string } {
  const [command, ...rest] = [...(options.prefix ?? []), process.execPath, ...nodeArguments(entry), ...args];
  const child = spawn(command!, rest, {
    cwd: options.root ?? root,
    env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

/** Spawns a server entry (`src/...ts`) from the project root with the given environment and waits until readyPath answers. */
export async function spawnServer(
  entry: string,
  env: Record<string, string>,
  port: number,
  readyPath: string,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const { child, output } = launch(entry, env, [], options);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  try {
    await waitForHttp(url + readyPath, child, output);
  } catch (error) {
    await signal('SIGKILL');
    throw error;
  }
  return { url, port, child, output, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}

/** Runs an entry (a server expected to fail at start-up, or a command) to its end; resolves with its exit code and output. */
export async function runToExit(entry: string, env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const { child, output } = launch(entry, env, args);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, output: output() };
}
