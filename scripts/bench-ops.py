#!/usr/bin/env python3
"""Times the operations paths on a large outbox: health, stats --format prometheus, and the
dashboard's pages. Prints figures; asserts nothing. Usage:

    cargo build --release && python3 scripts/bench-ops.py [PROCESSED_ROWS]   (default 1,000,000)
"""
import os, socket, sqlite3, statistics, subprocess, sys, tempfile, time, urllib.request, uuid
from datetime import datetime, timedelta, timezone

BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "outboxctl")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
FMT = "%Y-%m-%d %H:%M:%S.%f"


def best(f, runs=7):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return min(times), statistics.median(times)


def main():
    d = tempfile.mkdtemp()
    db = os.path.join(d, "outbox.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTBOX_")}
    env.update(OUTBOX_DATABASE=db, OUTBOX_NOW=NOW.strftime(FMT), OUTBOX_DASHBOARD_TOKEN="bench-token-0123456789")
    subprocess.run([BIN, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
    c = sqlite3.connect(db)
    t = time.perf_counter()
    # Processed rows spread over the last 24 hours: the chart's worst case.
    rows = ((str(uuid.uuid4()), f"Type{i % 20}", '{"n":1}',
             (NOW - timedelta(seconds=86400 * i / N + 5)).strftime(FMT),
             (NOW - timedelta(seconds=86400 * i / N)).strftime(FMT)) for i in range(N))
    c.executemany("INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, ProcessedOnUtc) VALUES (?,?,?,?,?)", rows)
    un = [(str(uuid.uuid4()), f"Type{i % 20}", '{"n":1}', (NOW - timedelta(minutes=i % 60)).strftime(FMT),
           "boom" if i % 5 == 0 else None, (NOW - timedelta(minutes=1)).strftime(FMT) if i % 10 == 0 else None)
          for i in range(1000)]
    c.executemany("INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, Error, DeadOnUtc) VALUES (?,?,?,?,?,?)", un)
    c.executemany("INSERT INTO OutboxMessage_Attempt (MessageId, Attempt, FailedOnUtc, Error) VALUES (?,1,?,'boom')",
                  [(u[0], (NOW - timedelta(minutes=i % 1440)).strftime(FMT)) for i, u in enumerate(un) if u[4]])
    c.commit()
    c.close()
    print(f"outbox: {N:,} processed rows over 24h + 1,000 unprocessed (built in {time.perf_counter() - t:.0f}s)")
    print(f"database file: {os.path.getsize(db) / 1e6:.0f} MB")

    def run(*args):
        subprocess.run([BIN, *args], env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    for label, args in [("health --max-lag 5m --max-dead 0 (whole process)", ["health", "--max-lag", "5m", "--max-dead", "0"]),
                        ("stats --format prometheus (whole process)", ["stats", "--format", "prometheus"])]:
        lo, med = best(lambda: run(*args))
        print(f"{label:55s} best {lo:7.1f} ms  median {med:7.1f} ms")

    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    p = subprocess.Popen([BIN, "dashboard", "--listen", f"127.0.0.1:{port}"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
        first = un[0][0]
        for path in ["/", "/?range=24h", "/?range=7d", "/messages?state=unprocessed",
                     "/messages?state=processed", "/messages?state=processed&page=2000", f"/messages/{first}"]:
            url = f"http://127.0.0.1:{port}{path}"
            lo, med = best(lambda: urllib.request.urlopen(url).read())
            print(f"dashboard GET {path:41s} best {lo:7.1f} ms  median {med:7.1f} ms")
    finally:
        p.terminate()
        p.wait()


if __name__ == "__main__":
    main()
