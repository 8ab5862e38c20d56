"""Import (导入): move from the old Excel register (docs/procedure.md §10) — admin or the QA
manager."""

from __future__ import annotations

from ui import importer
from ui.context import me, show_flash

user = me()
show_flash()
importer.import_tab(user)  # the service decides who may import; others are told who can
