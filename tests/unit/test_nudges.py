"""Roster nudges: who is named per step, the split within Discord's limits, what is stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.domain.cohort import ChecklistStep, RosterStep
from bot.domain.errors import ValidationError
from bot.domain.nudges import (
    NUDGE_MENTIONS_MAX,
    NUDGE_MESSAGE_CHARS,
    NudgeSection,
    decode_sections,
    digest_window,
    encode_sections,
    mentioned,
    nudge_content,
    nudge_dm_text,
    nudge_sections,
    progress_counts,
    split_nudge,
    without_user,
)
from bot.domain.schedules import NudgeDelivery, ScheduledPost, check_post_options

BIG_ID = 1_234_567_890_123_456_789  # as long as a real snowflake


def test_sections_name_each_step_in_checklist_order_without_the_opted_out():
    missing = {
        1: [RosterStep.NO_PROFILE, RosterStep.NO_NOTES],
        2: [RosterStep.NO_NOTES],
        3: [RosterStep.NO_PARTNER],
        4: [RosterStep.NO_PROFILE],
    }
    sections = nudge_sections(missing, opted_out={4})
    assert sections == (
        NudgeSection(RosterStep.NO_PROFILE, (1,)),
        NudgeSection(RosterStep.NO_PARTNER, (3,)),
        NudgeSection(RosterStep.NO_NOTES, (1, 2)),
    )
    text = nudge_content(sections)
    assert text.splitlines()[0] == "**Set your profile** with `/profile set`: <@1>"
    assert "`/partner find`: <@3>" in text and "`/note add`: <@1> <@2>" in text
    assert "<@4>" not in text and "@everyone" not in text and "<@&" not in text


@pytest.mark.parametrize("learners", [1, 99, 100, 101, 250, 1000])
def test_the_split_stays_within_2000_characters_and_100_users_and_loses_nobody(learners):
    ids = [BIG_ID + n for n in range(learners)]
    missing = {user_id: list(RosterStep) if n % 3 == 0 else [RosterStep.NO_NOTES] for n, user_id in enumerate(ids)}
    sections = nudge_sections(missing, ())
    parts = split_nudge(sections)
    for part in parts:
        assert len(nudge_content(part)) <= NUDGE_MESSAGE_CHARS
        assert len(mentioned(part)) <= NUDGE_MENTIONS_MAX
    for step in RosterStep:
        named = [u for part in parts for s in part if s.step is step for u in s.user_ids]
        assert named == [u for u, steps in missing.items() if step in steps]  # everyone once, in order
    continued = [s for part in parts[1:] for s in part[:1]]
    assert all(s.continued for s in continued if any(s.step is p.step for p in parts[0]))


def test_250_learners_missing_one_step_take_three_messages_each_within_the_limits():
    ids = [BIG_ID + n for n in range(250)]
    parts = split_nudge(nudge_sections(dict.fromkeys(ids, (RosterStep.NO_PARTNER,)), ()))
    assert [len(mentioned(part)) for part in parts] == [85, 84, 81]  # 19-digit ids: characters bind first
    assert sum(len(mentioned(part)) for part in parts) == 250
    assert all(len(nudge_content(part)) <= NUDGE_MESSAGE_CHARS for part in parts)
    assert "(continued)" in nudge_content(parts[1])


def test_the_mention_limit_binds_before_the_character_limit_with_short_ids():
    parts = split_nudge(nudge_sections(dict.fromkeys(range(1, 251), (RosterStep.NO_NOTES,)), ()))
    assert [len(mentioned(part)) for part in parts] == [100, 100, 50]


def test_tight_limits_split_a_step_and_mark_it_continued():
    sections = (NudgeSection(RosterStep.NO_PROFILE, (1, 2, 3)), NudgeSection(RosterStep.NO_NOTES, (1,)))
    parts = split_nudge(sections, mentions=2)
    assert parts == [
        (NudgeSection(RosterStep.NO_PROFILE, (1, 2)),),
        (NudgeSection(RosterStep.NO_PROFILE, (3,), continued=True), NudgeSection(RosterStep.NO_NOTES, (1,))),
    ]
    assert split_nudge(()) == []


def test_sections_are_stored_as_codes_and_ids_and_a_forgotten_member_leaves_them():
    sections = (
        NudgeSection(RosterStep.NO_PROFILE, (1, 2)),
        NudgeSection(RosterStep.NO_NOTES, (2,), continued=True),
    )
    stored = encode_sections(sections)
    assert stored == "no-profile:1,2;~no-notes:2" and "<@" not in stored
    assert decode_sections(stored) == sections
    assert without_user(sections, 2) == (NudgeSection(RosterStep.NO_PROFILE, (1,)),)
    assert decode_sections("") == ()


def test_a_dm_lists_the_missing_steps_with_their_commands():
    text = nudge_dm_text("Cohort", [RosterStep.NO_PARTNER, RosterStep.NO_NOTES])
    assert "**Cohort**" in text and "`/partner find`" in text and "`/note add`" in text
    assert "`/nexus reminders off`" in text and "/profile set" not in text


def test_progress_counts_follow_the_roster_rules():
    missing = [
        [RosterStep.NO_PROFILE, RosterStep.NOT_ANNOUNCED, RosterStep.NO_NOTES],
        [RosterStep.NO_PARTNER],
        [RosterStep.NO_API, RosterStep.NO_NOTES],
    ]
    counts = progress_counts(4, missing)
    assert counts == {
        ChecklistStep.PROFILE: 3,
        ChecklistStep.ANNOUNCED: 3,
        ChecklistStep.PARTNER: 2,
        ChecklistStep.API: 1,
        ChecklistStep.NOTE: 2,
    }


def test_the_digest_covers_the_week_before_it():
    end = datetime(2026, 3, 30, 7, tzinfo=UTC)
    start, stop = digest_window(end)
    assert stop == end and (end - start).days == 7


@pytest.mark.parametrize(
    ("post", "delivery", "text", "expected"),
    [
        (ScheduledPost.KICKOFF, NudgeDelivery.CHANNEL, "hi", "leave `text` out"),
        (ScheduledPost.DIGEST, NudgeDelivery.DM, None, "roster nudges only"),
        (ScheduledPost.TEXT, NudgeDelivery.DM, "hi", "roster nudges only"),
    ],
)
def test_options_that_do_not_go_with_the_post_are_refused(post, delivery, text, expected):
    with pytest.raises(ValidationError, match=re.escape(expected)):
        check_post_options(post, delivery, text)
    check_post_options(ScheduledPost.NUDGE, NudgeDelivery.DM, None)
