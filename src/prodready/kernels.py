"""Jupyter kernels for the report notebooks: always this Python, and started ahead of time.

Starting a kernel (a new Python process that imports ipykernel and connects over ZeroMQ) takes
two to three seconds, paid once per notebook. :class:`WarmKernels` starts the next notebook's
kernel in a background thread while the current notebook runs, so a report of six notebooks
waits for one start instead of six. Each notebook still gets a fresh kernel of its own, so a
notebook never sees another's variables and results are the same as with one kernel per run.

papermill passes a given kernel manager through to nbclient, which then treats the kernel as
someone else's and leaves it (and its client's sockets and heartbeat thread) running.
:func:`execute` runs papermill with an engine whose client owns the pre-started kernel, so
nbclient shuts it down and closes its channels when the notebook ends, as for a kernel it
started itself.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import os
import shutil
import tempfile
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

KERNEL_NAME = "python3"  # the name in the notebooks' metadata; resolved to sys.executable below
_ENGINE = "prodready-warm-kernel"
_KERNEL_MANAGER: type | None = None


def python_kernel_manager() -> type:
    """A kernel manager whose ``python3`` kernel is ``sys.executable -m ipykernel_launcher``.

    jupyter_client would otherwise use the first ``python3`` kernelspec on the Jupyter path,
    which in a user's setup can be another environment without prodready. Transport encryption
    (CurveZMQ) is switched on when pyzmq supports it, which also silences ipykernel's warning.

    On Linux and macOS the kernel talks to its client over Unix sockets in a private folder
    (:func:`_socket_folder`) instead of TCP ports. jupyter_client picks free TCP ports, closes
    them and writes them down for the kernel to bind: a busy machine (batch jobs, servers, other
    kernels) can take one in between, and the kernel then fails with "Address already in use"
    while its client waits out the start timeout (jupyter/jupyter_client#487). A socket path
    of this process's own cannot be taken.
    """
    global _KERNEL_MANAGER
    if _KERNEL_MANAGER is not None:
        return _KERNEL_MANAGER

    import zmq
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ThisPythonKernelSpecManager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())

    class ThisPythonKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self) -> KernelSpecManager:
            return ThisPythonKernelSpecManager(data_dir=self.data_dir)

        @default("transport_encryption")
        def _default_transport_encryption(self) -> str:
            return "auto" if zmq.has("curve") else "disabled"

        @default("transport")
        def _default_transport(self) -> str:
            return "ipc" if os.name == "posix" else "tcp"

        @default("ip")
        def _default_ip(self) -> str:
            # for ipc, the sockets' path prefix ("<ip>-<n>"); short, as Unix socket paths must be
            if self.transport == "ipc":
                return str(_socket_folder() / uuid.uuid4().hex[:12])
            return super()._ip_default()  # jupyter_client's own: localhost

    _KERNEL_MANAGER = ThisPythonKernelManager
    return _KERNEL_MANAGER


_SOCKET_FOLDER_PREFIX = "prodready-kernels-"


@functools.cache
def _socket_folder() -> Path:
    """This process's folder for its kernels' Unix sockets, named after its process id
    (jupyter_client removes each kernel's sockets when it stops; the folder goes when the process
    exits). Folders left by killed runs are removed first (:func:`_remove_left_folders`)."""
    _remove_left_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"{_SOCKET_FOLDER_PREFIX}{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _remove_left_folders() -> None:
    """Remove this user's socket folders whose process no longer runs: a report killed with
    SIGKILL (a batch job's timeout, the OOM killer) cannot run its exit handlers, so its folder
    and its dead kernels' sockets stay behind in the temporary folder."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SOCKET_FOLDER_PREFIX}*-*"):
        pid = folder.name[len(_SOCKET_FOLDER_PREFIX) :].split("-")[0]
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to read
            if pid.isdigit() and folder.stat().st_uid == os.getuid() and not _runs(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)


def _runs(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _start(cwd: Path) -> Any:
    """A started kernel (in this thread's own event loop; the process outlives the loop)."""
    manager = python_kernel_manager()(kernel_name=KERNEL_NAME)
    asyncio.run(manager.start_kernel(cwd=str(cwd)))
    return manager


def _shutdown(manager: Any) -> None:
    async def stop() -> None:
        await manager.shutdown_kernel(now=True)

    asyncio.run(stop())


class WarmKernels:
    """Kernels for ``count`` notebooks run one after another in ``cwd``, each started while the
    previous notebook runs. Use as a context manager; :meth:`take` before each notebook."""

    def __init__(self, cwd: Path, count: int) -> None:
        self._cwd = cwd
        self._left = count
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prodready-kernel")
        self._next: Future | None = None
        self._start_next()

    def _start_next(self) -> None:
        if self._left > 0:
            self._left -= 1
            self._next = self._thread.submit(_start, self._cwd)
        else:
            self._next = None

    def take(self) -> tuple[Any, float]:
        """The next started kernel, and the seconds spent waiting for it here."""
        if self._next is None:
            raise RuntimeError("no kernel left: WarmKernels was asked for more than its count")
        waiting = time.perf_counter()
        manager = self._next.result()  # a kernel that failed to start raises here
        waited = time.perf_counter() - waiting
        self._start_next()
        return manager, waited

    def close(self) -> None:
        """Shut down a kernel started for a notebook that will not run (an earlier one failed)."""
        spare, self._next = self._next, None
        if spare is not None:
            with contextlib.suppress(Exception):  # one that never started needs no stop
                _shutdown(spare.result())
        self._thread.shutdown(wait=True)

    def __enter__(self) -> WarmKernels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def execute(notebook: Path, output: Path, *, manager: Any, parameters: dict, cwd: Path) -> Any:
    """papermill on a pre-started kernel, which is shut down when the notebook ends (also on
    failure). Raises what papermill raises; returns the executed notebook node."""
    import papermill

    _register_engine()
    return papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters=parameters,
        engine_name=_ENGINE,
        kernel_name=KERNEL_NAME,
        km=manager,
        shutdown_kernel="immediate",  # the outputs are in; nothing in the kernel needs a goodbye
        progress_bar=False,
        request_save_on_cell_execute=False,  # papermill still saves a failed notebook, marked
        cwd=str(cwd),  # a stray relative path lands in the report folder, not site-packages
    )


def _register_engine() -> None:
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    if _ENGINE in papermill_engines._engines:
        return

    class OwningClient(PapermillNotebookClient):
        def __init__(self, nb_man: Any, km: Any = None, **kw: Any) -> None:
            super().__init__(nb_man, km=km, **kw)
            self.owns_km = True  # so nbclient shuts the kernel down and closes its channels

    class WarmKernelEngine(NBClientEngine):
        # NBClientEngine.execute_managed_notebook, with the client above (papermill offers no
        # hook to choose the client class).
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: int | None = None,
            **kwargs: Any,
        ) -> Any:
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            return OwningClient(nb_man, **final_kwargs).execute()

    papermill_engines.register(_ENGINE, WarmKernelEngine)
