import { readFileSync } from 'node:fs';

/** The parent of a process, from /proc (Linux); undefined where that cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * A process stops when whatever launched it goes, however it goes (even `kill -9`), so that no
 * server is left holding its port:
 * - under src/main.ts (and a cluster primary) a child has an IPC channel, which closes when the
 *   parent dies;
 * - under npm (`npm start`, `npm run start:store`) the process is npm's grandchild, with a
 *   `sh -c` between them that survives npm's `kill -9`; so the parent is watched (a new
 *   process.ppid means it died) and so is the shell's parent (a new one means npm died).
 * Started by hand from a terminal, a process has neither and relies on the terminal's hang-up.
 */
export function stopWithParent(stop: (reason: string) => void, pollMs = 500): void {
  if (process.send) {
    process.once('disconnect', () => stop('parent exited'));
    return;
  }
  if (process.env.npm_lifecycle_event === undefined) return;
  const parent = process.ppid;
  const launcher = parentOf(parent);
  const timer = setInterval(() => {
    const gone = process.ppid !== parent || (launcher !== undefined && parentOf(parent) !== launcher);
    if (!gone) return;
    clearInterval(timer);
    stop('npm exited');
  }, pollMs);
  timer.unref();
}
