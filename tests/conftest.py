"""Shared fixtures: a real, throw-away PostgreSQL server for the store tests.

``postgres_url`` (session): ``$PRODREADY_TEST_PG_URL`` when set; otherwise Debian's server
binaries (installed by scripts/test) run ``initdb`` in a temporary folder and ``pg_ctl`` starts
the server on a free loopback port, with its socket in that folder; it is stopped and removed at
the end. ``store_url`` (and ``new_store_url`` for more) gives each test a fresh database: a
SQLite file, or a new PostgreSQL database on that server (every store test runs on both).
The terminal summary lists the fuzz tests' input counts, also under xdist. Under xdist, every
test file whose name contains "spark" runs on the same worker, and long files start first
(:class:`OneSparkWorker`).

The decay models are fitted in the calling process (``LOKY_MAX_CPU_COUNT=1``, inherited by the
notebook kernels and app servers the tests start): the suite's four workers already fill both
cores, and each pool of model workers would only add its start-up. The parallel path keeps its
own test, with ``jobs=2`` given explicitly (tests/test_decay.py).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from xdist.scheduler import LoadFileScheduling

os.environ.setdefault("LOKY_MAX_CPU_COUNT", "1")

PG_ENV = "PRODREADY_TEST_PG_URL"
PG_USER = "postgres"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(
            "The PostgreSQL server binaries are missing (no /usr/lib/postgresql/*/bin/initdb). "
            "Run scripts/test, which installs Debian's postgresql, or set "
            f"{PG_ENV} to a server URL such as postgresql+psycopg://postgres@127.0.0.1:5432/postgres.",
            pytrace=False,
        )
    return Path(found[-1]).parent  # the newest major version


def _run(command: list[str], as_postgres: bool) -> None:
    if as_postgres:
        command = ["runuser", "-u", PG_USER, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database that tests may create DBs on."""
    if os.environ.get(PG_ENV):
        yield os.environ[PG_ENV]
        return
    bin_dir = _pg_bin()
    as_postgres = os.geteuid() == 0  # initdb refuses to run as root
    base = Path(tempfile.mkdtemp(prefix="prodready-pg-"))
    data, log = base / "data", base / "server.log"
    if as_postgres:
        shutil.chown(base, user=PG_USER)
    port = _free_port()
    try:
        _run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "-N"],
            as_postgres,
        )
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            as_postgres,
        )
        yield f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            _run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                as_postgres,
            )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def new_postgres_db(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Makes new, empty databases on the test server (URL each); all dropped after the test."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(postgres_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"prodready_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    try:
        yield make
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def new_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes URLs of fresh, empty store databases, on each backend in turn."""
    if request.param == "postgresql":
        return request.getfixturevalue("new_postgres_db")
    count = iter(range(1_000_000))
    return lambda: f"sqlite:///{tmp_path / f'store{next(count)}.db'}"


@pytest.fixture
def store_url(new_store_url: Callable[[], str]) -> str:
    """The URL of a fresh, empty store database (every store test runs on both backends)."""
    return new_store_url()


class OneSparkWorker(LoadFileScheduling):
    """Whole test files per worker, as ``--dist loadfile``, with two changes.

    - The files named ``*spark*`` form one work unit. Starting Spark's JVM is most of a Spark
      test file's time (over a minute when three workers start one each at once), so one worker
      starts one session for all of them. xdist's ``loadgroup`` marks would say the same, but
      they are not honoured when set per module or from a conftest (pytest-dev/pytest-xdist#1295,
      #1253).
    - Units go out in collection order, which :func:`pytest_collection_modifyitems` makes "long
      files first", instead of xdist's "most tests first": a long file with few tests (browser
      journeys, notebook runs) would otherwise start last and end the run alone.
    """

    def __init__(self, config: pytest.Config, log=None) -> None:
        super().__init__(config, log)
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        path = super()._split_scope(nodeid)
        return "spark test files" if "spark" in Path(path).name else path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a test marked ``slow`` or ``browser`` (a long file marks itself whole) come
    first, each keeping its tests' order; under xdist they are handed out first (OneSparkWorker)."""
    long_files = {
        i.path for i in items if i.get_closest_marker("slow") or i.get_closest_marker("browser")
    }
    items.sort(key=lambda item: item.path not in long_files)  # a stable sort


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """xdist's hook for a scheduler: :class:`OneSparkWorker` in place of ``--dist loadfile``."""
    return OneSparkWorker(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the fuzz tests' input counts: under xdist their own prints stay in the workers, but
    the ``record_property`` values travel with each report to the main process."""
    for report in terminalreporter.stats.get("passed", []):
        for name, value in report.user_properties:
            if name in ("fuzzed_inputs", "fuzzed_uploads", "fuzzed_profiles"):
                terminalreporter.write_line(f"{report.nodeid}: {name} = {value}")


@pytest.fixture(autouse=True)
def _journey_sessions_end_with_their_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Close the tabs a test opened (tests/browser_support.py's ``chromium`` window): an open
    tab keeps its app session, websocket and renderer busy until the module ends."""
    yield
    if "chromium" in request.fixturenames:
        for page in request.getfixturevalue("chromium").pages:
            page.close()


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local Spark session per test process (two cores, UTC), with its table warehouse in
    a temporary folder: tables saved with ``saveAsTable`` live in Spark's in-memory catalog."""
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed: pip install 'prodready[spark]'"
    )
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("prodready-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        # the tests' JVM lives a few minutes: C1-only JIT and the serial collector cut its CPU
        # by a third (215 -> 137 CPU-s for the Spark files, same wall time) on 2 shared cores
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _computed_once(root: Path, name: str, compute: Callable[[], object]) -> bytes:
    """``compute()``'s result pickled in ``root``: the first process to ask computes it under a
    file lock, the others (pytest-xdist workers of the same run) wait and read it."""
    import fcntl
    import pickle

    path = root / f"shared-{name}.pickle"
    with (root / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            part = path.with_suffix(".part")
            part.write_bytes(pickle.dumps(compute()))
            os.replace(part, path)
        return path.read_bytes()


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, worker_id) -> Callable[[], object]:
    """``readiness.run_audits`` of the bundled sample with its known incidents (overview, skew,
    rollout, monitoring, review at seed 0), computed once per test run and shared by every
    xdist worker: several test files check these same results (one run costs about half a
    minute). Each call returns a fresh copy, so no test sees another's changes."""
    import pickle

    from prodready import readiness, samples

    root = tmp_path_factory.getbasetemp()
    root = root if worker_id == "master" else root.parent  # the run's folder, shared by workers
    data = _computed_once(
        root,
        "sample-run",
        lambda: readiness.run_audits(samples.load(), incidents=samples.known_problems()),
    )
    return lambda: pickle.loads(data)
