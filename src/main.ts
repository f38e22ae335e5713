import { spawn, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopWithParent } from './shared/launcher.js';

/**
 * `npm start`: the store and the payments gateway as two processes side by side, both logging
 * to this terminal. Ctrl-C (or SIGTERM) stops both; if either dies, the other is stopped too.
 * Each child has an IPC channel to this process and stops when it closes, so even `kill -9` of
 * this process leaves no server holding its port; and this process stops its children when npm
 * goes, even by `kill -9` (see stopWithParent in src/http/server.ts).
 */
const ext = extname(fileURLToPath(import.meta.url)); // .ts under tsx, .js when built
const env = { ...process.env, LOG_FORMAT: process.env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json') };

const start = (entry: string): ChildProcess =>
  spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL(`${entry}${ext}`, import.meta.url))], {
    env,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
const children: ChildProcess[] = [start('./store-main'), start('./gateway/main')];

let exitCode = 0;
let stopping = false;
const stopAll = (signal: NodeJS.Signals) => {
  stopping = true;
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};

for (const child of children) {
  child.on('exit', (code, signal) => {
    if (!stopping) {
      exitCode = code ?? 1;
      console.error(`${child === children[0] ? 'store' : 'payments gateway'} exited (${signal ?? code}); stopping the other`);
      stopAll('SIGTERM');
    }
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(exitCode);
  });
}

process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
stopWithParent((reason) => {
  console.error(`${reason}: stopping the store and the payments gateway`);
  stopAll('SIGTERM');
});
