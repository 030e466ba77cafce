"""The core stays pure: no framework, database, Redis, clock or randomness of its own."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "journeys"
FORBIDDEN = ("app", "flask", "flask_login", "sqlalchemy", "redis", "rq", "requests", "psycopg",
             "random", "secrets", "socket", "urllib.request", "http", "subprocess")


def test_importing_the_core_loads_no_framework_or_io_module() -> None:
    code = ("import sys, pkgutil, importlib, journeys\n"
            "for m in pkgutil.walk_packages(journeys.__path__, 'journeys.'):\n"
            "    importlib.import_module(m.name)\n"
            f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN[:8]!r})\n"
            "print(','.join(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=CORE.parent, check=True)
    assert result.stdout.strip() == ""


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for item in ast.walk(tree):
        if isinstance(item, ast.Import):
            names += [alias.name for alias in item.names]
        elif isinstance(item, ast.ImportFrom) and item.module:
            names.append(item.module)
    return names


def test_no_core_module_imports_io_clock_or_randomness() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN):
                offenders.append(f"{path.relative_to(CORE.parent)}: {name}")
        text = path.read_text()
        for call in ("datetime.now(", "datetime.utcnow(", "date.today(", "time.time(", "uuid4("):
            if call in text:
                offenders.append(f"{path.relative_to(CORE.parent)}: {call}")
    assert offenders == []
