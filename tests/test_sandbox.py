"""The cold executors: isolation, limits, clean-up, the fallback and device choice.

Most tests run a tiny script in place of worker.py (no torch: fast); the ones
that start real torch workers are marked slow.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tracker.validation import device as device_mod
from tracker.validation import sandbox
from tracker.validation.execution import GiB, Limits, MiB, RawRun

ROOT = Path(__file__).resolve().parents[1]
needs_bwrap = pytest.mark.skipif(
    not sandbox.bubblewrap_works(), reason="bubblewrap cannot run here"
)
ALLOWED_ENV = {
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONNOUSERSITE",
    "PYTHONIOENCODING",
    "LC_CTYPE",  # Python may set it itself (PEP 538)
    "PWD",  # bwrap --chdir sets it
}


def make_job(tmp_path: Path, script: str) -> Path:
    job = tmp_path / "job"
    (job / "out").mkdir(parents=True)
    job.chmod(0o700)
    (job / "worker.py").write_text(textwrap.dedent(script))
    return job


def marker_processes(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry.name))
    return found


def wait_gone(marker: str, seconds: float = 3.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := marker_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


class Listener:
    """A TCP listener on 127.0.0.1 that remembers whether anyone connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, address = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(address)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    opened = Listener()
    yield opened
    opened.close()


SNOOP = """
import json, os, socket, subprocess
from pathlib import Path

result = {}
def attempt(name, action):
    try:
        value = action()
        result[name] = "ok:" + str(value)[:200]
    except Exception as exc:
        result[name] = "denied:" + type(exc).__name__

attempt("read_db", lambda: Path(DB).read_bytes())
attempt("read_reference", lambda: Path(REFERENCE).read_text())
attempt("read_checks", lambda: Path(CHECKS).read_text())
attempt("list_repo", lambda: sorted(os.listdir(REPO)))
attempt("list_home", lambda: sorted(os.listdir(HOST_HOME)))
attempt("write_outside", lambda: Path(OUTSIDE).write_text("owned"))
attempt("write_job", lambda: Path("/job/planted").write_text("owned"))
attempt("write_root", lambda: Path("/planted").write_text("owned"))
attempt("write_usr", lambda: Path("/usr/planted").write_text("owned"))
attempt("connect", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2).close())
attempt("connect_name", lambda: socket.create_connection(("localhost", PORT), timeout=2).close())
attempt("write_tmp", lambda: Path("/tmp/scratch").write_text("fine"))
result["uid"] = os.getuid()
result["home"] = os.path.expanduser("~")
result["env"] = sorted(os.environ)
result["pids"] = len([p for p in os.listdir("/proc") if p.isdigit()])
subprocess.Popen(["/bin/sh", "-c", "sleep 30; :", MARKER], start_new_session=True)
Path("/job/out/result.json").write_text(json.dumps(result))
"""


def snoop_script(tmp_path: Path, listener: Listener, marker: str) -> tuple[str, Path, Path]:
    db = tmp_path / "tracker.db"
    db.write_bytes(b"SQLite format 3\0 secret rows")
    outside = tmp_path / "outside.txt"
    values = {
        "DB": str(db),
        "REFERENCE": str(ROOT / "lessons/multi-head-attention-2/reference.py"),
        "CHECKS": str(ROOT / "lessons/multi-head-attention-2/checks.py"),
        "REPO": str(ROOT),
        "HOST_HOME": str(Path.home()),
        "OUTSIDE": str(outside),
        "PORT": listener.port,
        "MARKER": marker,
    }
    header = "".join(f"{k} = {v!r}\n" for k, v in values.items())
    return header + SNOOP, db, outside


@needs_bwrap
def test_bubblewrap_isolation_holds(tmp_path: Path, listener: Listener) -> None:
    marker = f"snoop-{os.getpid()}-{time.monotonic_ns()}"
    script, _db, outside = snoop_script(tmp_path, listener, marker)
    job = make_job(tmp_path, script)
    raw = sandbox.ColdExecutor().run(job, Limits(timeout_s=20))
    assert raw.isolation == "bubblewrap"
    assert raw.returncode == 0, raw.output_tail
    result = json.loads((job / "out/result.json").read_text())
    for name in (
        "read_db",
        "read_reference",
        "read_checks",
        "write_outside",
        "write_job",
        "write_root",
        "write_usr",
        "connect",
        "connect_name",
    ):
        assert result[name].startswith("denied:"), (name, result[name])
    # The repository is not there; at most the path down to a venv kept inside it.
    assert result["list_repo"] in ("denied:FileNotFoundError", "ok:['.venv']"), result
    home = Path.home()
    python_parts = {
        Path(p).relative_to(home).parts[0]
        for p in (sys.prefix, sys.base_prefix)
        if Path(p).is_relative_to(home)
    }
    if result["list_home"].startswith("ok:"):
        assert set(ast.literal_eval(result["list_home"][3:])) <= python_parts, result["list_home"]
    assert result["write_tmp"] == "ok:4"
    assert result["uid"] == sandbox.SANDBOX_UID
    assert result["home"] == "/tmp"
    assert set(result["env"]) <= ALLOWED_ENV
    assert result["pids"] <= 3  # its own PID namespace
    assert not outside.exists()
    assert sorted(p.name for p in job.iterdir()) == ["out", "worker.py"]
    assert sorted(p.name for p in (job / "out").iterdir()) == ["result.json"]
    assert wait_gone(marker) == []
    assert listener.accepted == []


def test_rlimits_only_runs_with_limits_and_cleans_up(tmp_path: Path) -> None:
    marker = f"plain-{os.getpid()}-{time.monotonic_ns()}"
    job = make_job(
        tmp_path,
        f"""
        import json, os, resource, subprocess
        subprocess.Popen(["/bin/sh", "-c", "sleep 30; :", {marker!r}])
        limits = {{n: resource.getrlimit(getattr(resource, n))[0]
                  for n in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CORE")}}
        result = {{"limits": limits, "env": sorted(os.environ)}}
        open("out/result.json", "w").write(json.dumps(result))
        """,
    )
    limits = Limits(timeout_s=20, cpu_s=30, memory_bytes=4 * GiB, file_bytes=8 * MiB)
    raw = sandbox.RlimitsOnlyExecutor().run(job, limits)
    assert raw.isolation == "rlimits-only"
    assert raw.returncode == 0, raw.output_tail
    result = json.loads((job / "out/result.json").read_text())
    assert result["limits"] == {
        "RLIMIT_CPU": 30,
        "RLIMIT_AS": 4 * GiB,
        "RLIMIT_FSIZE": 8 * MiB,
        "RLIMIT_CORE": 0,
    }
    assert set(result["env"]) <= ALLOWED_ENV
    assert wait_gone(marker) == []


EXECUTORS = [
    pytest.param(sandbox.ColdExecutor, marks=needs_bwrap, id="bubblewrap"),
    pytest.param(sandbox.RlimitsOnlyExecutor, id="rlimits-only"),
]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_timeout_kills_the_whole_tree(tmp_path: Path, executor: type) -> None:
    marker = f"loop-{os.getpid()}-{time.monotonic_ns()}"
    job = make_job(
        tmp_path,
        f"""
        import subprocess
        for _ in range(3):
            subprocess.Popen(["/bin/sh", "-c", "sleep 60; :", {marker!r}])
        subprocess.Popen(["/bin/sh", "-c", "sleep 60; :", {marker!r}], start_new_session=True)
        while True:
            pass
        """,
    )
    raw = executor().run(job, Limits(timeout_s=1.5))
    assert raw.timed_out and raw.returncode is None
    assert wait_gone(marker) == []


@pytest.mark.parametrize("executor", EXECUTORS)
def test_output_flood_is_capped(tmp_path: Path, executor: type) -> None:
    job = make_job(
        tmp_path,
        """
        import sys
        while True:
            sys.stdout.write("y" * 65536)
        """,
    )
    raw = executor().run(job, Limits(timeout_s=20, output_bytes=256 * 1024))
    assert raw.limit_hit == "output"
    assert 0 < len(raw.output_tail) <= sandbox.TAIL_BYTES


@pytest.mark.parametrize("executor", EXECUTORS)
def test_process_limit(tmp_path: Path, executor: type) -> None:
    marker = f"spray-{os.getpid()}-{time.monotonic_ns()}"
    job = make_job(
        tmp_path,
        f"""
        import subprocess, time
        for _ in range(100):
            subprocess.Popen(["/bin/sh", "-c", "sleep 60; :", {marker!r}])
        time.sleep(60)
        """,
    )
    raw = executor().run(job, Limits(timeout_s=20, processes=20))
    assert raw.limit_hit == "processes"
    assert wait_gone(marker) == []


@pytest.mark.parametrize("executor", EXECUTORS)
def test_memory_limit(tmp_path: Path, executor: type) -> None:
    job = make_job(tmp_path, "x = bytearray(64 << 30)\n")
    raw = executor().run(job, Limits(timeout_s=20, memory_bytes=2 * GiB))
    assert raw.limit_hit == "memory", raw.output_tail


@pytest.mark.parametrize("executor", EXECUTORS)
def test_cpu_limit(tmp_path: Path, executor: type) -> None:
    job = make_job(tmp_path, "while True:\n    pass\n")
    raw = executor().run(job, Limits(timeout_s=30, cpu_s=1))
    assert raw.limit_hit == "cpu"
    assert not raw.timed_out


@pytest.mark.parametrize("executor", EXECUTORS)
def test_file_size_limit(tmp_path: Path, executor: type) -> None:
    job = make_job(
        tmp_path,
        """
        with open("/job/out/big" if __file__.startswith("/job") else "out/big", "wb") as f:
            f.write(b"z" * (4 << 20))
        """,
    )
    raw = executor().run(job, Limits(timeout_s=20, file_bytes=1 * MiB))
    assert raw.limit_hit == "file size", raw.output_tail
    assert (job / "out/big").stat().st_size <= 1 * MiB


@pytest.mark.parametrize("executor", EXECUTORS)
def test_peak_rss_is_measured_from_outside(tmp_path: Path, executor: type) -> None:
    job = make_job(tmp_path, "x = bytearray(200 << 20)\n")  # zero-filled: really resident
    raw = executor().run(job, Limits(timeout_s=20))
    assert raw.returncode == 0, raw.output_tail
    assert raw.peak_rss_bytes >= 200 * MiB


def test_fallback_when_bubblewrap_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    sandbox.bubblewrap_works.cache_clear()
    try:
        assert not sandbox.bubblewrap_works()
        chosen = sandbox.executor_for("cpu")
        assert isinstance(chosen, sandbox.RlimitsOnlyExecutor)
        assert chosen.isolation == "rlimits-only"
        with pytest.raises(sandbox.SandboxUnavailable, match="bubblewrap is not installed"):
            sandbox.executor_for("cpu", require_isolation=True)
    finally:
        sandbox.bubblewrap_works.cache_clear()


def test_fallback_when_bubblewrap_fails_its_probe(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "bwrap"
    broken.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
    )
    broken.chmod(0o755)
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: str(broken))
    sandbox.bubblewrap_works.cache_clear()
    try:
        assert isinstance(sandbox.executor_for("cpu"), sandbox.RlimitsOnlyExecutor)
        with pytest.raises(sandbox.SandboxUnavailable, match="cannot create a sandbox"):
            sandbox.executor_for("cpu", require_isolation=True)
    finally:
        sandbox.bubblewrap_works.cache_clear()


def test_require_isolation_without_bubblewrap_exits_3(
    monkeypatch: pytest.MonkeyPatch, tracker_env: Path, cli_run
) -> None:
    monkeypatch.setattr(sandbox, "bubblewrap_works", lambda: False)
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    config = tracker_env / "config.toml"
    config.write_text('timezone = "UTC"\nrequire_isolation = true\n')
    submission = tracker_env / "mha.py"
    submission.write_text("x = 1\n")
    result = cli_run("submit", "multi-head-attention-2", str(submission))
    assert result.exit_code == 3
    assert "require_isolation is set but bubblewrap is not installed" in result.output
    assert "Traceback" not in result.output


def test_bwrap_command_shape(tmp_path: Path) -> None:
    if sandbox.bwrap_path() is None:
        pytest.skip("bwrap is not installed")
    argv = sandbox.ColdExecutor().command(tmp_path)
    joined = " ".join(argv)
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--as-pid-1"):
        assert flag in argv
    assert f"--ro-bind {tmp_path} /job" in joined
    assert f"--bind {tmp_path / 'out'} /job/out" in joined
    assert "--tmpfs /tmp" in joined
    assert "--share-net" not in argv
    assert str(ROOT / "lessons") not in joined
    assert "/dev/nvidia" not in joined


# --- device choice ---------------------------------------------------------------------------


@pytest.fixture
def accelerators(monkeypatch: pytest.MonkeyPatch):
    state = {"cuda": False, "mps": False}
    monkeypatch.setattr(device_mod, "cuda_available", lambda: state["cuda"])
    monkeypatch.setattr(device_mod, "mps_available", lambda: state["mps"])
    return state


def test_auto_prefers_cuda_then_mps_then_cpu(accelerators: dict) -> None:
    assert device_mod.resolve_device("auto") == "cpu"
    accelerators["mps"] = True
    assert device_mod.resolve_device("auto") == "mps"
    accelerators["cuda"] = True
    assert device_mod.resolve_device("auto") == "cuda"
    assert device_mod.resolve_device("cpu") == "cpu"


def test_unavailable_device_is_a_usage_error(accelerators: dict) -> None:
    from tracker.errors import UsageError

    for name in ("cuda", "mps"):
        with pytest.raises(UsageError, match=f"--device {name}"):
            device_mod.resolve_device(name)
    with pytest.raises(UsageError, match="unknown device"):
        device_mod.resolve_device("tpu")


def test_cuda_availability_asks_torch_when_a_driver_is_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    monkeypatch.setattr(device_mod, "nvidia_driver_present", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device_mod.resolve_device("auto") == "cuda"
    assert device_mod.resolve_device("cuda") == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device_mod.resolve_device("auto") == ("mps" if device_mod.mps_available() else "cpu")


def test_no_driver_means_no_cuda_without_importing_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device_mod, "nvidia_driver_present", lambda: False)
    assert device_mod.cuda_available() is False


def test_cuda_runs_without_an_address_space_limit(tmp_path: Path) -> None:
    job = make_job(
        tmp_path,
        """
        import resource
        open("out/as", "w").write(str(resource.getrlimit(resource.RLIMIT_AS)[0]))
        """,
    )
    executor = sandbox.RlimitsOnlyExecutor(device="cuda")
    raw = executor.run(job, Limits(timeout_s=20, memory_bytes=1 * GiB))
    assert raw.returncode == 0, raw.output_tail
    assert int((job / "out/as").read_text()) == -1  # RLIM_INFINITY


@pytest.mark.slow
@needs_bwrap
def test_submission_cannot_leak_secrets_through_a_verdict(
    tmp_path: Path, tracker_env: Path, cli_run
) -> None:
    """End to end: a submission that reads what it should not, and reports it in its errors."""
    submission = tmp_path / "snoop.py"
    submission.write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            leaked = []
            for path in ({str(tracker_env / "tracker.db")!r},
                         {str(ROOT / "lessons/multi-head-attention-2/reference.py")!r}):
                try:
                    leaked.append(Path(path).read_bytes()[:60].decode(errors="replace"))
                except OSError as exc:
                    leaked.append("no:" + type(exc).__name__)
            raise RuntimeError("LEAK " + " | ".join(leaked))
            """
        )
    )
    cli_run("init")
    result = cli_run("submit", "multi-head-attention-2", str(submission), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["isolation"] == "bubblewrap"
    assert "LEAK no:FileNotFoundError | no:FileNotFoundError" in document["error"]
    assert "(line 10)" in document["error"]


# --- reading out/ back: untrusted bytes ------------------------------------------------------


def _raw(**fields) -> RawRun:
    return RawRun(
        **{"returncode": 0, "wall_s": 0.1, "peak_rss_bytes": 1, "isolation": "test", **fields}
    )


def test_results_are_read_without_following_links(tmp_path: Path) -> None:
    from tracker.validation.runner import phase_result

    secret = tmp_path / "secret.txt"
    secret.write_text('{"stolen": "yes"}')
    (tmp_path / "out").mkdir()
    (tmp_path / "out/notes.json").symlink_to(secret)
    (tmp_path / "out/outputs.safetensors").write_bytes(b"")
    result = phase_result(tmp_path, _raw(), Limits())
    assert result.error is not None and "unreadable" in result.error
    assert result.notes == {}


def test_results_refuse_fifos_and_oversized_files(tmp_path: Path) -> None:
    from tracker.validation.runner import phase_result

    (tmp_path / "out").mkdir()
    os.mkfifo(tmp_path / "out/notes.json")
    (tmp_path / "out/outputs.safetensors").write_bytes(b"")
    assert "not a regular file" in (phase_result(tmp_path, _raw(), Limits()).error or "")
    (tmp_path / "out/notes.json").unlink()
    (tmp_path / "out/notes.json").write_text("{}")
    (tmp_path / "out/outputs.safetensors").write_bytes(b"x" * 2048)
    error = phase_result(tmp_path, _raw(), Limits(file_bytes=1024)).error
    assert (
        error
        == "the worker handed back something unreadable: outputs.safetensors is larger than 1 KiB"
    )


@pytest.mark.parametrize(
    ("raw", "payload", "expected"),
    [
        (_raw(timed_out=True, returncode=None), None, "timed out after 60 s"),
        (_raw(limit_hit="memory"), None, "hit the memory limit (8 GiB)"),
        (_raw(limit_hit="cpu"), None, "hit the CPU time limit (600 s)"),
        (_raw(limit_hit="file size"), None, "hit the file size limit (64 MiB)"),
        (_raw(limit_hit="processes"), None, "hit the process limit (256 processes)"),
        (
            _raw(returncode=-9),
            None,
            "the worker exited before handing back results (killed by SIGKILL)",
        ),
        (
            _raw(returncode=1),
            {"kind": "syntax", "message": "SyntaxError: invalid syntax", "line": 12},
            "SyntaxError: invalid syntax (line 12)",
        ),
        (
            _raw(returncode=11),
            {"kind": "import", "message": "NameError: name 'x' is not defined", "line": 3},
            "NameError: name 'x' is not defined (line 3)",
        ),
        (_raw(returncode=11), "not json", "the submission could not be loaded"),
    ],
)
def test_phase_errors_read_well(tmp_path: Path, raw: RawRun, payload, expected: str) -> None:
    from tracker.validation.runner import phase_result

    (tmp_path / "out").mkdir()
    if payload is not None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        (tmp_path / "out/error.json").write_text(text)
    assert phase_result(tmp_path, raw, Limits()).error == expected


@pytest.mark.slow
def test_a_failing_runner_cancels_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers started early (late inputs) are stopped and cleaned up when the runner fails."""
    import tempfile
    import types

    from tracker.validation import runner

    def broken(phase: str, seed: int):
        raise RuntimeError("lesson bug")

    fake = types.SimpleNamespace(PHASES=("main",), make_inputs=broken)
    monkeypatch.setattr(runner, "load_checks", lambda lesson_dir: fake)
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(jobs))
    submission = tmp_path / "s.py"
    submission.write_text("import time\n")
    with pytest.raises(RuntimeError, match="lesson bug"):
        runner.validate(
            ROOT / "lessons/multi-head-attention-2", submission, device="cpu", limits=Limits()
        )
    assert [p.name for p in jobs.glob("tracker-jobs-*/*")] == []  # none left in the parent
    assert sandbox._descendants(sandbox._process_table(), os.getpid()) == {}


class RecordingExecutor:
    """Records each job's spec; the worker never runs, so every check fails."""

    isolation = "test"

    def __init__(self) -> None:
        self.specs: dict[str, dict] = {}

    def run(self, job_dir: Path, limits: Limits) -> RawRun:
        spec = json.loads((Path(job_dir) / "job.json").read_text())
        self.specs[spec["phase"]] = spec
        return RawRun(returncode=1, wall_s=0.0, peak_rss_bytes=0, isolation=self.isolation)


def test_memory_phases_run_on_the_cpu_whatever_the_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A CUDA peak could only be read inside the learner's process: memory is RSS on the CPU."""
    from tracker.resources import lessons_dir
    from tracker.validation.runner import start_validation

    monkeypatch.setattr(device_mod, "cuda_available", lambda: True)
    executor = RecordingExecutor()
    verdict = start_validation(
        lessons_dir() / "flash-attention-3",
        b"def flash_attention(q, k, v, causal=False, block_size=64):\n    return q\n",
        device="cuda",
        limits=Limits(timeout_s=5),
        executor=executor,
        seed=1,
    ).result()
    assert {phase: spec["device"] for phase, spec in executor.specs.items()} == {
        "main": "cuda",
        "memory_baseline": "cpu",
        "memory": "cpu",
    }
    assert verdict.device == "cuda" and not verdict.passed


def test_the_sandbox_is_here_where_it_is_expected() -> None:
    """CI sets TRACKER_EXPECT_BWRAP=1: the sandbox tests must run there, not skip."""
    if os.environ.get("TRACKER_EXPECT_BWRAP") != "1":
        pytest.skip("TRACKER_EXPECT_BWRAP is not set")
    assert sandbox.bubblewrap_works(), "bubblewrap is expected but cannot create a sandbox"


def test_a_stocked_seed_is_used_once_and_replaced() -> None:
    """`tracker serve` makes the next inputs ahead of time; each seed serves one validation."""
    from tracker.resources import lessons_dir
    from tracker.validation.runner import InputStock, load_checks, start_validation

    lesson = lessons_dir() / "attention-mechanism-1"
    stock = InputStock()
    stock.refill(lesson)
    executor = RecordingExecutor()
    executor.input_stock = stock
    first = stock._ready[lesson.resolve()][1]
    verdict = start_validation(
        lesson, b"x = 1\n", device="cpu", limits=Limits(timeout_s=5), executor=executor
    ).result()
    assert verdict.seed == first and not verdict.passed
    deadline = time.monotonic() + 30
    while lesson.resolve() not in stock._ready:  # refilled in the background
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert stock.take(lesson, object()) is None  # made by another checks module: not used
    stock.refill(lesson)
    seed, inputs = stock.take(lesson, load_checks(lesson))
    assert set(inputs) == {"main"} and stock.take(lesson, load_checks(lesson)) is None
