"""Running the panel's comparisons off the UI thread: debounced, newest request wins.

A control that moves calls :meth:`BackgroundRunner.submit`. The runner waits
``debounce`` seconds for the controls to settle (each new submit restarts the wait),
then asks the model for a :class:`~cs_sim.widgets.model.Job` and hands it to one
worker thread, which runs the comparison, renders what the view shows (also off the
UI thread) and passes it to ``on_result`` through :meth:`PanelModel.accept
<cs_sim.widgets.model.PanelModel.accept>`: a result made stale by a later request is
discarded, never drawn over a newer one. A queued job that is already stale when the
worker reaches it is skipped without running.

The threads are daemons: a kernel that shuts down does not wait for a run.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from cs_sim.errors import CsSimError
from cs_sim.widgets.model import Job, PanelModel

__all__ = ["DEBOUNCE_SECONDS", "BackgroundRunner"]

log = logging.getLogger(__name__)

#: seconds the controls must rest before a run starts
DEBOUNCE_SECONDS = 0.3


class BackgroundRunner:
    """Debounced comparisons on a worker thread (see the module docstring).

    Parameters
    ----------
    model : PanelModel
    render : callable
        ``render(job, result) -> Any``: what the view draws, computed on the worker
        thread (figures as PNG bytes, HTML).
    on_result : callable
        ``on_result(job, result, rendered)``: draws it; called only for the newest
        request, under the model's lock.
    on_start, on_progress, on_error : callable, optional
        ``on_start(job)`` when a run starts; ``on_progress(job, n)`` with the
        replications of each finished chunk (``2 x replications`` in all);
        ``on_error(job, message)`` when the newest request fails (a
        :class:`~cs_sim.errors.CsSimError`'s message, or the exception's text).
    debounce : float, default DEBOUNCE_SECONDS
    """

    def __init__(
        self,
        model: PanelModel,
        render: Callable[[Job, Any], Any],
        on_result: Callable[[Job, Any, Any], Any],
        *,
        on_start: Callable[[Job], Any] | None = None,
        on_progress: Callable[[Job, int], Any] | None = None,
        on_error: Callable[[Job | None, str], Any] | None = None,
        debounce: float = DEBOUNCE_SECONDS,
    ) -> None:
        self.model = model
        self.render = render
        self.on_result = on_result
        self.on_start = on_start
        self.on_progress = on_progress
        self.on_error = on_error
        self.debounce = float(debounce)
        self._jobs: queue.Queue[Job] = queue.Queue()
        self._timer: threading.Timer | None = None
        self._timer_lock = threading.Lock()
        self._idle = threading.Condition()
        self._pending = 0  # submitted and not yet finished (or skipped)
        self.last_seconds: float | None = None
        self._worker = threading.Thread(target=self._work, name="cs-sim-panel-worker",
                                         daemon=True)
        self._worker.start()

    # -------------------------------------------------------------------- submitting
    def submit(self, *, now: bool = False) -> None:
        """Ask for a run of the current controls, after the debounce (or ``now``).

        A submit while an earlier one still waits for the controls to rest replaces it.
        """
        with self._timer_lock:
            if self._timer is not None:  # still waiting: this submit replaces it
                self._timer.cancel()
                self._timer = None
            else:
                with self._idle:
                    self._pending += 1
            if now or self.debounce <= 0:
                self._enqueue()
                return
            self._timer = threading.Timer(self.debounce, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._timer_lock:
            if self._timer is not threading.current_thread():
                return  # replaced by a later submit
            self._timer = None
            self._enqueue()

    def _enqueue(self) -> None:
        """Request a job of the current controls and queue it (under the timer lock)."""
        try:
            job = self.model.request()
        except CsSimError as exc:
            self._report(None, str(exc))
            self._done()
            return
        self._jobs.put(job)

    # -------------------------------------------------------------------- the worker
    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                self._run(job)
            except Exception as exc:  # a worker must outlive any one run
                log.exception("the panel's run %d failed", job.generation)
                if self.model.is_current(job):
                    self._report(job, f"{type(exc).__name__}: {exc}")
            finally:
                self._done()

    def _run(self, job: Job) -> None:
        if not self.model.is_current(job):
            return  # stale before it started: skip
        t0 = time.perf_counter()
        if self.on_start is not None:
            self.on_start(job)
        progress = None
        if self.on_progress is not None:
            def progress(n: int, _job: Job = job) -> None:
                self.on_progress(_job, n)  # type: ignore[misc]
        try:
            result = self.model.run(job, progress)
        except CsSimError as exc:
            if self.model.is_current(job):
                self._report(job, str(exc))
            return
        if not self.model.is_current(job):
            return
        rendered = self.render(job, result)
        self.last_seconds = time.perf_counter() - t0
        self.model.accept(job, result, lambda: self.on_result(job, result, rendered))

    def _report(self, job: Job | None, message: str) -> None:
        if self.on_error is not None:
            self.on_error(job, message)

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every submitted request has run or been skipped.

        Returns
        -------
        bool
            False if ``timeout`` seconds passed first.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._pending <= 0, timeout=timeout)
