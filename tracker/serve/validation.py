"""The validation service of `tracker serve`: the warm worker and the hand-off socket.

A learner's ``tracker submit`` connects to the database's private socket
(mode 0600, beside the database) and sends its request
(``tracker.validation.protocol``); this service answers it by calling the
submit use case with the warm worker's executor, exactly as a cold submit
calls it with a cold one. While the checks run it sends a heartbeat every
second, so the client can tell a busy server from a stopped one; a client
that goes away (Ctrl-C) cancels its request: the job is killed and only the
cancelled attempt is recorded.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

from tracker.config import settings_from
from tracker.db.location import resolve_location
from tracker.errors import TrackerError
from tracker.faults import crash_point
from tracker.serve.host import Host
from tracker.validation import protocol
from tracker.validation.wire import LineReader, send_message, socket_address, warm_paths

CLIENT_READ_TIMEOUT_S = 5.0


class ValidationService:
    name = "validation"

    def __init__(self, *, require_isolation: bool) -> None:
        self.require_isolation = require_isolation
        self.host: Host | None = None
        self.worker: Any = None  # tracker.validation.warm_worker.WarmWorker, once started
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._learners: dict[str, int] = {}
        self._learners_lock = threading.Lock()
        self._in_flight: set[threading.Event] = set()
        self._in_flight_lock = threading.Lock()

    # --- life cycle
    def start(self, host: Host) -> None:
        from tracker.validation.warm_worker import open_warm_worker

        self.host = host
        # The host holds the serve lock: whatever is at these paths is a dead serve's.
        self.worker = open_warm_worker(
            host.paths.spool, require_isolation=self.require_isolation, log=host.log
        )
        path = host.paths.socket
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            with socket_address(path) as address:
                listener.bind(address)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        listener.listen(16)
        listener.settimeout(0.5)
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, name="hand-off", daemon=True)
        self._accepting.start()
        how = (
            "in a bubblewrap sandbox"
            if self.worker.sandboxed
            else "with limits only (no bubblewrap)"
        )
        host.log(f"warm validation worker ready, {how}; submissions hand off at {path}")

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._accepting is not None:
            self._accepting.join(5)
        with self._in_flight_lock:
            for cancel in self._in_flight:
                cancel.set()
        if self.worker is not None:
            self.worker.close()
        if self.host is not None:
            with contextlib.suppress(FileNotFoundError):
                self.host.paths.socket.unlink()

    def _accept(self) -> None:
        while self._listener is not None:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except (OSError, AttributeError):
                return  # closed by stop()
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    # --- one connection
    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                if not _peer_is_us(conn):
                    send_message(conn, protocol.declined("not your server"))
                    return
                conn.settimeout(CLIENT_READ_TIMEOUT_S)
                message = LineReader(conn).next()
                op = message.get("op")
                if op == "ping":
                    send_message(conn, self.ping())
                elif op == "submit":
                    self._submit(conn, message)
                else:
                    send_message(conn, protocol.declined(f"unknown op {op!r}"))
            except (OSError, ValueError) as exc:
                with contextlib.suppress(OSError):
                    send_message(conn, protocol.declined(f"bad request: {exc}"))

    def ping(self) -> dict[str, Any]:
        assert self.worker is not None and self.host is not None
        return {
            "ok": True,
            "isolation": self.worker.isolation,
            "spool": str(self.host.paths.spool),
            "zygote_pid": self.worker.zygote.pid,
            "landlock_abi": self.worker.zygote.info.get("landlock", 0),
            "jobs": self.worker.jobs,
            "restarts": self.worker.restarts,
            "pid": os.getpid(),
        }

    def _refusal(self, request: protocol.SubmitMessage) -> str | None:
        """Why this server must not answer ``request`` (another database, other lessons)."""
        from tracker.resources import lessons_dir

        assert self.host is not None
        try:
            same = warm_paths(resolve_location(request.database)) == self.host.paths
        except TrackerError:
            same = False
        if not same:
            return "this server validates for another database"
        if Path(request.lessons_dir).resolve() != lessons_dir().resolve():
            return "this server uses another lessons folder"
        return None

    def _submit(self, conn: socket.socket, message: dict[str, Any]) -> None:
        assert self.host is not None
        started = time.monotonic()
        try:
            request = protocol.SubmitMessage.from_message(message)
        except ValueError as exc:
            send_message(conn, protocol.declined(f"malformed submit request: {exc}"))
            return
        refusal = self._refusal(request)
        if refusal is not None:
            send_message(conn, protocol.declined(refusal))
            return
        send_message(conn, protocol.accepted())
        cancel = threading.Event()
        result: dict[str, Any] = {}
        work = threading.Thread(
            target=self._run_submit, args=(request, cancel, result), name="submit", daemon=True
        )
        with self._in_flight_lock:
            self._in_flight.add(cancel)
        try:
            work.start()
            while work.is_alive():
                work.join(protocol.HEARTBEAT_S)
                if work.is_alive() and not cancel.is_set() and not _still_there(conn):
                    cancel.set()
                    executor = result.get("executor")
                    if executor is not None:
                        executor.cancel()
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(cancel)
        reply = result.get("reply") or protocol.declined("tracker serve sent no result")
        crash_point("serve-before-reply")
        summary = result.get("summary", "no result")
        self.host.log(
            f"submit {request.lesson_id}: {summary} in {time.monotonic() - started:.2f} s"
        )
        with contextlib.suppress(OSError):
            send_message(conn, reply)

    def _learner_id(self, store: Any, name: str, now: Any) -> int:
        from tracker.store import learner_id_for

        with self._learners_lock:
            if name not in self._learners:
                self._learners[name] = learner_id_for(store, name, now=now)
            return self._learners[name]

    def _run_submit(
        self, request: protocol.SubmitMessage, cancel: threading.Event, result: dict[str, Any]
    ) -> None:
        """The submit use case, as a cold submit runs it, on the warm worker."""
        from tracker.store import sync_if_changed
        from tracker.usecases.submit import SubmitRequest, submit
        from tracker.validation.device import resolve_device

        assert self.host is not None and self.worker is not None
        try:
            settings = settings_from(request.settings, "the submitting command's settings")
            now = request.instant
            store = self.host.store.with_settings(settings)
            sync_if_changed(store, now=now)
            learner_id = self._learner_id(store, settings.learner, now)
            executor = self.worker.executor(resolve_device(request.device))
            result["executor"] = executor
            if cancel.is_set():
                executor.cancel()
            outcome = submit(
                store,
                SubmitRequest(
                    lesson_id=request.lesson_id,
                    path=Path(request.file),
                    device=request.device,
                    timeout=request.timeout,
                    for_review=request.for_review,
                    request_id=request.request_id,
                ),
                learner_id=learner_id,
                now=now,
                executor=executor,
                cancel=cancel,
            )
        except TrackerError as exc:
            result["reply"] = protocol.error_reply(str(exc), exc.exit_code)
            result["summary"] = f"refused ({exc})"
        except Exception as exc:  # noqa: BLE001 - the client runs it cold instead
            result["reply"] = protocol.declined(f"{type(exc).__name__}: {exc}")
            result["summary"] = f"failed inside serve ({type(exc).__name__}: {exc})"
        else:
            result["reply"] = protocol.outcome_reply(outcome.as_dict(), outcome.exit_code)
            result["summary"] = outcome.summary


def _still_there(conn: socket.socket) -> bool:
    """Whether the client is still connected: a heartbeat goes through, no EOF is waiting."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if readable and conn.recv(1, socket.MSG_PEEK) == b"":
            return False
        send_message(conn, protocol.progress())
    except OSError:
        return False
    return True


def _peer_is_us(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.geteuid()
