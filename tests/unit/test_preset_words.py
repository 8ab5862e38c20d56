"""The presets' English title names are listed joined by ", " (Admin → Approval authority →
Presets: "Titles: …"): a name with a comma in it reads as two titles."""
from __future__ import annotations

from core import usecases as uc


def test_no_preset_title_name_has_the_list_separator_in_it() -> None:
    for name in uc.presets.names():
        for t in uc.presets.read(name).titles:
            assert "," not in t.name("en") and "，" not in t.name("zh"), (name, t.code)
