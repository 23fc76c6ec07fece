"""`tracker due` on a big collection (100,000 cards, 1,000,000 review logs), its slope, and Anki.

Three databases, 1x (1,000 cards, 10,000 logs), 10x and 100x, bulk-inserted through
sqlite3 (about 30% of the cards due by the end of today). Timed, the three sizes in
the same rounds: `tracker due --json` as a whole process (it prints every due card)
and the due count (`tracker status --json`, the figure the daily commands show).
In-process: the due count query alone (``tracker.course.load_due``).

Anki, where the `anki` package installs with pip (a throwaway venv in /tmp; skipped
in --quick and when pip cannot get it): a collection with as many cards, the same
share due, has its due count taken by the v3 scheduler (``col.sched.counts()`` on a
freshly opened collection, since the queues are cached after the first call; the
review limit raised to Anki's maximum, 9,999, so with ~30,000 due it stops early).
Each Anki run is a process (open the collection, count) that also reports the
in-process time of ``counts()``; it alternates with the tracker's, run by run.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.harness import (
    Context,
    Figure,
    Process,
    compared,
    interleave,
    plain,
    tracker_command,
)
from benchmarks.workspace import environment, init, tracker_env

NOW = datetime(2025, 11, 10, 8, 30, tzinfo=UTC)  # 08:30 UTC; the config says UTC
DUE_SHARE = 0.3
ANKI_VENV = Path("/tmp/anki-venv")
SCALES = (1, 10, 100)


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
build_s = time.perf_counter() - begin
def timed(fn, runs):
    fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter(); value = fn(); out.append(time.perf_counter() - t)
    return value, out
col.close()
print(json.dumps({"build_s": build_s, "due": len(due_ids)}))
"""

ANKI_COUNT = r"""
import json, sys, time
from anki.collection import Collection
col = Collection(sys.argv[1])
t = time.perf_counter(); counts = col.sched.counts(); elapsed = time.perf_counter() - t
col.close()
print(json.dumps({"counts": list(counts), "s": elapsed}))
"""


def anki_python(ctx: Context) -> str | None:
    python = ANKI_VENV / "bin" / "python"
    probe = [str(python), "-c", "import anki.collection"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return str(python)
    ctx.log(f"installing anki into {ANKI_VENV} ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(ANKI_VENV)], check=True,
                       capture_output=True)  # fmt: skip
        subprocess.run([str(python), "-m", "pip", "install", "-q", "anki"], check=True,
                       capture_output=True, timeout=600)  # fmt: skip
        subprocess.run(probe, check=True, capture_output=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        ctx.log(f"anki is not installable here ({type(exc).__name__}); no comparison")
        return None
    return str(python)


def count_query(env: dict[str, str]):  # noqa: ANN201 - (action, close)
    """An action that counts the due cards in this process, the store kept open."""
    with environment(env):
        from tracker.course import load_due
        from tracker.due import due_until
        from tracker.store import open_store

        store = open_store()
        until = due_until(store.clock, store.now())

    def count() -> int:
        with store.read() as session:
            return load_due(session, learner_id=store.learner_id, until=until).questions

    return count, store.close


def run(ctx: Context) -> Iterator[Figure]:
    base_cards = ctx.size(1000, 50)
    envs, labels, expected = {}, {}, {}
    for scale in SCALES if not ctx.quick else SCALES[:2]:
        cards, logs = base_cards * scale, base_cards * scale * 10
        env = tracker_env(ctx.tmp, f"x{scale}", now=NOW.isoformat())
        init(env)
        expected[scale] = build(Path(env["TRACKER_DB"]), cards, logs)
        envs[scale], labels[scale] = env, f"{scale}x ({cards:,} cards, {logs:,} logs)"
    top = max(envs)
    listing = {s: Process(tracker_command("due", "--json"), e) for s, e in envs.items()}
    listing[top]()
    listed = len(json.loads(listing[top].last_stdout))
    if listed != expected[top]:
        raise AssertionError(f"due listed {listed} cards, {expected[top]} are due")
    actions = {f"due {s}": p for s, p in listing.items()}
    actions |= {f"status {s}": Process(tracker_command("status", "--json"), e)
                for s, e in envs.items()}  # fmt: skip
    count, close = count_query(envs[top])
    actions["count"] = count
    python = None if ctx.quick else anki_python(ctx)
    anki_inner: list[float] = []
    if python:
        collection = ctx.tmp / "anki.anki2"
        made = subprocess.run(
            [python, "-c", ANKI_SCRIPT, str(base_cards * top), str(DUE_SHARE), str(collection)],
            capture_output=True, text=True, timeout=1800, check=True,
        )  # fmt: skip
        ctx.log(f"anki collection: {made.stdout.strip()}")
        anki = Process([python, "-c", ANKI_COUNT, str(collection)])

        def anki_count() -> None:
            anki_inner.append(json.loads(anki())["s"])

        actions["anki"] = anki_count
    try:
        t = interleave(actions, runs=ctx.runs_for(7), warmup=ctx.warmups())
    finally:
        close()
    for scale in envs:
        yield plain(f"due --json at {labels[scale]}", t[f"due {scale}"],
                    note=f"{expected[scale]:,} due cards printed")  # fmt: skip
    for scale in envs:
        yield plain(f"due count (status --json) at {labels[scale]}", t[f"status {scale}"])
    if python:
        anki_peer = "anki: open collection + sched.counts() (process)"
        yield compared(f"due count, whole process, {top}x (status --json)",
                       t[f"status {top}"], anki_peer, t["anki"])  # fmt: skip
        yield compared(f"due count query in-process, {top}x", t["count"],
                       "anki sched.counts() in-process", anki_inner,
                       note="Anki stops counting at its 9,999 review limit")  # fmt: skip
    else:
        yield plain(f"due count query in-process, {top}x", t["count"],
                    note="anki not measured (quick run or not installable)")  # fmt: skip
