"""Properties of field merging: new mappings, originals untouched."""

from __future__ import annotations

import contextvars

from hypothesis import given
from hypothesis import strategies as st

from starlette_correlate.fields import bind_fields, fields_var, get_fields, merge_fields

keys = st.text(alphabet="abcdef_", min_size=1, max_size=4)
values = st.text(min_size=0, max_size=5)


@given(
    base=st.dictionaries(keys, values),
    changes=st.dictionaries(keys, st.none() | values | st.integers()),
)
def test_merge_is_an_update_that_leaves_the_base_alone(
    base: dict[str, str], changes: dict[str, object]
) -> None:
    original = dict(base)
    merged = merge_fields(base, changes)
    expected = dict(base)
    for key, value in changes.items():
        if value is None:
            expected.pop(key, None)
        else:
            expected[key] = str(value)
    assert dict(merged or {}) == expected
    assert (merged is None) == (not expected)
    assert base == original


def test_binding_nothing_in_a_fresh_context_keeps_the_none_value() -> None:
    def run() -> object:
        bind_fields(user_id=None)
        return fields_var.get()

    assert contextvars.copy_context().run(run) is None
    assert dict(get_fields()) == {}
