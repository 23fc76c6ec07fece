"""The warm validation worker of ``tracker serve``: protocol, isolation, clean-up, parity.

One ``tracker serve`` subprocess (module scope: starting it imports torch) runs
against a temporary database; jobs are built by hand the way the runner builds
them (worker.py, probe_kit.py, probe.py, submission.py, inputs, job.json, out/) and run
through ``WarmExecutor``, and where it matters the same job runs through the
cold executor and both must agree.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tracker.db.engine import resolve_location
from tracker.validation.execution import Limits, RawRun
from tracker.validation.warm import (
    WarmExecutor,
    WarmWorkerError,
    ping,
    request,
    socket_is_private,
    warm_executor_for,
    warm_paths,
)

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "multi-head-attention-2"
BANK = ROOT / "tests" / "submissions" / "multi-head-attention-2"
SHORT = Limits(timeout_s=20.0)


def _bwrap_works() -> bool:
    from tracker.validation.sandbox import bubblewrap_works

    return bubblewrap_works()


def make_job(parent: Path, source: str, phase: str = "main") -> Path:
    """A job dir as the runner prepares it, with inputs from the lesson's checks."""
    from safetensors.torch import save_file

    spec = importlib.util.spec_from_file_location("_warm_checks", LESSON / "checks.py")
    assert spec is not None and spec.loader is not None
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    job = Path(tempfile.mkdtemp(prefix="job-", dir=parent))
    shutil.copy(ROOT / "tracker" / "validation" / "worker.py", job / "worker.py")
    shutil.copy(ROOT / "tracker" / "validation" / "probe_kit.py", job / "probe_kit.py")
    shutil.copy(LESSON / "probe.py", job / "probe.py")
    (job / "submission.py").write_text(source)
    inputs = checks.make_inputs(phase, 1234)
    save_file({k: v.contiguous() for k, v in inputs.items()}, str(job / "inputs.safetensors"))
    (job / "out").mkdir()
    (job / "job.json").write_text(json.dumps({"phase": phase, "device": "cpu", "threads": 2}))
    return job


def out_files(job: Path) -> dict[str, object]:
    """What the worker left in out/, in comparable form."""
    from safetensors.torch import load_file

    found: dict[str, object] = {}
    for path in sorted((job / "out").iterdir()):
        if path.suffix == ".safetensors":
            found[path.name] = {k: v.tolist() for k, v in load_file(str(path)).items()}
        else:
            found[path.name] = json.loads(path.read_text())
    return found


@dataclass
class Served:
    process: subprocess.Popen
    db: Path
    log: Path

    @property
    def paths(self):  # noqa: ANN201
        return warm_paths(resolve_location(str(self.db)))

    def executor(self) -> WarmExecutor:
        executor = warm_executor_for(resolve_location(str(self.db)), timeout=5.0)
        assert executor is not None, self.log.read_text()
        return executor

    def info(self) -> dict:
        reply = ping(self.paths.socket, timeout=5.0)
        assert reply is not None
        return reply


def _serve_env(folder: Path) -> dict[str, str]:
    config = folder / "config.toml"
    config.write_text('timezone = "UTC"\n')
    return {**os.environ, "TRACKER_DB": str(folder / "tracker.db"), "TRACKER_CONFIG": str(config)}


def start_serve(folder: Path) -> Served:
    log = folder / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", "serve"],
        env=_serve_env(folder),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    served = Served(process, folder / "tracker.db", log)
    deadline = time.monotonic() + 60
    while ping(served.paths.socket, timeout=1.0) is None:
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return served


def stop_serve(served: Served) -> int:
    served.process.send_signal(signal.SIGTERM)
    return served.process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not _bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    running = start_serve(tmp_path_factory.mktemp("serve"))
    yield running
    if running.process.poll() is None:
        stop_serve(running)


def hostile(body: str) -> str:
    return textwrap.dedent(body)


def procs_with(marker: str) -> list[int]:
    """Host pids whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry))
    return found


# --- fast: no server needed -----------------------------------------------------------------


def test_no_socket_means_cold(tmp_path: Path) -> None:
    location = resolve_location(str(tmp_path / "tracker.db"))
    assert warm_executor_for(location) is None


def test_paths_sit_beside_the_database(tmp_path: Path) -> None:
    paths = warm_paths(resolve_location(str(tmp_path / "my.db")))
    assert paths.socket == tmp_path / "my.db.sock"
    assert paths.spool == tmp_path / "my.db.spool"


def test_socket_with_wrong_mode_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        os.chmod(path, 0o600)
        assert socket_is_private(path)
        os.chmod(path, 0o666)
        assert not socket_is_private(path)
        assert ping(path) is None  # never even connects
    path.unlink()
    path.write_text("not a socket")
    os.chmod(path, 0o600)
    assert not socket_is_private(path)


def test_unreachable_server_uses_the_fallback(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    job = spool / "job-1"
    (job / "out").mkdir(parents=True)
    (job / "out" / "stale.json").write_text("{}")
    calls = []

    class Fallback:
        isolation = "bubblewrap"

        def run(self, job_dir: Path, limits: Limits) -> RawRun:
            calls.append(sorted(p.name for p in (job_dir / "out").iterdir()))
            return RawRun(0, 1.0, 1, "bubblewrap")

    executor = WarmExecutor(tmp_path / "gone.sock", spool, fallback=Fallback())
    assert executor.run(job, SHORT).isolation == "bubblewrap"
    assert calls == [[]]  # the interrupted run's out/ was emptied first
    with pytest.raises(WarmWorkerError, match="cannot reach"):
        WarmExecutor(tmp_path / "gone.sock", spool).run(job, SHORT)


def test_serve_refuses_without_isolation_when_required(
    cli_run, tracker_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.validation import sandbox

    monkeypatch.setattr(sandbox, "bubblewrap_works", lambda: False)
    (tracker_env / "config.toml").write_text('timezone = "UTC"\nrequire_isolation = true\n')
    result = cli_run("serve")
    assert result.exit_code == 3
    assert "require_isolation is set" in result.output
    assert not (tracker_env / "tracker.db.sock").exists()


def test_serve_has_help(cli_run) -> None:
    result = cli_run("serve", "--help")
    assert result.exit_code == 0
    assert "warm validation worker" in result.output


# --- slow: a real `tracker serve` ------------------------------------------------------------


@pytest.mark.slow
def test_socket_and_spool_are_private(served: Served) -> None:
    info = os.lstat(served.paths.socket)
    assert oct(info.st_mode & 0o777) == "0o600"
    assert info.st_uid == os.geteuid()
    assert oct(os.lstat(served.paths.spool).st_mode & 0o777) == "0o700"
    assert served.info()["isolation"] == "bubblewrap (warm)"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["correct.py", "syntax", "memory"])
def test_warm_and_cold_agree(served: Served, tmp_path: Path, name: str) -> None:
    from tracker.validation.sandbox import ColdExecutor

    sources = {
        "syntax": "def broken(:\n",
        "memory": "block = bytearray(64 * 2**30)\n",  # past RLIMIT_AS: MemoryError on import
    }
    source = sources.get(name) or (BANK / name).read_text()
    executor = served.executor()
    warm_job = make_job(executor.job_root, source)
    cold_job = make_job(tmp_path, source)
    warm = executor.run(warm_job, SHORT)
    cold = ColdExecutor().run(cold_job, SHORT)
    assert warm.isolation == "bubblewrap (warm)"
    assert (warm.returncode, warm.timed_out, warm.limit_hit) == (
        cold.returncode,
        cold.timed_out,
        cold.limit_hit,
    )
    assert out_files(warm_job) == out_files(cold_job)
    assert warm.peak_rss_bytes > 0
    shutil.rmtree(warm_job)


# Those two attack the judge, which is the same code either way, and judging is slow.
HOSTILE = sorted(
    p
    for p in (ROOT / "tests" / "hostile").glob("*.py")
    if p.stem not in {"fake_success", "patched_comparisons"}
)


def _verdict(executor, source: Path, limits: Limits) -> dict:  # noqa: ANN001
    from tracker.validation.runner import validate

    verdict = validate(LESSON, source, device="cpu", limits=limits, executor=executor, seed=77)
    document = verdict.as_dict()
    return {key: document[key] for key in ("passed", "error", "checks")}


@pytest.mark.slow
@pytest.mark.parametrize(
    "source",
    [BANK / "correct.py", BANK / "wrong_wrong_class_name.py", *HOSTILE],
    ids=lambda p: p.stem,
)
def test_verdicts_are_identical_warm_and_cold(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: Path
) -> None:
    from tracker.validation.sandbox import ColdExecutor

    marker = f"warm-{source.stem}-{os.getpid()}"
    outside = tmp_path / "outside"
    text = source.read_text()
    text = text.replace("__MARKER__", marker).replace("__OUTSIDE__", str(outside))
    submission = tmp_path / "submission.py"
    submission.write_text(text.replace("__PORT__", "9"))
    limits = Limits(timeout_s=4.0)
    cold = _verdict(ColdExecutor(), submission, limits)
    executor = served.executor()
    # Until the runner makes job dirs in executor.job_root itself.
    monkeypatch.setattr(tempfile, "tempdir", str(executor.job_root))
    warm = _verdict(executor, submission, limits)
    if source.stem == "kill_parent":
        # The cold worker is PID 1 of its namespace, so the `kill -9 -1` of its own
        # subprocess cannot touch it; a warm child is not, and dies. Both fail.
        assert warm["passed"] is cold["passed"] is False
    else:
        assert warm == cold
    assert procs_with(marker) == []
    assert not outside.exists()
    assert list(executor.job_root.iterdir()) == []


@pytest.mark.slow
def test_job_made_outside_the_spool_runs_on_a_copy(served: Served, tmp_path: Path) -> None:
    executor = served.executor()
    job = make_job(tmp_path, (BANK / "correct.py").read_text())
    run = executor.run(job, SHORT)
    assert run.returncode == 0, run.output_tail
    assert set(out_files(job)) == {"notes.json", "outputs.safetensors"}
    assert list(executor.job_root.iterdir()) == []


@pytest.mark.slow
def test_whole_validation_in_serve_matches_cold(served: Served, tmp_path: Path) -> None:
    from tracker.validation.runner import validate
    from tracker.validation.sandbox import ColdExecutor
    from tracker.validation.warm import warm_validate

    location = resolve_location(str(served.db))
    for name in ("correct.py", "wrong_no_scaling.py"):
        source = (BANK / name).read_bytes()
        warm = warm_validate(location, LESSON, source, device="cpu", limits=SHORT, seed=5)
        assert warm is not None and warm.isolation == "bubblewrap (warm)"
        (tmp_path / name).write_bytes(source)
        cold = validate(
            LESSON, tmp_path / name, device="cpu", limits=SHORT, executor=ColdExecutor(), seed=5
        )
        assert (warm.passed, warm.error, warm.checks) == (cold.passed, cold.error, cold.checks)
    assert (
        warm_validate(
            resolve_location(str(tmp_path / "none.db")), LESSON, b"", device="cpu", limits=SHORT
        )
        is None
    )


@pytest.mark.slow
def test_infinite_loop_times_out(served: Served) -> None:
    executor = served.executor()
    job = make_job(executor.job_root, "while True:\n    pass\n")
    run = executor.run(job, Limits(timeout_s=1.0))
    assert run.timed_out and run.returncode is None
    assert not (job / "out" / "outputs.safetensors").exists()


@pytest.mark.slow
def test_output_flood_hits_the_cap(served: Served) -> None:
    executor = served.executor()
    job = make_job(executor.job_root, "import sys\nwhile True:\n    sys.stdout.write('x' * 4096)\n")
    run = executor.run(job, Limits(timeout_s=10.0, output_bytes=100_000))
    assert run.limit_hit == "output"
    assert len(run.output_tail) <= 8 * 1024


@pytest.mark.slow
def test_escaped_grandchild_and_tmp_files_are_gone_after_the_job(served: Served) -> None:
    executor = served.executor()
    probe = "import os\nprint('TMP', sorted(os.listdir('/tmp')), flush=True)\nos._exit(3)\n"
    # Mount points of bound dirs can show in /tmp (a checkout under /tmp): compare, don't assume.
    before = executor.run(make_job(executor.job_root, probe), SHORT).output_tail
    assert before.startswith("TMP [")
    marker = "987.654321"
    source = hostile(
        f"""
        import os
        open("/tmp/left-behind", "w").write("x")
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "{marker}"])
            os._exit(0)
        os.wait()
        """
    )
    run = executor.run(make_job(executor.job_root, source), SHORT)
    assert run.returncode == 0, run.output_tail
    assert procs_with(marker) == []
    run = executor.run(make_job(executor.job_root, probe), SHORT)
    assert run.returncode == 3
    assert run.output_tail == before
    assert "left-behind" not in before


@pytest.mark.slow
def test_learner_cannot_kill_the_zygote(served: Served) -> None:
    executor = served.executor()
    before = served.info()["zygote_pid"]
    source = hostile(
        """
        import os, signal
        for target in (os.getppid(), 1, -1):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError as exc:
                print("kill", target, type(exc).__name__)
        """
    )
    run = executor.run(make_job(executor.job_root, source), SHORT)
    assert run.returncode == 0, run.output_tail
    after = served.info()
    assert after["zygote_pid"] == before
    ok = executor.run(make_job(executor.job_root, (BANK / "correct.py").read_text()), SHORT)
    assert ok.returncode == 0


@pytest.mark.slow
def test_no_view_of_database_or_outside_writes(served: Served) -> None:
    executor = served.executor()
    db_dir = served.db.parent
    source = hostile(
        f"""
        import json, os, socket
        seen = {{}}
        seen["db"] = os.path.exists({str(served.db)!r}) or os.path.exists({str(db_dir)!r})
        seen["home"] = os.path.exists(os.path.expanduser("~root/.bashrc"))
        seen["repo"] = os.path.exists({str(ROOT / "lessons")!r})
        for name, path in [("spool", "../evil"), ("etc", "/etc/evil"), ("opt", "/opt/tracker/x")]:
            try:
                open(path, "w").write("x")
                seen[name] = "written"
            except OSError as exc:
                seen[name] = type(exc).__name__
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=1)
            seen["net"] = "connected"
        except OSError as exc:
            seen["net"] = type(exc).__name__
        print("SEEN", json.dumps(seen))
        """
    )
    run = executor.run(make_job(executor.job_root, source), SHORT)
    line = next(x for x in run.output_tail.splitlines() if x.startswith("SEEN "))
    seen = json.loads(line[5:])
    assert seen["db"] is False and seen["home"] is False and seen["repo"] is False
    assert seen["spool"] != "written" and seen["etc"] != "written" and seen["opt"] != "written"
    assert seen["net"] != "connected"
    assert not (served.paths.spool / "evil").exists()


@pytest.mark.slow
def test_bad_requests_are_refused(served: Served) -> None:
    def ask(message: dict) -> dict:
        return request(served.paths.socket, message, timeout=5.0)

    assert ask({"op": "run", "job": "../etc", "limits": {}})["ok"] is False
    assert ask({"op": "run", "job": "job-missing", "limits": {}})["ok"] is False
    job = make_job(served.paths.spool, "x = 1\n")
    assert ask({"op": "run", "job": job.name, "limits": {"timeout_s": -1}})["ok"] is False
    assert ask({"op": "run", "job": job.name, "limits": {"cpu_s": "all"}})["ok"] is False
    assert ask({"op": "reboot"})["ok"] is False
    foreign = {"op": "validate", "lesson_dir": str(served.db.parent), "source": "", "limits": {}}
    assert "exercise lessons" in ask(foreign)["error"]


@pytest.mark.slow
def test_zygote_killed_from_outside_fails_the_job_then_recovers(served: Served) -> None:
    executor = served.executor()
    old = served.info()["zygote_pid"]
    job = make_job(executor.job_root, "import time\ntime.sleep(30)\n")
    errors: list[BaseException] = []

    def run_it() -> None:
        try:
            executor.run(job, Limits(timeout_s=60.0))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    worker = threading.Thread(target=run_it)
    worker.start()
    time.sleep(1.0)
    os.kill(old, signal.SIGKILL)
    worker.join(30)
    assert errors and isinstance(errors[0], WarmWorkerError)
    assert "warm worker failed during this job" in str(errors[0])
    assert "restarting it" in served.log.read_text()
    ok = executor.run(make_job(executor.job_root, (BANK / "correct.py").read_text()), SHORT)
    assert ok.returncode == 0, ok.output_tail
    assert served.info()["zygote_pid"] != old


@pytest.mark.slow
def test_second_serve_refused_and_stop_leaves_nothing(tmp_path: Path) -> None:
    if not _bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    first = start_serve(tmp_path)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "tracker", "serve"],
            env=_serve_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 3
        assert "already runs" in second.stderr
        zygote = first.info()["zygote_pid"]
    finally:
        code = stop_serve(first)
    assert code == 0
    assert not first.paths.socket.exists()
    assert not first.paths.spool.exists()
    assert not Path(f"/proc/{zygote}").exists()
