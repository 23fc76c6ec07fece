"""`tracker db check` finds damaged rows and `--repair` fixes them, once.

Each problem is made in the file (foreign keys off, a row edited behind the
tracker's back), found by `db check` with exit 1, fixed by `db check --repair`
after a backup, and a second repair finds nothing (Anki's check-database tests
assert the same idempotence). A database used the normal way is clean.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.review_support import card_rows
from tracker.db.backups import backup_folder
from tracker.store import open_store
from tracker.usecases.checkin import learn
from tracker.usecases.maintenance import check_database
from tracker.usecases.reviews import rate

DAY1 = datetime(2026, 11, 2, 10, tzinfo=UTC)
NOW = "2026-12-01T12:00:00+00:00"


def _used(db: str | None = None):  # noqa: ANN202 - a Store
    """A learner who studied transformer-1 and rated its cards over a few days."""
    store = open_store(db, now=DAY1)
    learn(store, learner_id=store.learner_id, now=DAY1, lesson_id="transformer-1")
    cards = sorted(card_rows(store))
    for day, rating in ((3, "good"), (6, "hard"), (12, "good")):
        at = DAY1.replace(day=DAY1.day + day)
        for card in cards:
            rate(store, learner_id=store.learner_id, now=at, card_id=card, rating=rating)
    return store, cards


def _sql(db_path: Path, *statements: str) -> None:
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def _check(cli_run, *args: str):  # noqa: ANN001, ANN202
    result = cli_run("db", "check", *args, "--json", env={"TRACKER_NOW": NOW})
    return result.exit_code, json.loads(result.stdout)


def test_a_database_used_the_normal_way_has_no_problems(cli_run, db_path: Path) -> None:
    store, _ = _used()
    store.close()
    code, report = _check(cli_run)
    assert (code, report["problems"]) == (0, [])
    code, report = _check(cli_run, "--repair")
    assert (code, report["repaired"], report["backup"]) == (0, [], None)
    assert not list(backup_folder(db_path).glob("*.before-repair.db"))  # nothing to repair


def test_orphan_rows_are_cleared_or_deleted_once(cli_run, db_path: Path) -> None:
    store, cards = _used()
    store.close()
    _sql(
        db_path,
        # a card whose lesson vanished: the card goes, then its three logs
        "INSERT INTO review_cards (id, learner_id, lesson_id, concept_id, kind, question_index,"
        " state, due, reps, lapses, suspended, created_at) VALUES (900, 1, 'gone-1', 'gone',"
        " 'question', 0, 1, '2026-11-02 10:00:00', 0, 0, 0, '2026-11-02 10:00:00')",
        *(
            "INSERT INTO review_logs (card_id, learner_id, rating, reviewed_at, local_date)"
            f" VALUES (900, 1, 3, '2026-11-0{n} 10:00:00', '2026-11-0{n}')"
            for n in (3, 4, 5)
        ),
        # a session that points at a submission that is not there: the session stays
        "UPDATE study_sessions SET submission_id = 777",
    )
    code, report = _check(cli_run)
    assert code == 1
    assert report["problems"] == [  # the card's lesson and concept, the session's submission
        "3 references point at missing rows (foreign keys)",
        "1 cards of retired lessons or removed questions are still scheduled (cards 900)",
        "1 cards have a schedule that disagrees with their review log (cards 900)",
    ]
    code, report = _check(cli_run, "--repair")
    assert (code, report["problems"]) == (0, [])
    assert report["repaired"] == [
        "cleared 1 references to missing rows",
        "deleted 4 rows that pointed at missing rows",
    ]
    with sqlite3.connect(db_path) as conn:
        sessions = conn.execute("SELECT count(*), max(submission_id) FROM study_sessions")
        assert sessions.fetchone() == (1, None)
        assert conn.execute("SELECT count(*) FROM review_cards").fetchone() == (len(cards),)
        assert conn.execute("SELECT count(*) FROM review_logs").fetchone() == (3 * len(cards),)
    # the backup taken first still has what was removed
    with sqlite3.connect(report["backup"]) as conn:
        kept = conn.execute("SELECT count(*) FROM review_logs WHERE card_id = 900")
        assert kept.fetchone() == (3,)
    assert Path(report["backup"]).name == "tracker.2026-12-01T120000Z.before-repair.db"
    code, again = _check(cli_run, "--repair")
    assert (code, again["problems"], again["repaired"], again["backup"]) == (0, [], [], None)


def test_cards_of_retired_questions_are_suspended_once(cli_run, db_path: Path) -> None:
    store, cards = _used()
    store.close()
    first, second, third = cards
    _sql(
        db_path,
        # the lesson lost its last question, but its card was left pointing at it
        "UPDATE lessons SET questions_json = json_remove(questions_json, '$[2]')"
        " WHERE id = 'transformer-1'",
        # a card whose question was removed (negative index) was taken off suspension
        f"UPDATE review_cards SET question_index = -{second}, suspended = 0 WHERE id = {second}",
    )
    code, report = _check(cli_run)
    assert code == 1
    assert (
        f"2 cards of retired lessons or removed questions are still scheduled "
        f"(cards {second}, {third})" in report["problems"]
    )
    code, report = _check(cli_run, "--repair")
    assert report["repaired"] == ["suspended 2 cards of retired lessons or removed questions"]
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT id, suspended, question_index FROM review_cards ORDER BY id")
        assert list(rows) == [(first, 0, 0), (second, 1, -second), (third, 1, -third)]
        assert conn.execute("SELECT count(*) FROM review_logs").fetchone() == (9,)  # kept
    assert (code, report["problems"]) == (0, [])
    code, again = _check(cli_run, "--repair")
    assert again["repaired"] == []


def test_a_card_of_a_retired_lesson_back_in_the_queue_is_suspended(cli_run, db_path: Path) -> None:
    store, cards = _used()
    store.close()
    _sql(db_path, "UPDATE lessons SET retired = 1 WHERE id = 'transformer-1'")
    assert _check(cli_run)[1]["problems"][0].startswith("3 cards of retired lessons")
    code, report = _check(cli_run, "--repair")
    assert report["repaired"] == ["suspended 3 cards of retired lessons or removed questions"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT sum(suspended) FROM review_cards").fetchone() == (3,)
    assert _check(cli_run, "--repair")[1]["repaired"] == []


def test_a_schedule_that_lost_a_rating_is_replayed_from_the_log(cli_run, db_path: Path) -> None:
    store, cards = _used()
    good = card_rows(store)
    store.close()
    card = cards[0]
    with sqlite3.connect(db_path) as conn:  # the cache as it was before the last rating
        (before,) = conn.execute(
            "SELECT card_before FROM review_logs WHERE card_id = ? ORDER BY id DESC LIMIT 1",
            (card,),
        ).fetchone()
    saved = json.loads(before)
    _sql(
        db_path,
        f"UPDATE review_cards SET reps = {saved['reps']}, due = '2027-06-01 00:00:00',"
        f" last_review = '{saved['last_review'].replace('T', ' ')[:19]}' WHERE id = {card}",
    )
    code, report = _check(cli_run)
    assert code == 1
    assert report["problems"] == [
        f"1 cards have a schedule that disagrees with their review log (cards {card})"
    ]
    code, report = _check(cli_run, "--repair")
    assert (code, report["repaired"]) == (0, ["replayed 1 card schedules from their review logs"])
    store = open_store()
    try:
        assert card_rows(store)[card] == good[card]  # what the live ratings had made
    finally:
        store.close()
    assert _check(cli_run, "--repair")[1]["repaired"] == []


def test_a_file_out_of_wal_is_put_back(cli_run, db_path: Path) -> None:
    store, _ = _used()
    store.close()
    sqlite3.connect(db_path).execute("PRAGMA journal_mode = DELETE").close()
    code, report = _check(cli_run)
    assert code == 1 and report["problems"][0].startswith("journal mode is delete, not wal")
    code, report = _check(cli_run, "--repair")
    assert (code, report["repaired"], report["journal_mode"]) == (
        0,
        ["journal mode set to wal"],
        "wal",
    )
    assert _check(cli_run, "--repair")[1]["repaired"] == []


def test_a_damaged_file_is_not_repaired_but_pointed_at_its_backups(cli_run, db_path: Path) -> None:
    store, _ = _used()
    store.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'review_logs'"
        ).fetchone()[0]
    data = bytearray(db_path.read_bytes())
    start = (root - 1) * page_size
    data[start + 8 : start + page_size] = b"\x07" * (page_size - 8)
    db_path.write_bytes(bytes(data))
    before = db_path.read_bytes()
    result = cli_run("db", "check", "--repair", env={"TRACKER_NOW": NOW})
    assert result.exit_code == 1
    assert (
        "problem: the file itself is damaged: restore a backup (`tracker db backups`)"
        in result.stdout
    )
    assert db_path.read_bytes() == before


@pytest.mark.postgres
def test_repair_on_postgresql(pg_url: str) -> None:
    store, cards = _used(pg_url)
    try:
        with store.write() as session:
            session.execute(text("UPDATE lessons SET retired = true WHERE id = 'transformer-1'"))
            session.execute(text(f"UPDATE review_cards SET reps = 0 WHERE id = {cards[0]}"))
        report = check_database(store)
        assert [p.split(" (")[0] for p in report.problems] == [
            "3 cards of retired lessons or removed questions are still scheduled",
            "1 cards have a schedule that disagrees with their review log",
        ]
        report = check_database(store, repair=True, now=DAY1)
        assert report.problems == [] and report.backup is None
        assert report.repaired == [
            "suspended 3 cards of retired lessons or removed questions",
            "replayed 1 card schedules from their review logs",
        ]
        assert check_database(store, repair=True, now=DAY1).repaired == []
    finally:
        store.close()


DAMAGE = {
    "lost rating": "UPDATE review_cards SET reps = reps - 1, last_review = NULL WHERE id = {card}",
    "invented rating": "UPDATE review_cards SET reps = reps + 2 WHERE id = {card}",
    "back in the queue": (
        "UPDATE review_cards SET suspended = 0, question_index = -id WHERE id = {card}"
    ),
    "question gone": (
        "UPDATE lessons SET questions_json = '[]' WHERE id = "
        "(SELECT lesson_id FROM review_cards WHERE id = {card})"
    ),
    "lesson retired": (
        "UPDATE lessons SET retired = 1 WHERE id = "
        "(SELECT lesson_id FROM review_cards WHERE id = {card})"
    ),
    "log of no card": (
        "INSERT INTO review_logs (card_id, learner_id, rating, reviewed_at, local_date)"
        " VALUES ({card} + 1000, 1, 3, '2026-11-20 10:00:00', '2026-11-20')"
    ),
    "session of no submission": "UPDATE study_sessions SET submission_id = {card} + 500",
    "card of no learner": "UPDATE review_cards SET learner_id = 77 WHERE id = {card}",
}


def test_any_mix_of_damage_is_repaired_in_one_run_and_the_next_finds_nothing(
    tmp_path: Path, tracker_env: Path
) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    store, cards = _used()
    store.close()
    template = tmp_path / "template.db"
    sqlite3.connect(tracker_env / "tracker.db").execute(f"VACUUM INTO '{template}'").close()
    sqlite3.connect(template).execute("PRAGMA journal_mode = WAL").close()  # as ours are
    damage = st.lists(
        st.tuples(st.sampled_from(sorted(DAMAGE)), st.sampled_from(cards)), min_size=1, max_size=6
    )
    runs = iter(range(10**6))

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    @given(damage)
    def check(injected: list[tuple[str, int]]) -> None:
        db = tmp_path / f"case-{next(runs)}.db"
        db.write_bytes(template.read_bytes())
        _sql(db, *(DAMAGE[kind].format(card=card) for kind, card in injected))
        opened = open_store(str(db), prepare=False)
        try:
            found = check_database(opened)
            assert found.journal_mode == "wal" and not found.ok, injected
            repaired = check_database(opened, repair=True, now=DAY1)
            assert repaired.repaired and repaired.problems == [], (injected, repaired)
            again = check_database(opened, repair=True, now=DAY1)
            assert (again.repaired, again.problems, again.backup) == ([], [], None)
        finally:
            opened.close()

    check()


def test_the_text_report_says_the_backup_and_each_repair(cli_run, db_path: Path) -> None:
    from tracker.db.schema import HEAD_REVISION

    store, _ = _used()
    store.close()
    _sql(db_path, "UPDATE lessons SET retired = 1 WHERE id = 'transformer-1'")
    result = cli_run("db", "check", "--repair", env={"TRACKER_NOW": NOW})
    backup = backup_folder(db_path) / "tracker.2026-12-01T120000Z.before-repair.db"
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"database: {db_path}\n"
        f"schema revision: {HEAD_REVISION} (head {HEAD_REVISION})\n"
        "journal mode: wal\n"
        f"backup before repair: {backup}\n"
        "repaired: suspended 3 cards of retired lessons or removed questions\n"
        "ok\n"
    )
