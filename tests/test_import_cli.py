"""`tracker import posts`: what lands in the database, what is told, and what is never half-done."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.import_support import damaged_samples, make_post, rendered_text
from tracker.importers.repair import damage, repair_journal

ROOT = Path(__file__).resolve().parents[1]


def run_json(cli_run, *args: str) -> tuple[int, dict]:  # noqa: ANN001
    result = cli_run("import", "posts", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def sessions(db_path: Path) -> list[tuple[str, str, int, str]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT local_date, concept_id, depth, kind FROM study_sessions "
            "ORDER BY local_date, concept_id"
        ).fetchall()


def counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("study_sessions", "progress", "review_cards", "review_logs")
        }


def refs(entries: list[dict]) -> list[tuple[str, str, int]]:
    return [(e["date"], e["concept"], e["depth"]) for e in entries]


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    folder = tmp_path / "posts"
    folder.mkdir()
    for path in damaged_samples():
        shutil.copy(path, folder / path.name)
    return folder


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


SAMPLE_SESSIONS = [
    ("2025-10-13", "transformer", 1, "import"),
    ("2025-10-16", "attention-mechanism", 1, "import"),
    ("2025-10-20", "positional-encoding", 2, "import"),
    ("2025-11-03", "attention-mechanism", 1, "import"),
    ("2025-11-10", "multi-head-attention", 2, "import"),
    ("2025-11-14", "flash-attention", 3, "import"),
]


def test_the_samples_import_with_their_dates_concepts_and_depths(
    cli_run, samples: Path, db_path: Path
) -> None:
    code, report = run_json(cli_run, str(samples))
    assert code == 0
    assert (report["added"], report["already"], report["skipped"]) == (6, 0, 0)
    first, second = report["files"]
    assert first["path"].endswith("2025-10-20-positional-encoding.md")
    assert first["date"] == "2025-10-20"
    assert refs(first["added"]) == [
        ("2025-10-20", "positional-encoding", 2),
        ("2025-10-13", "transformer", 1),
        ("2025-10-16", "attention-mechanism", 1),
    ]
    assert refs(second["added"]) == [
        ("2025-11-14", "flash-attention", 3),
        ("2025-11-10", "multi-head-attention", 2),
        ("2025-11-03", "attention-mechanism", 1),
    ]
    assert second["added"][0]["lesson"] == "flash-attention-3"
    assert first["repaired"] == {
        "characters": 9,
        "guessed": 0,
        "unrecoverable": 0,
        "method": "cp1254",
    }
    assert second["repaired"]["characters"] == 221
    assert sessions(db_path) == SAMPLE_SESSIONS
    history = json.loads(cli_run("history", "--json").stdout)
    assert [(e["date"], e["concept"], e["depth"], e["kind"]) for e in history] == SAMPLE_SESSIONS
    concepts = {c["id"]: c["depth"] for c in json.loads(cli_run("concepts", "--json").stdout)}
    assert {k: v for k, v in concepts.items() if v} == {
        "attention-mechanism": 1,
        "transformer": 1,
        "positional-encoding": 2,
        "multi-head-attention": 2,
        "flash-attention": 3,
    }
    lessons = {row["id"]: row["status"] for row in json.loads(cli_run("lessons", "--json").stdout)}
    assert lessons["flash-attention-3"] == "passed"
    assert lessons["flash-attention-1"] != "passed"


def test_the_text_summary(cli_run, samples: Path) -> None:
    result = cli_run("import", "posts", str(samples / "2025-10-20-positional-encoding.md"))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{samples / '2025-10-20-positional-encoding.md'}  2025-10-20: 3 added, 0 already there",
        "  + 2025-10-20 positional-encoding@2",
        "  + 2025-10-13 transformer@1",
        "  + 2025-10-16 attention-mechanism@1",
        "  repaired 9 characters (lost bytes restored)",
        "imported 3 sessions from 1 post: 0 already there, 0 skipped",
    ]


def test_a_post_named_twice_is_read_once(cli_run, samples: Path) -> None:
    one = samples / "2025-10-20-positional-encoding.md"
    code, report = run_json(cli_run, str(samples), str(one), str(one))
    assert code == 0
    assert [Path(f["path"]).name for f in report["files"]] == sorted(
        p.name for p in samples.iterdir()
    )


def test_importing_again_changes_nothing(cli_run, samples: Path, db_path: Path) -> None:
    run_json(cli_run, str(samples))
    before = (counts(db_path), cli_run("history", "--json").stdout)
    code, report = run_json(cli_run, str(samples))
    assert code == 0  # everything was already there
    assert (report["added"], report["already"], report["skipped"]) == (0, 6, 0)
    assert (counts(db_path), cli_run("history", "--json").stdout) == before


def test_overlapping_connection_lists_import_each_session_once(
    cli_run, tmp_path: Path, db_path: Path
) -> None:
    folder = tmp_path / "journal"
    write(folder, "a.md", make_post("2025-11-03", "Attention Mechanism", 1))
    write(
        folder,
        "b.md",
        make_post(
            "2025-11-10", "Multi-Head Attention", 2, [("2025-11-03", "Attention Mechanism", 1)]
        ),
    )
    write(
        folder,
        "c.md",
        make_post(
            "2025-11-14",
            "Flash Attention",
            3,
            [("2025-11-10", "Multi-Head Attention", 2), ("2025-11-03", "Attention Mechanism", 1)],
        ),
    )
    code, report = run_json(cli_run, str(folder))
    assert code == 0
    assert (report["added"], report["already"]) == (3, 3)
    assert [len(f["added"]) for f in report["files"]] == [1, 1, 1]
    assert sessions(db_path) == [
        ("2025-11-03", "attention-mechanism", 1, "import"),
        ("2025-11-10", "multi-head-attention", 2, "import"),
        ("2025-11-14", "flash-attention", 3, "import"),
    ]


def test_a_rendered_text_copy_imports_the_same_sessions_as_its_markdown(
    cli_run, tmp_path: Path, db_path: Path
) -> None:
    markdown = damaged_samples()[1].read_text(encoding="utf-8")
    copied = rendered_text(repair_journal([markdown])[0].text)  # what the page shows
    write(tmp_path / "md", "2025-11-14-flash-attention.md", markdown)
    write(tmp_path / "txt", "copied from the page.txt", copied)
    _, from_text = run_json(cli_run, str(tmp_path / "txt"))
    assert from_text["files"][0]["date"] == "2025-11-14"
    _, from_markdown = run_json(cli_run, str(tmp_path / "md"))
    assert refs(from_text["files"][0]["added"]) == refs(from_markdown["files"][0]["already"])
    assert from_markdown["added"] == 0 and from_text["added"] == 3
    assert len(sessions(db_path)) == 3


def test_bad_input_is_named_with_its_reason_and_the_rest_still_imported(
    cli_run, tmp_path: Path, db_path: Path
) -> None:
    folder = tmp_path / "journal"
    write(folder, "2025-11-01-good.md", make_post("2025-11-01", "Transformer", 1))
    write(folder, "binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    write(folder, "empty.md", "")
    write(folder, "blank.txt", "  \n\n")
    write(
        folder,
        "no-date.md",
        make_post("x", "Transformer", 1, front_matter=False, heading_date=False),
    )
    write(folder, "2025-02-30-impossible.md", make_post("2025-02-30", "Transformer", 1))
    write(folder, "latin1.md", "caf\xe9 (Depth 1)".encode("latin-1"))
    write(
        folder,
        "2025-11-05-unknown.md",
        make_post("2025-11-05", "Quantum Knitting", 2, [("2025-11-02", "Attention Mechanism", 1)]),
    )
    (folder / "broken-link.md").symlink_to(tmp_path / "gone.md")
    result = cli_run("import", "posts", str(folder))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()

    by_file = {}
    current = None
    for line in lines[:-1]:
        if line.startswith("  "):
            by_file[current].append(line)
        else:
            current = line.split("  ", 1)[0]
            by_file[current] = [line]
    path = lambda name: str(folder / name)  # noqa: E731
    assert by_file[path("binary.md")][1:] == ["  - file: a binary file, not a text post"]
    assert by_file[path("empty.md")][1:] == ["  - file: empty file"]
    assert by_file[path("blank.txt")][1:] == ["  - file: empty file"]
    assert by_file[path("broken-link.md")][1:] == [
        "  - file: cannot read: No such file or directory"
    ]
    assert by_file[path("latin1.md")][1:] == [
        "  - file: not UTF-8 text (byte 0xe9 at offset 3 cannot be decoded)"
    ]
    assert by_file[path("no-date.md")][1:] == [
        "  - date: no date: no front matter date, no 'Learning Journey - YYYY-MM-DD' heading, "
        "and the file name does not start with YYYY-MM-DD"
    ]
    assert by_file[path("2025-02-30-impossible.md")][1:] == [
        "  - date: 2025-02-30 is not a real date"
    ]
    assert by_file[path("2025-11-05-unknown.md")][1:] == [
        "  + 2025-11-02 attention-mechanism@1",
        "  - Quantum Knitting (Depth 2): unknown concept 'Quantum Knitting'",
    ]
    assert lines[-1] == "imported 2 sessions from 9 posts: 0 already there, 8 skipped"
    assert sessions(db_path) == [
        ("2025-11-01", "transformer", 1, "import"),
        ("2025-11-02", "attention-mechanism", 1, "import"),
    ]
    assert "Traceback" not in result.output


def test_nothing_importable_exits_1(cli_run, tmp_path: Path, db_path: Path) -> None:
    write(tmp_path / "j", "empty.md", "")
    write(tmp_path / "j", "notes.md", "Just notes, no date.\n")
    code, report = run_json(cli_run, str(tmp_path / "j"))
    assert code == 1
    assert (report["added"], report["already"], report["skipped"]) == (0, 0, 2)
    assert sessions(db_path) == []


def test_a_path_that_does_not_exist_exits_2_before_anything_is_imported(
    cli_run, samples: Path, tmp_path: Path, db_path: Path
) -> None:
    cli_run("init")
    result = cli_run("import", "posts", str(samples), str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: no such file or folder: {tmp_path / 'missing'}\n"
    assert result.stdout == ""
    assert sessions(db_path) == []


def test_a_huge_file_is_not_read_and_a_file_is_no_repaired_dir(cli_run, tmp_path: Path) -> None:
    big = write(tmp_path / "j", "2025-11-01-huge.md", make_post("2025-11-01", "Transformer", 1))
    with big.open("a", encoding="utf-8") as out:
        out.write("x" * (5 * 1024 * 1024))
    code, report = run_json(cli_run, str(big))
    assert code == 1
    assert report["files"][0]["skipped"] == [
        {"what": "file", "why": "too large for a post (5.0 MiB)"}
    ]
    result = cli_run("import", "posts", str(big), "--repaired-dir", str(big))
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: --repaired-dir {big} is a file, not a folder\n")


def test_a_post_dated_after_today_is_skipped(cli_run, tmp_path: Path, db_path: Path) -> None:
    write(tmp_path / "j", "post.md", make_post("2025-11-20", "Transformer", 1))
    result = cli_run("import", "posts", str(tmp_path / "j"), env={"TRACKER_NOW": "2025-11-19"})
    assert result.exit_code == 1
    assert "  - date: dated 2025-11-20, after today (2025-11-19)" in result.stdout.splitlines()


def test_dry_run_writes_and_records_nothing(
    cli_run, samples: Path, tmp_path: Path, db_path: Path
) -> None:
    cli_run("init")
    before = counts(db_path)
    code, dry = run_json(
        cli_run, str(samples), "--dry-run", "--repaired-dir", str(tmp_path / "out")
    )
    assert code == 0 and dry["dry_run"] is True
    assert (dry["added"], dry["already"]) == (6, 0)
    assert counts(db_path) == before
    assert not (tmp_path / "out").exists()
    _, real = run_json(cli_run, str(samples))
    assert [refs(f["added"]) for f in real["files"]] == [refs(f["added"]) for f in dry["files"]]


def test_repaired_copies_are_written_and_originals_left_untouched(
    cli_run, samples: Path, tmp_path: Path
) -> None:
    originals = {p.name: p.read_bytes() for p in samples.iterdir()}
    out = samples / "repaired"  # inside the imported folder: not read back as posts
    code, report = run_json(cli_run, str(samples), "--repaired-dir", str(out))
    assert code == 0
    assert {p.name: p.read_bytes() for p in samples.iterdir() if p.is_file()} == originals
    texts = [samples / name for name in sorted(originals)]
    expected = repair_journal([p.read_text(encoding="utf-8") for p in texts])
    for path, result in zip(texts, expected, strict=True):
        assert (out / path.name).read_text(encoding="utf-8") == result.text
    assert [f["repaired_copy"] for f in report["files"]] == [str(out / p.name) for p in texts]
    code, again = run_json(cli_run, str(samples), "--repaired-dir", str(out))
    assert len(again["files"]) == 2 and again["already"] == 6


def test_a_repaired_copy_never_overwrites_an_original_or_another_copy(
    cli_run, tmp_path: Path
) -> None:
    write(tmp_path / "a", "2025-11-01-post.md", damage(make_post("2025-11-01", "Transformer", 1)))
    write(tmp_path / "b", "2025-11-01-post.md", make_post("2025-11-01", "Transformer", 1))
    original = (tmp_path / "a" / "2025-11-01-post.md").read_bytes()
    code, report = run_json(
        cli_run, str(tmp_path / "a"), str(tmp_path / "b"), "--repaired-dir", str(tmp_path / "a")
    )
    assert code == 0
    assert (tmp_path / "a" / "2025-11-01-post.md").read_bytes() == original
    assert (tmp_path / "b" / "2025-11-01-post.md").exists()
    assert [f["skipped"] for f in report["files"]] == [
        [{"what": "repaired copy", "why": "it would overwrite the original post"}]
    ] * 2
    out = tmp_path / "out"
    _, report = run_json(
        cli_run, str(tmp_path / "a"), str(tmp_path / "b"), "--repaired-dir", str(out)
    )
    assert report["files"][1]["skipped"] == [
        {"what": "repaired copy", "why": "another post named 2025-11-01-post.md was written there"}
    ]
    assert [p.name for p in out.iterdir()] == ["2025-11-01-post.md"]


def test_korean_names_and_aliases_match_concepts(cli_run, tmp_path: Path, db_path: Path) -> None:
    post = make_post(
        "2025-11-10",
        "멀티헤드 어텐션",
        2,
        [
            ("2025-11-03", "어텐션 메커니즘", 1),
            ("2025-11-04", "MHA", 2),
            ("2025-11-05", "flash-attention", 3),
        ],
    )
    write(tmp_path / "j", "post.md", damage(post))  # damaged, like the real ones
    code, report = run_json(cli_run, str(tmp_path / "j"))
    assert code == 0 and report["skipped"] == 0
    assert sorted(refs(report["files"][0]["added"])) == [
        ("2025-11-03", "attention-mechanism", 1),
        ("2025-11-04", "multi-head-attention", 2),
        ("2025-11-05", "flash-attention", 3),
        ("2025-11-10", "multi-head-attention", 2),
    ]


def test_depths_learned_before_without_a_date_raise_depth_but_invent_no_session(
    cli_run, tmp_path: Path, db_path: Path
) -> None:
    post = make_post(
        "2025-11-14", "Flash Attention", 3, before=[("Positional Encoding", 2), ("Transformer", 3)]
    )
    write(tmp_path / "j", "post.md", post)
    code, report = run_json(cli_run, str(tmp_path / "j"))
    assert code == 0
    [file] = report["files"]
    assert file["depths"] == [
        {
            "concept": "positional-encoding",
            "depth": 2,
            "as_of": "2025-11-14",
            "lesson": "positional-encoding-2",
        }
    ]
    assert file["skipped"] == [
        {
            "what": "Transformer (depth 3) - 지난 세션에서 배운 것",
            "why": "no lesson teaches transformer at depth 3: no depth recorded",
        }
    ]
    assert sessions(db_path) == [("2025-11-14", "flash-attention", 3, "import")]
    concepts = {c["id"]: c["depth"] for c in json.loads(cli_run("concepts", "--json").stdout)}
    assert concepts["positional-encoding"] == 2
    _, again = run_json(cli_run, str(tmp_path / "j"))
    assert again["files"][0]["depths"] == []  # already held


def test_an_imported_lesson_gets_its_cards_once(cli_run, samples: Path, db_path: Path) -> None:
    run_json(cli_run, str(samples))
    with sqlite3.connect(db_path) as conn:
        cards = conn.execute(
            "SELECT lesson_id, count(*) FROM review_cards GROUP BY lesson_id ORDER BY lesson_id"
        ).fetchall()
        progress = conn.execute(
            "SELECT lesson_id, substr(achieved_at, 1, 10) FROM progress ORDER BY lesson_id"
        ).fetchall()
    assert [lesson for lesson, _ in cards] == [
        "attention-mechanism-1",
        "flash-attention-3",
        "multi-head-attention-2",
        "positional-encoding-2",
        "transformer-1",
    ]
    # attention-mechanism-1 was first passed on the earlier of its two dates.
    assert dict(progress)["attention-mechanism-1"] == "2025-10-16"


def test_the_database_refuses_a_second_row_for_one_import_identity(store) -> None:  # noqa: ANN001
    from sqlalchemy import text

    from tracker.errors import DatabaseUnavailable

    row = (
        "INSERT INTO study_sessions (learner_id, concept_id, depth, kind, completed_at, local_date)"
        " VALUES (:learner, 'transformer', 1, :kind, '2025-10-13 12:00:00+00:00', '2025-10-13')"
    )
    with store.write() as session:
        session.execute(text(row), {"learner": store.learner_id, "kind": "study"})
        session.execute(text(row), {"learner": store.learner_id, "kind": "study"})  # allowed
        session.execute(text(row), {"learner": store.learner_id, "kind": "import"})
    with (
        pytest.raises(DatabaseUnavailable, match="UNIQUE constraint failed"),
        store.write() as session,
    ):
        session.execute(text(row), {"learner": store.learner_id, "kind": "import"})


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import tracker.usecases.importing as journal

    calls = 0
    limit = int(sys.argv[2])
    real = journal._pass_lesson

    def dying(*args, **kwargs):
        global calls
        calls += 1
        real(*args, **kwargs)
        if calls == limit:
            os.kill(os.getpid(), signal.SIGKILL)  # mid-transaction of the second post

    journal._pass_lesson = dying
    from tracker.cli.entry import main
    sys.argv = ["tracker", "import", "posts", sys.argv[1]]
    main()
    """
)


def test_a_sigkill_during_an_import_leaves_no_half_imported_post(
    tmp_path: Path, db_path: Path, tracker_env: Path
) -> None:
    folder = tmp_path / "journal"
    write(
        folder,
        "1.md",
        make_post("2025-11-03", "Attention Mechanism", 1, [("2025-10-13", "Transformer", 1)]),
    )
    write(
        folder,
        "2.md",
        make_post(
            "2025-11-10",
            "Multi-Head Attention",
            2,
            [("2025-10-20", "Positional Encoding", 2), ("2025-11-01", "Transformer", 1)],
        ),
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Post 1 passes two lessons, post 2 three: the 4th call is inside post 2's transaction.
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(folder), "4"], env=env, capture_output=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL
    assert sessions(db_path) == [
        ("2025-10-13", "transformer", 1, "import"),
        ("2025-11-03", "attention-mechanism", 1, "import"),
    ]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM progress").fetchone() == (2,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = subprocess.run(
        [sys.executable, "-m", "tracker", "import", "posts", str(folder), "--json"],
        env=env,
        capture_output=True,
        timeout=120,
    )
    report = json.loads(again.stdout)
    assert (report["added"], report["already"]) == (3, 2)


@pytest.mark.postgres
def test_import_and_reimport_on_postgresql(pg_url: str, samples: Path) -> None:
    from tracker.store import open_store
    from tracker.usecases.importing import import_posts

    store = open_store(pg_url)
    try:
        kwargs = {"learner_id": store.learner_id, "now": store.now(), "paths": [samples]}
        first = import_posts(store, **kwargs)
        second = import_posts(store, **kwargs)
        assert (first.added, first.already) == (6, 0)
        assert (second.added, second.already) == (0, 6)
    finally:
        store.close()
