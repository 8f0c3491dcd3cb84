// graphile-worker peer driver for scripts/peers/run.
//
//   node graphile.mjs setup DBURL N   install schema (runMigrations), enqueue N "noop" jobs
//   node graphile.mjs drain DBURL N   start ONE worker, time until the job table is empty
//
// graphile-worker itself is resolved from $PEERS_NODE_DIR (the temp/cache dir
// where scripts/peers/run npm-installed it), so this file can stay in the repo.
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.PEERS_NODE_DIR ?? process.cwd(), "x.js"));
const gw = require("graphile-worker");
const pg = require("pg");
const [mode, dbUrl, nArg] = process.argv.slice(2);
const N = Number(nArg);
const log = (msg) => process.stderr.write(`[graphile] ${msg}\n`);

// graphile-worker logs one INFO line per completed job by default; at 100k
// jobs/run that measures console I/O, not the queue. Keep warn/error only.
const logger = new gw.Logger(() => (level, message) => {
  if (level === "error" || level === "warning") log(`${level}: ${message}`);
});

async function count(client) {
  const { rows } = await client.query("select count(*)::int as c from graphile_worker._private_jobs");
  return rows[0].c;
}

async function setup() {
  await gw.runMigrations({ connectionString: dbUrl, logger });
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  // Bulk enqueue through the public SQL API (add_jobs takes job_spec[]), in
  // chunks so a single statement never builds a huge array.
  const CHUNK = 10000;
  for (let done = 0; done < N; done += CHUNK) {
    await client.query(
      `select count(*) from graphile_worker.add_jobs(array(
         select row('noop', null, null, null, null, null, null, null)::graphile_worker.job_spec
         from generate_series(1, $1::int)))`,
      [Math.min(CHUNK, N - done)],
    );
  }
  const c = await count(client);
  await client.end();
  if (c !== N) throw new Error(`backlog has ${c} jobs, expected ${N}`);
  log(`enqueued ${c} jobs`);
}

async function drain() {
  // Monitor connection, opened before the clock starts.
  const mon = new pg.Client({ connectionString: dbUrl });
  await mon.connect();
  let handled = 0;
  let allHandled;
  const allHandledP = new Promise((r) => (allHandled = r));

  // Count local-queue fetches to confirm batched mode is really on.
  const events = new EventEmitter();
  let fetches = 0;
  let fetched = 0;
  events.on("localQueue:getJobs:complete", ({ jobs }) => {
    fetches++;
    fetched += jobs.length;
  });

  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const runner = await gw.run({
    connectionString: dbUrl,
    logger,
    events,
    concurrency: 1, // one worker, one job at a time
    noHandleSignals: true,
    taskList: {
      noop: async () => {
        if (++handled === N) allHandled();
      },
    },
    preset: {
      worker: {
        // Batched mode: the pool locks and pulls 500 jobs per fetch and hands
        // them to the worker from memory (no DB round trip per job).
        localQueue: { size: 500 },
        // Completions/failures are coalesced into one complete_jobs /
        // fail_jobs call per tick (0 ms = flush on the next event-loop turn).
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
      },
    },
  });
  await allHandledP;
  // Every handler has run; the last completion batch may still be in flight.
  // Wall time ends when the job table is really empty.
  let remaining;
  while ((remaining = await count(mon)) > 0) await new Promise((r) => setTimeout(r, 5));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await runner.stop();
  await runner.promise;
  remaining = await count(mon);
  await mon.end();
  const total = process.cpuUsage();
  log(`localQueue fetches: ${fetches} (${fetched} jobs)`);
  const v = require("graphile-worker/package.json").version;
  const pv = require("pg/package.json").version;
  console.log(
    `RESULT handled=${handled} remaining=${remaining} wall_s=${wall.toFixed(3)} ` +
      `cpu_s=${((cpu.user + cpu.system) / 1e6).toFixed(3)} ` +
      `cpu_total_s=${((total.user + total.system) / 1e6).toFixed(3)} version=${v} driver=pg@${pv}`,
  );
}

try {
  if (mode === "setup") await setup();
  else if (mode === "drain") await drain();
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  log(`FAILED: ${e.stack ?? e}`);
  process.exit(1);
}
