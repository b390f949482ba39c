"""Meeting ids are typed on command lines and pasted into URLs."""

from __future__ import annotations

import re

from persistence.models import new_meeting_id


def test_meeting_ids_are_url_safe_and_never_look_like_an_option() -> None:
    # One token in 64 starts with "-"; 4,000 draws would all but surely show one.
    ids = [new_meeting_id() for _ in range(4000)]
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{11}", i) for i in ids)
    assert len(set(ids)) == len(ids)
