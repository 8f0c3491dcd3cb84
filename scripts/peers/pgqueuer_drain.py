"""pgqueuer peer driver for scripts/peers/run (run with the venv's python).

    python pgqueuer_drain.py setup DBURL N   install schema, enqueue N "noop" jobs
    python pgqueuer_drain.py drain DBURL N   run ONE QueueManager, time until the queue table is empty
"""

import asyncio
import resource
import sys
import time
from importlib.metadata import version

import asyncpg
import uvloop  # `pgq run` (pgqueuer's CLI) runs on uvloop; do the same
from pgqueuer import QueueManager
from pgqueuer.db import AsyncpgDriver
from pgqueuer.models import Job
from pgqueuer.queries import Queries

# pgqueuer dequeues up to batch_size jobs per query and acks them through a
# buffer that flushes batch_size completions (or every ~0.1 s) in one
# DELETE ... + INSERT INTO pgqueuer_log statement.
BATCH_SIZE = 100
CHUNK = 10_000


def log(msg: str) -> None:
    print(f"[pgqueuer] {msg}", file=sys.stderr, flush=True)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def count(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM pgqueuer")


async def setup(dsn: str, n: int) -> None:
    conn = await asyncpg.connect(dsn)
    q = Queries(AsyncpgDriver(conn))
    # Default durability=durable: every table, pgqueuer_log included, is
    # WAL-logged (PGQUEUER_DURABILITY=balanced|volatile makes some UNLOGGED).
    await q.install()
    for done in range(0, n, CHUNK):
        k = min(CHUNK, n - done)
        await q.enqueue(["noop"] * k, [None] * k, [0] * k)  # list form = one bulk INSERT
    c = await count(conn)
    kinds = await conn.fetch(
        "SELECT relname, relpersistence::text AS relpersistence FROM pg_class"
        " WHERE relname IN ('pgqueuer', 'pgqueuer_log') ORDER BY relname"
    )
    await conn.close()
    log("tables: " + ", ".join(
        f"{r['relname']}={'unlogged' if r['relpersistence'] == 'u' else 'logged'}" for r in kinds))
    if c != n:
        raise RuntimeError(f"backlog has {c} jobs, expected {n}")
    log(f"enqueued {c} jobs")


async def drain(dsn: str, n: int) -> None:
    mon = await asyncpg.connect(dsn)  # monitor connection, opened before the clock
    conn = await asyncpg.connect(dsn)  # the worker's own connection
    handled = 0
    all_handled = asyncio.Event()

    qm = QueueManager(Queries(AsyncpgDriver(conn)))

    @qm.entrypoint("noop")
    async def noop(job: Job) -> None:
        nonlocal handled
        handled += 1
        if handled == n:
            all_handled.set()

    cpu0, t0 = cpu(), time.perf_counter()
    # Continuous mode (the normal worker mode); we stop it ourselves once the
    # table is empty. max_concurrent_tasks stays at its default (unlimited).
    run = asyncio.create_task(qm.run(batch_size=BATCH_SIZE))
    done, _ = await asyncio.wait({run, asyncio.create_task(all_handled.wait())},
                                 return_when=asyncio.FIRST_COMPLETED)
    if run in done:
        run.result()  # raise the worker's error
        raise RuntimeError("QueueManager stopped before finishing")
    # Every handler has run; the last ack batch may still be buffered. Wall
    # time ends when the queue table is really empty.
    while await count(mon) > 0:
        await asyncio.sleep(0.005)
    wall, cpu_s = time.perf_counter() - t0, cpu() - cpu0

    qm.shutdown.set()  # clean stop: run() flushes buffers and returns
    await asyncio.wait_for(run, 30)
    remaining = await count(mon)
    ok = await mon.fetchval("SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'")
    log_rows = await mon.fetchval("SELECT count(*) FROM pgqueuer_log")
    await mon.close()
    await conn.close()
    log(f"pgqueuer_log: {ok} successful, {log_rows} rows total")
    print(
        f"RESULT handled={handled} remaining={remaining} successful={ok} wall_s={wall:.3f} "
        f"cpu_s={cpu_s:.3f} cpu_total_s={cpu():.3f} version={version('pgqueuer')} "
        f"driver=asyncpg@{version('asyncpg')}",
        flush=True,
    )


def main() -> None:
    mode, dsn, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fn = {"setup": setup, "drain": drain}[mode]
    uvloop.run(fn(dsn, n))


if __name__ == "__main__":
    main()
