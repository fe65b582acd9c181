"""What a search page button carries: the search itself when it fits a custom_id, else a token."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.notes import NoteKind
from bot.ui.search import CUSTOM_ID_LIMIT, SEARCH_CUSTOM_ID, SEARCH_PAGE_LIMIT, KeptSearches, SearchQuery

queries = st.builds(
    SearchQuery,
    text=st.text(min_size=1, max_size=120),
    topic=st.none() | st.text(min_size=1, max_size=40),
    kind=st.none() | st.sampled_from(list(NoteKind)),
    author_id=st.none() | st.integers(min_value=0, max_value=2**63 - 1),
)


@given(queries)
def test_every_search_comes_back_from_its_button(query: SearchQuery):
    kept = KeptSearches()
    state = kept.button_state(query)
    custom_id = SEARCH_CUSTOM_ID.format(page=SEARCH_PAGE_LIMIT, state=state)
    assert len(custom_id.encode()) <= CUSTOM_ID_LIMIT
    assert kept.query(state) == query


def test_a_short_search_is_carried_whole():
    query = SearchQuery("jwt refresh", kind=NoteKind.CHALLENGE)
    state = KeptSearches(size=0).button_state(query)
    assert state == '["jwt refresh",null,"challenge"]'
    assert KeptSearches().query(state) == query  # another process (or after a restart) reads it too


def test_only_the_newest_long_searches_are_kept():
    kept = KeptSearches(size=2)
    states = [kept.button_state(SearchQuery(f"{index} " + "word " * 30)) for index in range(3)]
    assert all(state.startswith(KeptSearches.TOKEN_MARK) for state in states)
    assert kept.query(states[0]) is None
    assert [q.text[0] for q in map(kept.query, states[1:]) if q] == ["1", "2"]
    assert KeptSearches().query(states[2]) is None  # a new process has none of them


def test_damaged_or_forged_states_are_refused():
    kept = KeptSearches()
    for state in [
        "",
        "[",
        "{}",
        "[]",
        "[1]",
        '["a",1]',
        '["a",null,"essay"]',
        '["a",null,null,true]',
        '["a",null,null,"12"]',
        f'["a",null,null,{2**63}]',
        '["a",null,null,-1]',
        '["a",null,null,null,"extra"]',
        "~unknown",
        "null",
    ]:
        assert kept.query(state) is None, state
