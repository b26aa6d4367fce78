"""`recbot serve` must choose Chainlit's app root before Chainlit is imported: chainlit.config
reads CHAINLIT_APP_ROOT once, at import, and every server then writes (and at shutdown deletes)
``<app root>/.files``. An import of chainlit on the way to ``serve`` silently puts every server
back on one shared root, where one server's stop breaks the others (issue 14, item 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_serve_path_imports_no_chainlit_before_the_app_root_is_set() -> None:
    probe = (
        "import sys, ui.cli, ui.server; "
        "print(sorted(m for m in sys.modules if m == 'chainlit' or m.startswith('chainlit.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
