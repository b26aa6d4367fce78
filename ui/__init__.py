"""The Chainlit app, the widget host page and the ``recbot`` CLI.

Importing ``chainlit`` reads (and, when missing, writes) its app root, ``CHAINLIT_APP_ROOT``,
defaulting to the working directory. Point it at ``ui/web`` — our committed config.toml,
chainlit.md and public/ — unless the caller chose another.
"""

import os
from pathlib import Path

os.environ.setdefault("CHAINLIT_APP_ROOT", str(Path(__file__).resolve().parent / "web"))
