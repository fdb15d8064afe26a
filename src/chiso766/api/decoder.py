"""The ingest decoder process: Python decodes a request body (:func:`chiso766.store.jsonbody.outline_body`) in a
separate process while the writer reads and certifies the same bytes in DuckDB.

Why a process: DuckDB's Python client takes the GIL now and then while a query runs, so a decoding thread in the
same process (which holds the GIL for its whole decode) slows the query down several times over. Only the
outline travels back (each record's ``MaHoSo``), never the records. Whenever the process is unavailable — turned
off with ``CHISO766_DECODER_PROCESS=0``, failed to start, or killed — :meth:`BodyDecoder.submit` returns None and
the caller decodes in-process as before. The worker is started with ``spawn`` (never ``fork`` from a threaded
server). It exits with the server, even after ``kill -9``: it watches its parent (its request pipe cannot tell,
as the worker holds a copy of the pipe's write end).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from chiso766.store.jsonbody import BodyError, BodyOutline, outline_body

log = logging.getLogger(__name__)


def decoder_enabled() -> bool:
    return os.environ.get("CHISO766_DECODER_PROCESS", "1") != "0"


def _exit_with(parent: int) -> None:
    """In the worker: end the process as soon as ``parent`` is no longer its parent (it died)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="chiso766-parent-watch", daemon=True).start()


class BodyDecoder:
    """One worker process, started on first use (or by :meth:`warm`) and replaced when it breaks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_exit_with,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def _drop(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def submit(self, body: bytes, max_batch: int) -> Future[BodyOutline] | None:
        """The outline of ``body`` on its way, or None when the process cannot take it."""
        if not decoder_enabled():
            return None
        pool = self._executor()
        try:
            return pool.submit(outline_body, body, max_batch)
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            log.warning("ingest decoder process unavailable (%s): decoding in-process", exc)
            self._drop(pool)
            return None

    def outcome(self, pending: Future[BodyOutline]) -> BodyOutline | None:
        """The outline, or None when the process broke meanwhile; :class:`~chiso766.store.jsonbody.BodyError`
        when the body is unusable."""
        try:
            return pending.result()
        except BodyError:
            raise
        except BrokenProcessPool as exc:
            log.warning("ingest decoder process broke (%s): decoding in-process", exc)
            pool = self._pool
            if pool is not None:
                self._drop(pool)
            return None
        except Exception as exc:  # e.g. MemoryError in the worker: the in-process decode gives the answer
            log.warning("ingest decoder process failed (%r): decoding in-process", exc)
            return None

    def warm(self) -> None:
        """Start the process now (in the background), so the first request does not wait for it."""
        self.submit(b"[]", 1)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


DECODER = BodyDecoder()
