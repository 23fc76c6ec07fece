"""The process tests/test_crash_safety.py kills: use cases in a loop, each commit noted.

Run as ``python tests/crash_child.py FOLDER``. It imports everything once (a
zygote), then reads commands on stdin:

- ``run N SEED [db=PATH] [first=submit]``: fork a child that opens the store
  (``PATH``, else ``TRACKER_DB``; the first run creates it) as learner
  ``learner-{N // 2}`` (a new learner every other run: first passes, new cards)
  and loops over check-ins, reviews, ``learn``, ``import posts`` and cold
  ``submit`` (``TRACKER_CRASH_SUBMIT=0`` leaves submit out; ``first=submit``
  starts with one), on a virtual clock of its own (run N starts 40 days after
  run N-1, each step is 7 hours later); the child's pid is printed;
- ``wait PID``: reap it and print its wait status.

After every use case returns (its transaction committed) the child appends
one JSON line to ``FOLDER/committed.log`` saying what it wrote, in one
``write`` on an ``O_APPEND`` descriptor. A kill can land between a commit and
its line (a write not claimed is allowed), never the other way round. A
Python error in a child goes to ``FOLDER/child-errors.log`` and exit 1.
"""

from __future__ import annotations

import json
import os
import random
import sys
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.import_support import make_post  # noqa: E402

BASE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
RUN_DAYS = 40
STEP = timedelta(hours=7)
STEPS = RUN_DAYS * 24 // 7  # a run that is never killed stops before the next one's days
SUBMIT_LESSON = "attention-mechanism-1"
CORRECT = ROOT / "tests" / "submissions" / SUBMIT_LESSON / "correct_matmul.py"
# Concepts a journal post names (their titles), each with a depth-1 lesson.
POST_CONCEPTS = {
    "Transformer": "transformer",
    "Scaling laws": "scaling-laws",
    "RLHF": "rlhf",
    "Alignment": "alignment",
    "State-space models": "state-space-models",
}
RATINGS = (1, 2, 3, 4)
SUBMIT_SHARE = 0.04
CURRICULUM = None  # loaded once by the zygote, as a long-lived process would


def preload(with_submit: bool) -> None:
    """Import what the loop uses, so a forked child starts in milliseconds."""
    import tracker.curriculum.loader  # noqa: F401
    import tracker.curriculum.sync  # noqa: F401
    import tracker.db.models  # noqa: F401
    import tracker.importers.repair  # noqa: F401
    import tracker.ledger  # noqa: F401
    import tracker.scheduling  # noqa: F401
    import tracker.usecases.checkin  # noqa: F401
    import tracker.usecases.importing  # noqa: F401
    import tracker.usecases.reviews  # noqa: F401
    import tracker.usecases.submit  # noqa: F401
    from tracker.importers.korean import load_lexicon

    load_lexicon()  # cached: the repair's model of Korean, a second to build
    global CURRICULUM
    CURRICULUM = tracker.curriculum.loader.load_curriculum()
    if with_submit:
        import safetensors.torch  # noqa: F401
        import torch  # noqa: F401

        import tracker.validation.runner  # noqa: F401
        import tracker.validation.sandbox  # noqa: F401


class Journal:
    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def note(self, **entry: object) -> None:
        os.write(self.fd, (json.dumps(entry, default=str) + "\n").encode())


def write_post(folder: Path, name: str, text: str) -> Path:
    """The post, whole or not at all (a temporary file renamed into place)."""
    folder.mkdir(exist_ok=True)
    target = folder / name
    partial = folder / f".{name}.partial"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)
    return target


def loop(folder: Path, run: int, seed: int, with_submit: bool, first: str | None) -> None:
    from dataclasses import replace

    from sqlalchemy import text

    from tracker.config import load_settings
    from tracker.errors import TrackerError
    from tracker.store import open_store
    from tracker.usecases.checkin import checkin, learn
    from tracker.usecases.importing import import_posts
    from tracker.usecases.reviews import rate, review_queue
    from tracker.usecases.submit import SubmitRequest, submit

    rng = random.Random(seed)
    journal = Journal(folder / "committed.log")
    start = BASE + timedelta(days=RUN_DAYS * run)
    settings = replace(load_settings(), learner=f"learner-{run // 2}")
    store = open_store(settings=settings, now=start)
    learner = store.learner_id
    with store.read() as session:
        readable = [
            row[0]
            for row in session.execute(
                text("SELECT id FROM lessons WHERE NOT has_exercise ORDER BY id")
            )
        ]
    ops = ["review"] * 4 + ["checkin"] * 2 + ["learn"] * 2 + ["import"] * 2
    for step in range(STEPS):
        now = start + step * STEP
        # A cold submit takes seconds (the sandbox): now and then, so most kills land in writes.
        op = "submit" if with_submit and rng.random() < SUBMIT_SHARE else rng.choice(ops)
        if step == 0 and first is not None:
            op = first
        if op == "checkin":
            document = checkin(store, learner_id=learner, now=now)
            journal.note(op="checkin", learner=learner, date=document.date)
        elif op == "learn":
            lesson = rng.choice(readable)
            record = learn(store, learner_id=learner, now=now, lesson_id=lesson, force=True)
            journal.note(
                op="learn",
                learner=learner,
                lesson=lesson,
                date=record.date,
                first=record.first_pass,
            )
        elif op == "review":
            cards = review_queue(store, learner_id=learner, now=now).ratable
            if not cards:
                continue
            card = rng.choice(cards[:5]).card
            try:
                result = rate(
                    store, learner_id=learner, now=now, card_id=card, rating=rng.choice(RATINGS)
                )
            except TrackerError:
                continue  # a card rated later than ``now`` by an earlier run: a user's error
            if result.log_id is not None:
                journal.note(op="review", learner=learner, card=card, log=result.log_id)
        elif op == "import":
            day = store.clock.local_day(now)
            focus, earlier = rng.choice(list(POST_CONCEPTS)), rng.choice(list(POST_CONCEPTS))
            on = day - timedelta(days=rng.randrange(1, 400))
            name = f"post-{run}-{step}.md"
            post = make_post(day.isoformat(), focus, 1, connections=[(on.isoformat(), earlier, 1)])
            # What the post holds, written before it: the test's key to the post's rows.
            keys = [[learner, day.isoformat(), POST_CONCEPTS[focus], 1]]
            keys.append([learner, on.isoformat(), POST_CONCEPTS[earlier], 1])
            write_post(folder / "posts", f"{name}.json", json.dumps(keys))
            path = write_post(folder / "posts", name, post)
            report = import_posts(
                store, learner_id=learner, now=now, paths=[path], curriculum=CURRICULUM
            )
            sessions = [
                [learner, ref.date.isoformat(), ref.concept, ref.depth]
                for file in report.files
                for ref in (*file.added, *file.already)
            ]
            journal.note(op="import", post=name, sessions=sessions)
        elif op == "submit":
            request = SubmitRequest(lesson_id=SUBMIT_LESSON, path=CORRECT)
            outcome = submit(store, request, learner_id=learner, now=now)
            journal.note(
                op="submit",
                learner=learner,
                request=request.request_id,
                passed=outcome.verdict.passed,
                practice=outcome.practice,
            )
    store.close()


def main() -> None:
    folder = Path(sys.argv[1])
    with_submit = os.environ.get("TRACKER_CRASH_SUBMIT", "1") != "0"
    preload(with_submit)
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "run":
            pid = os.fork()
            if pid == 0:
                code = 0
                options = dict(word.split("=", 1) for word in words[3:])
                if "db" in options:
                    os.environ["TRACKER_DB"] = options["db"]
                try:
                    run, seed = int(words[1]), int(words[2])
                    loop(folder, run, seed, with_submit, options.get("first"))
                except BaseException:  # noqa: BLE001 - every error is the test's business
                    with open(folder / "child-errors.log", "a") as errors:
                        errors.write(f"run {words[1]}:\n{traceback.format_exc()}\n")
                    code = 1
                os._exit(code)
            print(pid, flush=True)
        elif words[0] == "wait":
            _, status = os.waitpid(int(words[1]), 0)
            print(status, flush=True)


if __name__ == "__main__":
    main()
