"""`tracker due` on a big collection, and the same due count in Anki's own scheduler.

Run: .venv/bin/python benchmarks/bench_due.py [--cards 100000] [--logs 1000000] [--runs 7]
     [--anki-python /tmp/anki-venv/bin/python | --no-anki]

The tracker database gets 100,000 review cards (about 30% due by the end of
today) and 1,000,000 review logs, bulk-inserted through sqlite3 in one
transaction. Timed: `tracker due --json` as a whole process (a cold start
that also prints every due card; median of --runs), and the due count query
alone (tracker.due.count_due in-process, median of 50).

Anki: a throwaway venv under /tmp gets `pip install anki` (skipped when that
fails: no network, no wheel for this platform); a collection with the same
number of cards, the same share due, has its due count timed through the v3
scheduler (`col.sched.counts()` on a freshly opened collection, since the
queues are cached after the first call; the review limit raised to Anki's
maximum, 9,999, so with ~30,000 due it stops early) and through a search
(`col.find_cards("is:due")`, the full count). The ratios printed are
tracker's count query over each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import save, summary, tracker_command, wall_times  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 11, 10, 8, 30, tzinfo=UTC)  # 08:30 UTC; the config says UTC
DUE_SHARE = 0.3
ANKI_VENV = Path("/tmp/anki-venv")


def stamp(instant: datetime) -> str:
    """How SQLAlchemy's DateTime stores an instant on SQLite (UTCDateTime: naive UTC)."""
    return instant.strftime("%Y-%m-%d %H:%M:%S.%f")


def build(db: Path, cards: int, logs: int, seed: int = 1) -> int:
    """Bulk-insert cards and logs for learner 1; returns how many cards are due today."""
    rng = random.Random(seed)
    conn = sqlite3.connect(db)
    try:
        lessons = conn.execute("SELECT id, concept_id FROM lessons ORDER BY id").fetchall()
        learner = conn.execute("SELECT id FROM learners").fetchone()[0]
        end_of_today = datetime(2025, 11, 11, 4, 0, tzinfo=UTC)  # 04:00 day boundary
        due_count = 0
        card_rows = []
        for card_id in range(1, cards + 1):
            lesson, concept = lessons[card_id % len(lessons)]
            if rng.random() < DUE_SHARE:
                due = end_of_today - timedelta(minutes=rng.randrange(1, 60 * 24 * 30))
                due_count += 1
            else:
                due = end_of_today + timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
            last = due - timedelta(days=rng.randrange(1, 60))
            card_rows.append(
                (card_id, learner, lesson, concept, "question", card_id, 2, None,
                 rng.uniform(1, 300), rng.uniform(1, 10), stamp(due), stamp(last),
                 10, rng.randrange(3), 0, stamp(last - timedelta(days=200)))
            )  # fmt: skip
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO review_cards (id, learner_id, lesson_id, concept_id, kind, "
            "question_index, state, step, stability, difficulty, due, last_review, reps, "
            "lapses, suspended, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            card_rows,
        )
        start = NOW - timedelta(days=365)

        def log_rows():  # noqa: ANN202
            for n in range(logs):
                at = start + timedelta(seconds=rng.randrange(365 * 86400))
                local_date = (at - timedelta(hours=4)).date().isoformat()
                rating = rng.choice((1, 3, 3, 3, 3, 4))
                yield (n % cards + 1, learner, rating, stamp(at), local_date, rng.randrange(30000))

        conn.executemany(
            "INSERT INTO review_logs (card_id, learner_id, rating, reviewed_at, local_date, "
            "review_duration_ms) VALUES (?,?,?,?,?,?)",
            log_rows(),
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return due_count


def fine(times: list[float]) -> dict[str, float]:
    """timing.summary for sub-millisecond figures (microsecond rounding)."""
    return {
        "median_s": round(statistics.median(times), 7),
        "min_s": round(min(times), 7),
        "max_s": round(max(times), 7),
        "runs": len(times),
    }


def time_count_query(env: dict[str, str], runs: int = 50) -> dict[str, float]:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from tracker.due import count_due, due_until
    from tracker.reviews import list_due
    from tracker.store import open_store

    store = open_store()
    try:
        until = due_until(store.clock, store.now())
        with store.read() as session:
            count_due(session=session, learner_id=store.learner_id, until=until)  # warm
            times = []
            for _ in range(runs):
                begin = time.perf_counter()
                count = count_due(session=session, learner_id=store.learner_id, until=until)
                times.append(time.perf_counter() - begin)
            listing = []
            for _ in range(5):
                begin = time.perf_counter()
                rows = list_due(session, learner_id=store.learner_id, until=until)
                listing.append(time.perf_counter() - begin)
    finally:
        store.close()
    return {"count": count, "listed": len(rows), "count_query": fine(times),
            "list_due_in_process": fine(listing)}  # fmt: skip


ANKI_SCRIPT = r"""
import json, random, statistics, sys, time
from anki.collection import Collection, AddNoteRequest
cards, share, path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
rng = random.Random(1)
col = Collection(path)
model = col.models.by_name("Basic")
deck = 1
begin = time.perf_counter()
batch = []
for i in range(cards):
    note = col.new_note(model)
    note["Front"], note["Back"] = f"question {i}", f"answer {i}"
    batch.append(AddNoteRequest(note=note, deck_id=deck))
    if len(batch) == 5000:
        col.add_notes(batch); batch = []
if batch:
    col.add_notes(batch)
today = col.sched.today
ids = col.db.list("select id from cards")
due_ids, later_ids = [], []
for cid in ids:
    (due_ids if rng.random() < share else later_ids).append(cid)
col.db.executemany("update cards set type=2, queue=2, ivl=10, due=? where id=?",
                   [(today - rng.randrange(0, 30), c) for c in due_ids])
col.db.executemany("update cards set type=2, queue=2, ivl=10, due=? where id=?",
                   [(today + rng.randrange(1, 365), c) for c in later_ids])
conf = col.decks.config_dict_for_deck_id(deck)
conf["rev"]["perDay"] = min(cards * 2, 9999)  # Anki refuses more (falls back to 200)
conf["new"]["perDay"] = 0
col.decks.save(conf)
col.save() if hasattr(col, "save") else None
build_s = time.perf_counter() - begin
def timed(fn, runs):
    fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter(); value = fn(); out.append(time.perf_counter() - t)
    return value, out
found, search = timed(lambda: len(col.find_cards("is:due")), 10)
col.close()
# The v3 scheduler caches its queues after the first call, so each timed call
# gets a freshly opened collection: the cost of the day's first look.
sched = []
for _ in range(7):
    col = Collection(path)
    t = time.perf_counter(); counts = col.sched.counts(); sched.append(time.perf_counter() - t)
    col.close()
print(json.dumps({"build_s": build_s, "due": len(due_ids), "sched_counts": list(counts),
                  "sched_times": sched, "search_found": found, "search_times": search}))
"""


def anki_python(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    python = ANKI_VENV / "bin" / "python"
    probe = [str(python), "-c", "import anki.collection"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return str(python)
    print(f"installing anki into {ANKI_VENV} ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(ANKI_VENV)], check=True,
                       capture_output=True)  # fmt: skip
        subprocess.run([str(python), "-m", "pip", "install", "-q", "anki"], check=True,
                       capture_output=True, timeout=600)  # fmt: skip
        subprocess.run(probe, check=True, capture_output=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"anki is not installable here ({type(exc).__name__}); skipping the comparison")
        return None
    return str(python)


def time_anki(python: str, cards: int, tmp: Path) -> dict | None:
    result = subprocess.run(
        [python, "-c", ANKI_SCRIPT, str(cards), str(DUE_SHARE), str(tmp / "bench.anki2")],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if result.returncode != 0:
        print("anki benchmark failed:", result.stderr.strip().splitlines()[-1:])
        return None
    raw = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "build_s": round(raw["build_s"], 2),
        "due": raw["due"],
        "sched_counts": raw["sched_counts"],
        "sched_counts_time": fine(raw["sched_times"]),
        "find_cards_is_due": raw["search_found"],
        "find_cards_time": fine(raw["search_times"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--anki-python", default=None)
    parser.add_argument("--no-anki", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config = tmp / "c.toml"
        config.write_text('timezone = "UTC"\n')
        env = {"TRACKER_DB": str(tmp / "bench.db"), "TRACKER_CONFIG": str(config),
               "TRACKER_NOW": NOW.isoformat()}  # fmt: skip
        wall_times(tracker_command("init"), 1, env)
        begin = time.perf_counter()
        due_today = build(tmp / "bench.db", args.cards, args.logs)
        build_s = time.perf_counter() - begin
        size_mb = (tmp / "bench.db").stat().st_size / 1e6
        print(f"built {args.cards:,} cards ({due_today:,} due today) and {args.logs:,} logs "
              f"in {build_s:.1f} s ({size_mb:.0f} MB)")  # fmt: skip
        out = subprocess.run(tracker_command("due", "--json"), capture_output=True, text=True,
                             env={**os.environ, **env}, check=True)  # fmt: skip
        listed = len(json.loads(out.stdout))
        assert listed == due_today, (listed, due_today)
        due_json = summary(wall_times(tracker_command("due", "--json"), args.runs, env))
        query = time_count_query(env)
        anki = None
        if not args.no_anki:
            python = anki_python(args.anki_python)
            if python:
                anki = time_anki(python, args.cards, tmp)
    document = {
        "cards": args.cards,
        "logs": args.logs,
        "due_today": due_today,
        "build_s": round(build_s, 2),
        "tracker_due_json": due_json,
        **query,
        "anki": anki,
    }
    print(f"tracker due --json (whole process, {listed:,} cards printed)  "
          f"median {due_json['median_s']:.3f} s")  # fmt: skip
    count_ms = query["count_query"]["median_s"] * 1000
    print(f"due count query (in-process)                  median {count_ms:.2f} ms")
    list_ms = query["list_due_in_process"]["median_s"] * 1000
    print(f"list_due with prompts (in-process)            median {list_ms:.1f} ms")
    if anki:
        sched_ms = anki["sched_counts_time"]["median_s"] * 1000
        find_ms = anki["find_cards_time"]["median_s"] * 1000
        ratio = round(query["count_query"]["median_s"] / anki["sched_counts_time"]["median_s"], 3)
        document["ratio_count_vs_anki_sched"] = ratio
        document["ratio_count_vs_anki_search"] = round(
            query["count_query"]["median_s"] / anki["find_cards_time"]["median_s"], 3
        )
        print(f"anki col.sched.counts() {anki['sched_counts']}          median {sched_ms:.2f} ms")
        print(f"anki find_cards('is:due') -> {anki['find_cards_is_due']:,}       "
              f"median {find_ms:.2f} ms")  # fmt: skip
        print(f"ratio tracker count / anki sched.counts: {ratio}x "
              f"(/ find_cards: {document['ratio_count_vs_anki_search']}x)")  # fmt: skip
    else:
        print("anki: not measured")
    path = save("due", document)
    print(f"saved to {path}")


if __name__ == "__main__":
    main()
