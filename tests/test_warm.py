"""The warm validation worker of ``tracker serve``: isolation, clean-up, parity, recovery.

One ``WarmWorker`` (module scope: its zygote imports torch) runs in this
process with a spool of its own; jobs are built by hand the way the runner
builds them (worker.py, probe_kit.py, probe.py, submission.py, inputs, job.json, out/) and
run through its executor, and where it matters the same job runs through the
cold executor and both must agree. The socket side (a real ``tracker serve``)
is tested in test_handoff.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_support import ROOT, bwrap_works

from tracker.db.engine import resolve_location
from tracker.validation.execution import Limits
from tracker.validation.warm_worker import WarmExecutor, WarmWorker
from tracker.validation.wire import socket_is_private, warm_paths

LESSON = ROOT / "lessons" / "multi-head-attention-2"
BANK = ROOT / "tests" / "submissions" / "multi-head-attention-2"
SHORT = Limits(timeout_s=20.0)


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


class Warm:
    """The module's warm worker, its log, and a fresh executor per use."""

    def __init__(self, worker: WarmWorker, log: list[str]) -> None:
        self.worker = worker
        self.log = log

    @property
    def spool(self) -> Path:
        return self.worker.spool

    def executor(self) -> WarmExecutor:
        return self.worker.executor("cpu")

    def job(self, source: str) -> Path:
        return make_job(self.spool, source)

    def run(self, source: str, limits: Limits = SHORT):  # noqa: ANN201 - RawRun
        return self.executor().run(self.job(source), limits)


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warm]:
    if not bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    log: list[str] = []
    worker = WarmWorker(tmp_path_factory.mktemp("warm") / "spool", sandboxed=True, log=log.append)
    worker.start()
    yield Warm(worker, log)
    worker.close()


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


# --- fast: no worker needed ------------------------------------------------------------------


def test_paths_sit_beside_the_database(tmp_path: Path) -> None:
    paths = warm_paths(resolve_location(str(tmp_path / "my.db")))
    assert paths.socket == tmp_path / "my.db.sock"
    assert paths.spool == tmp_path / "my.db.spool"
    assert paths.lock == tmp_path / "my.db.serve.lock"


def test_socket_with_wrong_mode_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        os.chmod(path, 0o600)
        assert socket_is_private(path)
        os.chmod(path, 0o666)
        assert not socket_is_private(path)
    path.unlink()
    path.write_text("not a socket")
    os.chmod(path, 0o600)
    assert not socket_is_private(path)


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
    assert not (tracker_env / "tracker.db.spool").exists()


def test_serve_has_help(cli_run) -> None:
    result = cli_run("serve", "--help")
    assert result.exit_code == 0
    assert "warm validation worker" in result.output


# --- slow: a real zygote ------------------------------------------------------------------------


@pytest.mark.slow
def test_spool_is_private(warm: Warm) -> None:
    assert oct(os.lstat(warm.spool).st_mode & 0o777) == "0o700"
    assert warm.worker.isolation == "bubblewrap (warm)"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["correct.py", "syntax", "memory"])
def test_warm_and_cold_agree(warm: Warm, tmp_path: Path, name: str) -> None:
    from tracker.validation.sandbox import ColdExecutor

    sources = {
        "syntax": "def broken(:\n",
        "memory": "block = bytearray(64 * 2**30)\n",  # past RLIMIT_AS: MemoryError on import
    }
    source = sources.get(name) or (BANK / name).read_text()
    warm_job = warm.job(source)
    cold_job = make_job(tmp_path, source)
    hot = warm.executor().run(warm_job, SHORT)
    cold = ColdExecutor().run(cold_job, SHORT)
    assert hot.isolation == "bubblewrap (warm)"
    assert (hot.returncode, hot.timed_out, hot.limit_hit) == (
        cold.returncode,
        cold.timed_out,
        cold.limit_hit,
    )
    assert out_files(warm_job) == out_files(cold_job)
    assert hot.peak_rss_bytes > 0
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
    [
        BANK / "correct.py",
        BANK / "wrong_no_scaling.py",
        BANK / "wrong_wrong_class_name.py",
        *HOSTILE,
    ],
    ids=lambda p: p.stem,
)
def test_verdicts_are_identical_warm_and_cold(warm: Warm, tmp_path: Path, source: Path) -> None:
    from tracker.validation.sandbox import ColdExecutor

    marker = f"warm-{source.stem}-{os.getpid()}"
    outside = tmp_path / "outside"
    text = source.read_text()
    text = text.replace("__MARKER__", marker).replace("__OUTSIDE__", str(outside))
    submission = tmp_path / "submission.py"
    submission.write_text(text.replace("__PORT__", "9"))
    limits = Limits(timeout_s=4.0)
    cold = _verdict(ColdExecutor(), submission, limits)
    hot = _verdict(warm.executor(), submission, limits)
    if source.stem == "kill_parent":
        # The cold worker is PID 1 of its namespace, so the `kill -9 -1` of its own
        # subprocess cannot touch it; a warm child is not, and dies. Both fail.
        assert hot["passed"] is cold["passed"] is False
    else:
        assert hot == cold
    assert procs_with(marker) == []
    assert not outside.exists()
    assert list(warm.spool.iterdir()) == []


@pytest.mark.slow
def test_a_job_outside_the_spool_is_refused(warm: Warm, tmp_path: Path) -> None:
    job = make_job(tmp_path, (BANK / "correct.py").read_text())
    with pytest.raises(ValueError, match="not in the warm worker's spool"):
        warm.executor().run(job, SHORT)


@pytest.mark.slow
def test_infinite_loop_times_out(warm: Warm) -> None:
    job = warm.job("while True:\n    pass\n")
    run = warm.executor().run(job, Limits(timeout_s=1.0))
    assert run.timed_out and run.returncode is None
    assert not (job / "out" / "outputs.safetensors").exists()


@pytest.mark.slow
def test_output_flood_hits_the_cap(warm: Warm) -> None:
    source = "import sys\nwhile True:\n    sys.stdout.write('x' * 4096)\n"
    run = warm.run(source, Limits(timeout_s=10.0, output_bytes=100_000))
    assert run.limit_hit == "output"
    assert len(run.output_tail) <= 8 * 1024


@pytest.mark.slow
def test_escaped_grandchild_and_tmp_files_are_gone_after_the_job(warm: Warm) -> None:
    probe = "import os\nprint('TMP', sorted(os.listdir('/tmp')), flush=True)\nos._exit(3)\n"
    # Mount points of bound dirs can show in /tmp (a checkout under /tmp): compare, don't assume.
    before = warm.run(probe).output_tail
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
    run = warm.run(source)
    assert run.returncode == 0, run.output_tail
    assert procs_with(marker) == []
    run = warm.run(probe)
    assert run.returncode == 3
    assert run.output_tail == before
    assert "left-behind" not in before


@pytest.mark.slow
def test_learner_cannot_kill_the_zygote(warm: Warm) -> None:
    before = warm.worker.zygote.pid
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
    run = warm.run(source)
    assert run.returncode == 0, run.output_tail
    assert warm.worker.zygote.pid == before and warm.worker.zygote.alive
    assert warm.run((BANK / "correct.py").read_text()).returncode == 0


@pytest.mark.slow
def test_no_view_of_database_or_outside_writes(warm: Warm, tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    db.write_bytes(b"SQLite format 3\0")
    source = hostile(
        f"""
        import json, os, socket
        seen = {{}}
        seen["db"] = os.path.exists({str(db)!r}) or os.path.exists({str(tmp_path)!r})
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
    run = warm.run(source)
    line = next(x for x in run.output_tail.splitlines() if x.startswith("SEEN "))
    seen = json.loads(line[5:])
    assert seen["db"] is False and seen["home"] is False and seen["repo"] is False
    assert seen["spool"] != "written" and seen["etc"] != "written" and seen["opt"] != "written"
    assert seen["net"] != "connected"
    assert not (warm.spool / "evil").exists()


@pytest.mark.slow
def test_a_cancelled_job_is_killed_and_others_run(warm: Warm) -> None:
    executor = warm.executor()
    job = warm.job("import time\ntime.sleep(30)\n")
    runs = []
    thread = threading.Thread(target=lambda: runs.append(executor.run(job, SHORT)))
    started = time.monotonic()
    thread.start()
    time.sleep(1.0)
    executor.cancel()
    thread.join(10)
    assert runs and runs[0].limit_hit == "interrupted"
    assert time.monotonic() - started < 5
    # Later jobs of a cancelled validation never start; another validation's do.
    assert executor.run(warm.job("x = 1\n"), SHORT).limit_hit == "interrupted"
    assert warm.run((BANK / "correct.py").read_text()).returncode == 0


@pytest.mark.slow
def test_a_zygote_killed_during_a_job_reruns_it_cold_then_stays_warm(warm: Warm) -> None:
    """The fault: `kill -9` of the warm worker during a job (issue 9, item 2).

    The job still gets its run (cold), a new zygote starts, and it survives its
    own first job: started from the keeper thread, not from the request's
    thread that bwrap's --die-with-parent would have tied it to.
    """
    old = warm.worker.zygote.pid
    job = warm.job("import time\ntime.sleep(2)\nprint('slept')\n")
    runs = []

    def run_it() -> None:  # a short-lived request thread, as serve's are
        runs.append(warm.executor().run(job, SHORT))

    worker = threading.Thread(target=run_it)
    worker.start()
    time.sleep(0.8)
    os.kill(old, signal.SIGKILL)
    worker.join(60)
    assert runs, warm.log
    assert runs[0].returncode == 0 and runs[0].isolation == "bubblewrap", runs[0]
    assert "slept" in runs[0].output_tail
    assert any("restarting it" in line for line in warm.log)
    new = warm.worker.zygote.pid
    assert new != old
    for _ in range(3):  # each job warm, on the same zygote, which outlives them all
        thread = threading.Thread(target=run_it)
        thread.start()
        thread.join(60)
        assert runs[-1].isolation == "bubblewrap (warm)", runs[-1]
        assert warm.worker.zygote.pid == new and warm.worker.zygote.alive
