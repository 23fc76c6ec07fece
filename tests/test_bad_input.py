"""Bad input, generated (issue 15): never a traceback, always an exit code of the contract.

Property tests (hypothesis, derandomized so a failure reproduces, bounded so
the file runs in about a minute) over everything a user types or points
tracker at: journal posts for `import posts` (any bytes, any text, real
posts mangled), the config file (any text, any TOML with the real keys and
wrong values), ``TRACKER_NOW`` (any string, ISO 8601 near-misses), a
lesson's ``lesson.toml`` in a lessons folder of one's own, and command lines
drawn from the click command tree itself with arbitrary values.

The property is the contract of docs/architecture.md: exit 0, 1 or 2 (3 is an
environment problem and none is made here); a failure is one ``Error:`` line
on stderr (click's own usage errors add their usage lines above it); nothing
ever raises out of the command (``catch_exceptions=False``), and the
``--json`` commands print one JSON document. Most examples run in-process
(CliRunner); a few go through ``python -m tracker`` to cover what runs before
click (the status fast path, the hand-off client).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from tests.import_support import clean_samples, damaged_samples, make_post

ROOT = Path(__file__).resolve().parent.parent
MADE = "2026-03-01T09:00"
NOW = "2026-03-04T09:00"
BASE_CONFIG = 'timezone = "UTC"\n'


def bounded(examples: int) -> settings:
    """CI's bounded run; ``FUZZ_RUNS=N`` hunts further: N fresh random examples a test."""
    hunting = int(os.environ.get("FUZZ_RUNS", "0"))
    return settings(
        max_examples=hunting or examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=not hunting,  # a hunt's failure prints the @seed that reproduces it
        database=None,
        # No shrinking: a run stays bounded; the failing example is printed as drawn.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )


# --- the world each example starts from ---------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with a lesson learned and a check-in: card 1 exists, history is not empty."""
    from tracker.cli import cli

    folder = tmp_path_factory.mktemp("bad-input-template")
    (folder / "config.toml").write_text(BASE_CONFIG)
    env = {
        "TRACKER_DB": str(folder / "tracker.db"),
        "TRACKER_CONFIG": str(folder / "config.toml"),
        "TRACKER_NOW": MADE,
        "TRACKER_LESSONS": None,
    }
    for args in (["learn", "transformer-1", "--yes"], ["checkin"]):
        result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return folder / "tracker.db"


class World:
    """tmp_path reset to the template before every example (hypothesis reuses the fixture)."""

    def __init__(self, root: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.template = template
        self.db = root / "tracker.db"
        self.config = root / "config.toml"
        self.work = root / "work"  # the current directory: relative paths land here
        monkeypatch.chdir(root)
        monkeypatch.setenv("TRACKER_NOW", NOW)
        monkeypatch.delenv("TRACKER_LESSONS", raising=False)

    def reset(self) -> None:
        for sidecar in ("-wal", "-shm", "-journal"):
            Path(f"{self.db}{sidecar}").unlink(missing_ok=True)
        shutil.copyfile(self.template, self.db)
        self.config.write_text(BASE_CONFIG)
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir()
        os.chdir(self.work)


@pytest.fixture
def world(tracker_env: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return World(tracker_env, template, monkeypatch)


def invoke(*args: str, env: dict | None = None, input: str = ""):  # noqa: ANN201
    from tracker.cli import cli

    return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)


def assert_contract(result, allowed: set[int], *, json_out: bool = False) -> None:  # noqa: ANN001
    """The exit code is one the contract allows; a failure says so in one Error: line."""
    with contextlib.suppress(InvalidArgument):  # outside @given: no statistics to keep
        event(f"exit {result.exit_code}")  # --hypothesis-show-statistics shows the spread
    shown = f"exit {result.exit_code}\nstdout: {result.stdout[-800:]}\nstderr: {result.stderr}"
    assert result.exit_code in allowed, shown
    assert "Traceback" not in result.output, shown
    if result.exit_code == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines and lines[-1].startswith("Error: "), shown
        if not lines[0].startswith("Usage: "):  # click's usage errors show the usage first
            assert len(lines) == 1, shown
    if json_out and result.exit_code in (0, 1) and result.stdout.strip():
        json.loads(result.stdout)


# Text as argv and the environment carry it: no NUL, and undecodable bytes as
# Python's surrogate escapes (a file name in Latin-1 on a UTF-8 system).
ESCAPED = st.integers(0x80, 0xFF).map(lambda b: chr(0xDC00 | b))
ARG_TEXT = st.text(
    st.one_of(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), ESCAPED),
    max_size=40,
)


# --- journal posts ------------------------------------------------------------------------------


def mangled(text: str, data: st.DataObject) -> str:
    """A real post with a few cuts, splices and repeats at drawn places."""
    for _ in range(data.draw(st.integers(0, 4), label="edits")):
        at = data.draw(st.integers(0, len(text)), label="at")
        kind = data.draw(st.sampled_from(["cut", "splice", "repeat"]), label="edit")
        if kind == "cut":
            text = text[:at] + text[at + data.draw(st.integers(1, 200)) :]
        elif kind == "splice":
            text = text[:at] + data.draw(st.text(max_size=60)) + text[at:]
        else:
            text = text[:at] + text[at : at + 80] * 3 + text[at:]
    return text


def post_bytes(data: st.DataObject) -> bytes:
    source = data.draw(
        st.sampled_from(["bytes", "text", "sample", "made", "damaged"]), label="source"
    )
    if source == "bytes":
        return data.draw(st.binary(max_size=3000), label="bytes")
    if source == "damaged":  # the cp1254 mojibake of the real journal, further mangled
        raw = data.draw(st.sampled_from(damaged_samples())).read_bytes()
        at = data.draw(st.integers(0, len(raw)))
        return raw[:at] + data.draw(st.binary(max_size=40)) + raw[at:]
    if source == "text":
        text = data.draw(st.text(max_size=2000), label="text")
    elif source == "sample":
        text = mangled(data.draw(st.sampled_from(clean_samples())).read_text("utf-8"), data)
    else:
        day = data.draw(st.dates().map(str) | st.text(max_size=12), label="day")
        focus = data.draw(
            st.sampled_from(["Transformer", "Flash Attention", "RLHF"]) | st.text(max_size=30)
        )
        depth = data.draw(st.integers(-3, 12), label="depth")
        connections = data.draw(
            st.lists(st.tuples(st.dates().map(str), st.text(max_size=20), st.integers(-1, 9)))
        )
        text = mangled(make_post(day, focus, depth, connections), data)
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1254", "cp949", "utf-16"]))
    return text.encode(encoding, errors="replace")


FILE_NAMES = st.one_of(
    st.sampled_from(["post.md", "notes.txt", "2025-10-20-x.md", "2025-13-45-bad.md", ".md"]),
    st.from_regex(r"[0-9A-Za-z가-힣 ._-]{1,40}\.(md|markdown|txt)", fullmatch=True),
)


@bounded(60)
@given(data=st.data())
def test_any_post_file_is_imported_or_skipped_with_a_reason(
    data: st.DataObject, world: World
) -> None:
    world.reset()
    files = data.draw(st.lists(FILE_NAMES, min_size=1, max_size=3, unique=True), label="files")
    for name in files:
        (world.work / name).write_bytes(post_bytes(data))
    args = ["import", "posts"]
    args += data.draw(st.sampled_from([[], ["--dry-run"], ["--repaired-dir", "fixed"]]))
    as_json = data.draw(st.booleans(), label="json")
    args += ["--json"] if as_json else []
    named = data.draw(st.booleans(), label="named")
    args += ["--", *files] if named else ["."]  # a folder: hidden files are left out
    result = invoke(*args)
    assert_contract(result, {0, 1}, json_out=as_json)  # 1: nothing could be imported
    if as_json and named:
        report = json.loads(result.stdout)
        assert len(report["files"]) == len(files)


def test_a_post_file_that_is_not_there_or_not_a_file(world: World) -> None:
    world.reset()
    (world.work / "folder.md").mkdir()
    result = invoke("import", "posts", "missing.md", "folder.md")
    assert_contract(result, {1, 2})


# --- the config file ----------------------------------------------------------------------------


CONFIG_KEYS = [
    "timezone",
    "day_starts_at",
    "sessions_per_week",
    "desired_retention",
    "maximum_interval",
    "learning_steps",
    "relearning_steps",
    "reminder_time",
    "streak_reminder_time",
    "channels",
    "smtp_port",
    "smtp_starttls",
    "webhook_url",
    "webhook_timeout",
    "require_isolation",
    "validation_timeout",
    "learner",
    "no_such_key",
]
TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["UTC", "Asia/Seoul", "Mars/Olympus", "09:00", "25:61", "10m", "0m", "off"]),
    st.dates(),
    st.datetimes(),
    st.times(),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def config_bytes(data: st.DataObject) -> bytes:
    source = data.draw(st.sampled_from(["toml", "text", "bytes", "spliced"]), label="source")
    if source == "toml":
        table = data.draw(st.dictionaries(st.sampled_from(CONFIG_KEYS), TOML_VALUES, max_size=4))
        return tomli_w.dumps(table).encode()
    if source == "bytes":
        return data.draw(st.binary(max_size=300))
    if source == "text":
        return data.draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    good = 'timezone = "Asia/Seoul"\nday_starts_at = 4\nchannels = ["terminal"]\n'
    at = data.draw(st.integers(0, len(good)))
    return (good[:at] + data.draw(st.text(max_size=20)) + good[at:]).encode()


@bounded(60)
@given(data=st.data())
def test_any_config_file_is_used_or_refused_in_one_line(data: st.DataObject, world: World) -> None:
    world.reset()
    world.config.write_bytes(config_bytes(data))
    command = data.draw(
        st.sampled_from([["status"], ["checkin", "--json"], ["config", "show"], ["due"]])
    )
    result = invoke(*command)
    assert_contract(result, {0, 2}, json_out="--json" in command)


# --- TRACKER_NOW --------------------------------------------------------------------------------


NOW_STRINGS = st.one_of(
    ARG_TEXT,
    st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat()),
    st.dates().map(str),
    st.builds(
        "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}{}".format,
        st.integers(0, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
        st.integers(0, 61),
        st.sampled_from(["", "Z", "+09:00", "-23:59", "+24:00", "+99:99", " ", "junk"]),
    ),
    st.sampled_from(["", " ", "now", "9000-12-31T23:59:59-12:00", "1900-01-01T00:00+14:00"]),
)


@bounded(80)
@given(now=NOW_STRINGS, command=st.sampled_from(["status", "checkin", "due", "history"]))
def test_any_tracker_now_is_the_time_or_one_line_error(
    now: str, command: str, world: World
) -> None:
    world.reset()
    result = invoke(command, "--json", env={"TRACKER_NOW": now})
    assert_contract(result, {0, 2}, json_out=True)
    if result.exit_code == 2:
        assert "TRACKER_NOW" in result.stderr or repr(now) in result.stderr, result.stderr


# --- lesson.toml --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lessons_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lessons") / "lessons"
    shutil.copytree(ROOT / "lessons", folder)
    return folder


LESSON_KEYS = [
    "main_path",
    "categories",
    "concepts",
    "concept",
    "depth",
    "title",
    "summary",
    "requires",
    "questions",
    "exercise",
    "forbidden_calls",
    "unknown_key",
]


def lesson_toml(data: st.DataObject, original: str) -> bytes:
    import tomllib

    source = data.draw(st.sampled_from(["edited", "text", "bytes", "spliced"]), label="source")
    if source == "bytes":
        return data.draw(st.binary(max_size=400))
    if source == "text":
        return data.draw(st.text(max_size=400)).encode("utf-8", "surrogatepass")
    if source == "spliced":
        at = data.draw(st.integers(0, len(original)))
        return (original[:at] + data.draw(st.text(max_size=30)) + original[at:]).encode()
    table = tomllib.loads(original)
    for key in data.draw(st.lists(st.sampled_from(LESSON_KEYS), max_size=3), label="keys"):
        action = data.draw(st.sampled_from(["drop", "replace", "requires"]))
        if action == "drop":
            table.pop(key, None)
        elif action == "replace":
            table[key] = data.draw(TOML_VALUES)
        else:
            table["requires"] = data.draw(
                st.lists(
                    st.sampled_from(["transformer@1", "transformer@9", "nothing@1", "x", "@"])
                    | st.text(max_size=12),
                    max_size=3,
                )
            )
    return tomli_w.dumps(table).encode()


@bounded(50)
@given(data=st.data())
def test_any_lesson_toml_is_loaded_or_named_in_one_line(
    data: st.DataObject, world: World, lessons_copy: Path
) -> None:
    world.reset()
    lesson = data.draw(
        st.sampled_from(["transformer-1", "attention-mechanism-1", "curriculum.toml"]),
        label="file",
    )
    name = lesson if lesson.endswith(".toml") else f"{lesson}/lesson.toml"
    path = lessons_copy / name
    original = (ROOT / "lessons" / name).read_text(encoding="utf-8")
    path.write_bytes(lesson_toml(data, original))
    try:
        command = data.draw(st.sampled_from([["lessons", "--json"], ["checkin"], ["init"]]))
        result = invoke(*command, env={"TRACKER_LESSONS": str(lessons_copy)})
    finally:
        path.write_text(original, encoding="utf-8")
    assert_contract(result, {0, 2}, json_out="--json" in command)
    if result.exit_code == 2:
        # The first problem found: in this file, or in one it broke (a lesson whose
        # concept the edited curriculum.toml lost).
        assert re.search(r"lessons/\S*\.toml: ", result.stderr), result.stderr


# --- command lines from the command tree --------------------------------------------------------

# Long-running or heavy by design: serve runs until stopped, submit runs the sandbox
# (tests/test_hostile*.py), optimize loads torch.
SKIPPED = {("serve",), ("submit",), ("optimize",)}


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if path in SKIPPED:
            continue
        if isinstance(command, click.Group):
            paths += command_paths(command, path)
        else:
            paths.append(path)
    return paths


def leaf(path: tuple[str, ...]) -> click.Command:
    from tracker.cli import cli

    command: click.Command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


LESSON_IDS = ["transformer-1", "attention-mechanism-1", "flash-attention-3", "rlhf-2"]
PLAUSIBLE = st.sampled_from(
    [*LESSON_IDS, "1", "2", "0", "-1", "99999999999999999999", "good", "again", "5", "timezone",
     "learner", "day_starts_at", "Asia/Seoul", "2026-03-01", "yesterday", "7d", "md", "json",
     "x.db", "out.md", ".", "", " ", "work", "~nouser/x", "-", "--", "--help", "-h", "--json"]
)  # fmt: skip
RELATIVE = ARG_TEXT.filter(lambda t: not t.startswith(("/", "~")) and ".." not in t)


def value_for(param: click.Parameter) -> st.SearchStrategy[str]:
    """A value for ``param``: one its type accepts, or anything at all."""
    kind = param.type
    valid: st.SearchStrategy[str] = PLAUSIBLE
    if isinstance(kind, click.Choice):
        valid = st.sampled_from(list(kind.choices))
    elif isinstance(kind, click.types.IntParamType):
        valid = st.integers(-5, 400).map(str)
    elif isinstance(kind, click.Path) or param.name in {"output", "path"}:
        return st.one_of(PLAUSIBLE, RELATIVE)  # never an absolute path to a real place
    return st.one_of(valid, PLAUSIBLE, ARG_TEXT)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    from tracker.cli import cli

    path = draw(st.sampled_from(command_paths(cli)), label="command")
    command = leaf(path)
    argv = list(path)
    for param in command.params:
        if isinstance(param, click.Argument):
            if param.required or draw(st.booleans()):
                count = draw(st.integers(1, 2)) if param.nargs == -1 else 1
                argv += [draw(value_for(param)) for _ in range(count)]
        elif draw(st.integers(0, 3)) == 0:
            continue
        elif getattr(param, "is_flag", False):
            argv.append(draw(st.sampled_from(param.opts)))
        else:
            argv += [draw(st.sampled_from(param.opts)), draw(value_for(param))]
    argv = draw(st.sampled_from([[], [], ["--no-color"], ["--version"], ["--db"]])) + argv
    if draw(st.integers(0, 9)) == 0:  # something the command does not take
        argv.insert(draw(st.integers(0, len(argv))), draw(st.one_of(PLAUSIBLE, ARG_TEXT)))
    return argv


@bounded(250)
@given(argv=command_lines())
def test_any_command_line_is_run_or_refused_in_one_line(argv: list[str], world: World) -> None:
    world.reset()
    result = invoke(*argv, input="q\n")
    assert_contract(
        result, {0, 1, 2}, json_out="--json" in argv and not {"--help", "--version"} & set(argv)
    )


# --- the same, through the real process ---------------------------------------------------------


def tracker_process(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    base.update(TRACKER_DB=str(folder / "tracker.db"), TRACKER_CONFIG=str(folder / "config.toml"))
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args],
        env={k: v for k, v in base.items() if v is not None},
        cwd=folder,
        capture_output=True,
        timeout=120,
    )


def assert_process_contract(done: subprocess.CompletedProcess[bytes], allowed: set[int]) -> None:
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode in allowed, stderr
    assert "Traceback" not in stderr, stderr
    if done.returncode == 2:
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert lines[-1].startswith("Error: "), stderr


@pytest.mark.slow
@bounded(8)
@given(now=NOW_STRINGS, config=st.sampled_from([BASE_CONFIG, "timezone = 5\n", "\xff\n", "[["]))
def test_status_fast_path_and_checkin_as_processes(now: str, config: str, world: World) -> None:
    """`status` is answered before click loads (entry.py); its fast path must refuse quietly."""
    world.reset()
    world.config.write_bytes(config.encode("latin-1"))
    for command in (("status",), ("status", "--json"), ("checkin",)):
        done = tracker_process(world.root, *command, TRACKER_NOW=now)
        assert_process_contract(done, {0, 2})


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        [b"learn", b"\xff\xfe-1", b"--yes"],
        [b"lesson", b"show", b"transformer-\xe9"],
        [b"import", b"posts", b"caf\xe9.md"],
        [b"config", b"set", b"learner", b"\xff"],
        [b"history", b"--since", b"\xc3"],
        [b"submit", b"no-such-lesson-\xff", b"x\xff.py"],
        [b"--db", b"\xff.db", b"status"],
    ],
)
def test_undecodable_bytes_in_argv(argv: list[bytes], world: World) -> None:
    """argv is bytes: what is not UTF-8 reaches Python as surrogate escapes, and back out."""
    world.reset()
    (world.root / "caf\xe9.md".encode("latin-1").decode("utf-8", "surrogateescape")).write_bytes(
        b"# AI Learning Journey - 2025-10-20\n\n**Transformer** (Depth 1)\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    base.update(
        TRACKER_DB=str(world.db),
        TRACKER_CONFIG=str(world.config),
        TRACKER_NOW=NOW,
        LC_ALL="C.UTF-8",
    )
    done = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"tracker", *argv],
        env=base,
        cwd=world.root,
        capture_output=True,
        timeout=120,
    )
    assert_process_contract(done, {0, 1, 2})


def test_the_generators_reach_every_command() -> None:
    from tracker.cli import cli

    paths = command_paths(cli)
    assert ("import", "posts") in paths and ("review",) in paths and ("config", "set") in paths
    assert not any(path in SKIPPED for path in paths)


# --- what the properties found, pinned with the exact lines ---------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["learn", "\udcb5\udc82", "--yes"],  # the bytes b5 82 from a Latin-1 terminal
            "Error: '\\xb5\\x82' is not valid UTF-8 text: give it in UTF-8 "
            "(check the terminal's locale)",
        ),
        (
            ["db", "backup", "2026-03-01", "Ëd\x0c"],
            "Error: Got unexpected extra argument (Ëd\\x0c)",
        ),
        (
            ["history", "--since", "x\ny\x1b[31m"],
            "Error: Invalid value for '--since': 'x\\ny\\x1b[31m' is not a date (YYYY-MM-DD) "
            "or a number of days (7d)",
        ),
        (["lesson", "show", "a\nb"], "Error: no lesson 'a\\nb'; see `tracker lessons`"),
    ],
)
def test_a_value_that_would_break_the_line_is_shown_escaped(
    argv: list[str], message: str, world: World
) -> None:
    world.reset()
    result = invoke(*argv)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == message
    assert_contract(result, {2})


@pytest.mark.parametrize(
    ("lesson", "old", "new", "problem"),
    [
        (
            "transformer-1",
            'concept = "transformer"',
            "concept = {a = 1}",
            "unknown concept {'a': 1}",
        ),
        ("transformer-1", 'concept = "transformer"', "concept = [1]", "unknown concept [1]"),
        (
            "transformer-1",
            "[[questions]]",  # every question cut, then
            "questions = 7\n",
            "questions must be a list of [[questions]] tables",
        ),
        (
            "attention-mechanism-1",
            'kind = "function"',
            "kind = [1]",
            "exercise.kind must be one of ['function', 'module']",
        ),
        (
            "curriculum.toml",
            'category = "architecture"',
            "category = [1]",
            "[[concepts]] #1: unknown category [1]",
        ),
        (
            "curriculum.toml",
            'main_path = ["attention-mechanism-1",',
            'main_path = [["attention-mechanism-1"],',
            "main_path names unknown lesson ['attention-mechanism-1']",
        ),
    ],
)
def test_a_lesson_toml_value_of_the_wrong_type_is_named(
    lesson: str, old: str, new: str, problem: str, world: World, lessons_copy: Path
) -> None:
    world.reset()
    path = lessons_copy / (lesson if lesson.endswith(".toml") else f"{lesson}/lesson.toml")
    original = path.read_text(encoding="utf-8")
    assert old in original
    cut = old == "[[questions]]"
    edited = original.split(old)[0] + new if cut else original.replace(old, new, 1)
    path.write_text(edited, encoding="utf-8")
    try:
        result = invoke("lessons", env={"TRACKER_LESSONS": str(lessons_copy)})
    finally:
        path.write_text(original, encoding="utf-8")
    assert_contract(result, {2})
    where = f"{path}" if problem.startswith("[[") else f"{path}:"
    assert result.stderr.startswith(f"Error: {where} {problem}"), result.stderr


@pytest.mark.parametrize(
    "command", [["report"], ["export", "post", "--date", "2026-03-01"], ["export", "ics"]]
)
@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "Error: -o is empty: give a file path, or - for stdout"),
        (".", "Error: -o .: that is a directory; give a file path"),
        ("work", "Error: -o work: that is a directory; give a file path"),
        (
            "~nouser/x.md",
            "Error: -o ~nouser/x.md: cannot expand ~nouser (no such user or home directory)",
        ),
    ],
)
def test_an_output_path_that_cannot_be_a_file(
    command: list[str], output: str, message: str, world: World
) -> None:
    world.reset()
    os.chdir(world.root)
    before = sorted(p.name for p in world.root.iterdir())
    result = invoke(*command, "-o", output)
    assert (result.exit_code, result.stderr.strip()) == (2, message)
    assert sorted(p.name for p in world.root.iterdir()) == before


@pytest.mark.parametrize("command", [["due", "--json"], ["history", "--json"]])
def test_a_limit_beyond_any_integer_means_everything(command: list[str], world: World) -> None:
    world.reset()
    everything = invoke(*command)
    huge = invoke(*command, "--limit", "99999999999999999999")  # more than SQLite's 64 bits
    assert (huge.exit_code, huge.stdout) == (0, everything.stdout)
