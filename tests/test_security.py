"""Security rules of the app and the package, checked on the source and the configuration:

- the upload cap is set in the app's config, Streamlit reads it from there, and every uploader
  says it;
- XSRF and CORS protection stay on, and nothing in the code or scripts turns them off;
- nothing unpickles, evaluates or executes what a user supplies;
- the only raw HTML the app writes (``unsafe_allow_html``) carries no user text.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from packaging.requirements import Requirement
from streamlit import config
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
CONFIG = APP / ".streamlit" / "config.toml"
SOURCE_DIRS = (ROOT / "src" / "prodready", APP)


def _server() -> dict:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))["server"]


def _python_files() -> Iterator[Path]:
    for folder in SOURCE_DIRS:
        yield from sorted(folder.rglob("*.py"))


def _notebook_cells() -> Iterator[tuple[str, str]]:
    """(where, code) of every code cell of the bundled notebooks (papermill runs them)."""
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells, start=1):
            if cell["cell_type"] == "code":
                code = "".join(cell["source"])
                # IPython magics and shell lines are not Python; the notebooks have none today
                code = "\n".join(
                    "" if line.lstrip().startswith(("%", "!")) else line
                    for line in code.splitlines()
                )
                yield f"{notebook.relative_to(ROOT)}, cell {number}", code


def _trees() -> Iterator[tuple[str, ast.Module]]:
    for path in _python_files():
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))
    for where, code in _notebook_cells():
        yield where, ast.parse(code)


def _dotted(node: ast.AST) -> str:
    """``pickle.loads`` for ``pickle.loads(...)``'s func, ``eval`` for ``eval(...)``'s."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


# -- the upload cap, XSRF and CORS ---------------------------------------------------------------
def test_the_app_config_caps_uploads_and_keeps_xsrf_and_cors_on():
    server = _server()
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True
    cap = server["maxUploadSize"]
    assert isinstance(cap, int) and 1 <= cap <= 200, "a cap a laptop's memory survives"


def test_streamlit_reads_these_settings_from_the_apps_config():
    """Streamlit itself, started on app/streamlit_app.py from another folder (as `prodready
    app` does), resolves the cap and protections to the config's values."""
    code = (
        "import json, sys\n"
        "from streamlit import config\n"
        "config._main_script_path = sys.argv[1]\n"
        "config.get_config_options(force_reparse=True)\n"
        "keys = ['server.maxUploadSize', 'server.enableXsrfProtection', 'server.enableCORS']\n"
        "print(json.dumps({k: [config.get_option(k), config.get_where_defined(k)] for k in keys}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(APP / "streamlit_app.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path("/"),
        env=env,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    server = _server()
    assert seen == {
        "server.maxUploadSize": [server["maxUploadSize"], str(CONFIG)],
        "server.enableXsrfProtection": [True, str(CONFIG)],
        "server.enableCORS": [True, str(CONFIG)],
    }


def test_nothing_overrides_the_servers_protections_or_cap():
    """No script, command line or module sets these options anywhere but in config.toml (a
    `--server.enableXsrfProtection false` in the launcher would silently undo it)."""
    options = re.compile(r"enableXsrfProtection|enableCORS|maxUploadSize|STREAMLIT_SERVER_")
    # reading an option is fine (app_state.upload_cap_mb tells users the cap); setting one is not
    reading = re.compile(r"""\bst\.get_option\(["']server\.maxUploadSize["']\)""")
    places = [*_python_files(), *sorted((ROOT / "scripts").iterdir()), ROOT / ".ci" / "run"]
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in places
        if path.is_file()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if options.search(reading.sub("", line))
    ]
    assert found == []


def _uploader_texts() -> dict[str, str]:
    """Label and help of every ``st.file_uploader`` call in app/, as written in the source
    (the parts of an f-string that are code are kept as ``{code}``)."""

    def text(node: ast.AST | None) -> str:
        if node is None:
            return ""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(text(part) for part in node.values)
        if isinstance(node, ast.FormattedValue):
            return "{" + ast.unparse(node.value) + "}"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return text(node.left) + text(node.right)
        return "{" + ast.unparse(node) + "}"

    found = {}
    for path in sorted(APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _dotted(node.func).endswith("file_uploader"):
                keywords = {k.arg: k.value for k in node.keywords}
                label = node.args[0] if node.args else keywords.get("label")
                key = text(keywords.get("key")) or text(label)
                where = f"{path.relative_to(ROOT)}:{node.lineno} ({key})"
                found[where] = f"{text(label)} {text(keywords.get('help'))}"
    return found


def test_the_app_has_the_uploaders_this_file_checks():
    keys = sorted(where.rsplit("(", 1)[1].rstrip(")") for where in _uploader_texts())
    assert keys == [
        "monitoring_incidents",
        "profiles_upload",
        "upload_serving",
        "upload_training",
        "ws_import",
    ]


def _tiny_case(folder: Path) -> Path:
    """A 240-row case over eight weeks: enough for every page that has an uploader to render."""
    rng = np.random.default_rng(3)
    for name, start in (("training", "2025-01-06"), ("serving", "2025-03-03")):
        when = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, 56, 240)), unit="D")
        fraud = (rng.uniform(size=240) < 0.15).astype(int)
        pd.DataFrame(
            {
                "txn_id": [f"{name[0]}{i}" for i in range(240)],
                "event_time": when.strftime("%Y-%m-%d %H:%M:%S"),
                "amount": rng.lognormal(3, 1, 240).round(2),
                "channel": rng.choice(["web", "pos", "app"], 240),
                "is_fraud": fraud,
                "score": np.clip(0.4 * fraud + rng.uniform(0, 0.6, 240), 0, 1).round(4),
            }
        ).to_csv(folder / f"{name}.csv", index=False)
    case = folder / "case.yaml"
    case.write_text(
        "name: Tiny case\ntask: binary\n"
        "training: {path: training.csv}\nserving: {path: serving.csv}\n"
        "columns: {id: txn_id, timestamp: event_time, label: is_fraud, prediction: score}\n"
        "features:\n  - {name: amount, type: numeric}\n  - {name: channel, type: categorical}\n",
        encoding="utf-8",
    )
    return case


def test_every_uploader_says_the_cap(tmp_path, monkeypatch):
    """Each uploader's help, as the app renders it, says the cap Streamlit enforces. The app
    is run under a cap other than the config's: the help follows it, so it reads the option
    (which Streamlit takes from config.toml, test above) and cannot drift from it."""
    key = "server.maxUploadSize"
    cap = _server()["maxUploadSize"] - 1
    written = {
        where.rsplit("(", 1)[1].rstrip(")"): where.split(":")[0] for where in _uploader_texts()
    }
    pages = sorted({Path(path).relative_to("app").as_posix() for path in written.values()})
    monkeypatch.setenv("PRODREADY_CASE", str(_tiny_case(tmp_path)))
    monkeypatch.setenv("PRODREADY_DB_URL", f"sqlite:///{tmp_path / 'workshop.db'}")
    before, where = config.get_option(key), config.get_where_defined(key)
    config.set_option(key, cap)
    try:
        at = AppTest.from_file(str(APP / "streamlit_app.py"), default_timeout=180)
        at.run()  # the Case page, whose uploaders show once "upload" is picked
        at.segmented_control(key="case_source").set_value("Upload your own data").run()
        helps = {u.key: u.help for u in at.file_uploader}
        for page in pages:
            if page != "app_pages/case.py":
                at.switch_page(page).run()
                assert not at.exception, [e.value for e in at.exception]
                helps |= {u.key: u.help for u in at.file_uploader}
    finally:
        config.set_option(key, before, where)
    assert sorted(helps) == sorted(written), "every uploader in the source was rendered"
    said = f"up to {cap} MB per file"
    silent = {k: h for k, h in helps.items() if said.lower() not in h.lower()}
    assert silent == {}, f"these uploaders do not say {said!r}"


# -- nothing a user supplies is unpickled or executed ----------------------------------------------
# Calls that turn bytes or text into code or arbitrary objects. A user's files (data, case,
# workshop, profile, incidents) must never reach one; none is needed, so none is allowed.
FORBIDDEN_CALLS = re.compile(
    r"""^(
        (.*\.)?(pickle|cPickle|_pickle|dill|cloudpickle|joblib|marshal|shelve|torch)\.
            (load|loads|Unpickler|open)
        | (.*\.)?read_pickle
        | eval | exec | compile | __import__ | execfile
        | (.*\.)?yaml\.(load|load_all|unsafe_load|unsafe_load_all|full_load|full_load_all)
        | (.*\.)?(os\.system|os\.popen)
    )$""",
    re.VERBOSE,
)
FORBIDDEN_IMPORTS = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "marshal", "shelve"}
FORBIDDEN_NAMES = {"UnsafeLoader", "FullLoader", "Loader"}  # yaml loaders that build objects


def test_nothing_unpickles_or_executes_user_data():
    found = []
    for where, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _dotted(node.func)
                if FORBIDDEN_CALLS.match(name):
                    found.append(f"{where}:{node.lineno} calls {name}")
                for keyword in node.keywords:
                    if keyword.arg == "allow_pickle" and not (
                        isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                    ):
                        found.append(f"{where}:{node.lineno} passes allow_pickle")
                    if keyword.arg == "shell" and not (
                        isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                    ):
                        found.append(f"{where}:{node.lineno} runs a shell")
                    if keyword.arg == "Loader" and _dotted(keyword.value).split(".")[-1] in (
                        FORBIDDEN_NAMES | {"UnsafeConstructor"}
                    ):
                        found.append(f"{where}:{node.lineno} builds YAML objects")
            elif isinstance(node, ast.Import | ast.ImportFrom):
                modules = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                if any(m.split(".")[0] in FORBIDDEN_IMPORTS for m in modules):
                    found.append(f"{where}:{node.lineno} imports {', '.join(modules)}")
    assert found == []


def test_the_scan_catches_what_it_forbids():
    """The scan above is not blind: each forbidden form, planted in code, is caught."""
    planted = [
        "pickle.loads(data)",
        "pd.read_pickle(path)",
        "joblib.load(path)",
        "eval(text)",
        "exec(code)",
        "yaml.load(text, Loader=yaml.Loader)",
        "yaml.unsafe_load(text)",
        "os.system(command)",
    ]
    for code in planted:
        call = ast.parse(code).body[0].value
        assert FORBIDDEN_CALLS.match(_dotted(call.func)), code
    for code in ("yaml.safe_load(text)", "re.compile(p)", "json.loads(text)", "pd.read_csv(p)"):
        call = ast.parse(code).body[0].value
        assert not FORBIDDEN_CALLS.match(_dotted(call.func)), code


def test_pyarrow_cannot_be_an_unpickling_version():
    """pyarrow before 14.0.1 unpickled extension types found in a Parquet file
    (CVE-2023-47248): an uploaded Parquet file could run code. The declared minimum excludes
    every such version."""
    text = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [pyarrow] = [
        Requirement(r) for r in text["project"]["dependencies"] if Requirement(r).name == "pyarrow"
    ]
    assert not pyarrow.specifier.contains("14.0.0")
    assert not pyarrow.specifier.contains("13.0.0")
    import pyarrow as pa

    assert pyarrow.specifier.contains(pa.__version__)


# -- raw HTML carries no user text -----------------------------------------------------------------
# Functions of app/ allowed to write raw HTML, each with the rule its callers must keep.
# app_state.intro: the page's fixed one-sentence introduction; app_state.tile_style: the fixed
# style sheet app/tiles.css
HTML_HELPERS = {"intro", "tile_style"}


def _raw_html_sites() -> list[tuple[str, str]]:
    """(where, enclosing function) of every call in app/ that writes raw HTML."""
    sites = []
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [tree, *ast.walk(tree)]:
            if not isinstance(function, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            name = getattr(function, "name", "<module>")
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                raw = any(
                    k.arg == "unsafe_allow_html"
                    and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                    for k in node.keywords
                ) or _dotted(node.func).endswith(("st.html", "components.html", "v1.html"))
                if raw:
                    sites.append((f"{path.relative_to(ROOT)}:{node.lineno}", name))
    # a call inside a function is also inside the module: keep its innermost function
    innermost: dict[str, str] = {}
    for where, name in sites:
        if innermost.get(where, "<module>") == "<module>":
            innermost[where] = name
    return sorted(innermost.items())


def test_raw_html_is_written_only_by_the_known_helpers():
    sites = _raw_html_sites()
    assert sites, "the scan found no raw HTML at all: it is probably broken"
    assert {name for _, name in sites} <= HTML_HELPERS, sites


def test_the_html_helpers_get_only_fixed_text():
    """Every call of a raw-HTML helper passes a string literal (no f-string, no variable), so no
    case name, column or file name can reach the page's HTML."""
    calls, loose = 0, []
    for path in sorted(APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _dotted(node.func).split(".")[-1] in HTML_HELPERS:
                calls += 1
                args = [*node.args, *(k.value for k in node.keywords)]
                if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                    loose.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert calls >= 9, "every page has an introduction"
    assert loose == []


def _intro_page(app_dir: str, text: str) -> None:
    """A page that only writes ``app_state.intro(text)`` (run by AppTest in its own script)."""
    import sys

    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    import app_state

    app_state.intro(text)


def test_the_intro_escapes_its_text(monkeypatch: pytest.MonkeyPatch):
    """Defence in depth beside the rule above: markup in an introduction is shown as text."""
    # AppTest runs the page as this process's __main__; put the worker's own back afterwards
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    at = AppTest.from_function(
        _intro_page,
        args=(str(APP), "Fraud <img src=x onerror=alert(1)> & 'loss'"),
        default_timeout=60,
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    [written] = [m.value for m in at.markdown]
    assert written.endswith(
        ">Fraud &lt;img src=x onerror=alert(1)&gt; &amp; &#x27;loss&#x27;</p>"
    ), written
    assert "<img" not in written
