import { parseArgs } from 'node:util';

/** Command-line options of `npm run bench` (see HELP). */
export interface BenchOptions {
  duration: number;
  connections: number;
  clients: number;
  databases: string[];
  large: number;
  against: string | undefined;
  rounds: number;
  out: string;
  pin: boolean;
  /** Which parts to run: catalog, purchases (the large catalog runs when --large > 0). */
  only: string[];
}

export const HELP = `npm run bench -- [options]

Measures the store against a bare Fastify baseline on each database, in one run, and prints
every figure also as a ratio to the baseline (and, with --against, to the other commit).

  --duration <s>       seconds per measured run (default 5; each run has a 1 s unrecorded warm-up)
  --connections <n>    concurrent connections, and concurrent purchase loops (default 32)
  --clients <n>        client processes that share the purchase loops (default 4)
  --databases <list>   sqlite,postgres (default both; BENCH_DATABASE_URL or TEST_DATABASE_URL
                       selects the PostgreSQL server, default postgres://postgres@127.0.0.1:5432/test)
  --large <n>          also seed n generated products and time the large-catalog queries one
                       request at a time (default 0: skipped; the issue's figure is 1000000)
  --against <ref>      also build <ref> (a commit, branch or tag) in a temporary git worktree and
                       measure it in the same run, alternating with this tree
  --rounds <n>         measurements per figure, alternating trees; the mean is reported
                       (default 1, or 2 with --against)
  --out <file>         where the Markdown table goes (default bench/results/run-<time>.md;
                       pass --out bench/results.md to replace the committed table)
  --only <list>        catalog, purchases, sandboxes and/or events (default all; --only= runs none,
                       for --large alone). events: root catalog reads with ROOT_EVENTS=off
                       (the default) and ROOT_EVENTS=all, measured alternately
  --no-pin             do not pin servers to CPU 0 and the load generator to CPU 1
  --help               this text
`;

function positive(name: string, raw: string, min = 1): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number >= ${min}, got '${raw}'`);
  return value;
}

/** Parses argv; prints HELP and exits on --help, exits with a message on a wrong value. */
export function benchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '32' },
      clients: { type: 'string', default: '4' },
      databases: { type: 'string', default: 'sqlite,postgres' },
      large: { type: 'string', default: '0' },
      against: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string', default: 'catalog,purchases,sandboxes,events' },
      'no-pin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  try {
    const databases = values.databases.split(',').filter(Boolean);
    const only = values.only.split(',').filter(Boolean);
    for (const part of only) if (!['catalog', 'purchases', 'sandboxes', 'events'].includes(part)) throw new Error(`--only takes catalog, purchases, sandboxes and/or events, got '${part}'`);
    for (const d of databases) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`--databases takes sqlite and/or postgres, got '${d}'`);
    return {
      duration: positive('duration', values.duration),
      connections: positive('connections', values.connections),
      clients: positive('clients', values.clients),
      databases,
      large: positive('large', values.large, 0),
      against: values.against,
      rounds: positive('rounds', values.rounds ?? (values.against ? '2' : '1')),
      out: values.out ?? `bench/results/run-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.md`,
      pin: !values['no-pin'],
      only,
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
}
