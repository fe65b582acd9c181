"""Week-1 rendering and flows: announcement posts, profiles, the kickoff checklist and its button."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.app import app_of
from bot.delivery.outcome import POST_WAIT_SECONDS
from bot.domain.cohort import PITCH_MAX, REPO_URL_MAX, Checklist, ChecklistStep, Track, clean_repo_url, next_line
from bot.domain.errors import ValidationError
from bot.domain.text import safe_text
from bot.observability.interactions import completed
from bot.services.announcements import AnnouncementInfo, ProjectTeamList
from bot.services.profiles import Profile
from bot.ui.drafts import refuse_form
from bot.ui.embeds import EMBED_FIELD_LIMIT, NEXUS_COLOUR, chunk_lines
from bot.ui.views import guarded

TRACK_COLOURS = {Track.BACKEND: discord.Colour.blurple(), Track.FRONTEND: discord.Colour.teal()}
WITHDRAWN_COLOUR = discord.Colour.light_grey()
WHO_PAGE_SIZE = 10
MODAL_SELECT_LIMIT = 25


def repo_link(url: str) -> str:
    """A repository link as a plain URL; text stored before links were checked shows as inert text."""
    try:
        return clean_repo_url(url) or ""
    except ValidationError:
        return safe_text(url)


def announcement_embed(info: AnnouncementInfo) -> discord.Embed:
    """The project-channel post for an announcement (or its withdrawn state)."""
    project = safe_text(info.project_name)
    if not info.active:
        embed = discord.Embed(
            title=f"{project} (withdrawn)",
            description=f"<@{info.user_id}> withdrew this announcement.",
            colour=WITHDRAWN_COLOUR,
            timestamp=info.updated_at,
        )
        embed.set_footer(text="Nexus · Week 1 announcement")
        return embed
    embed = discord.Embed(
        title=f"📣 {project}",
        description=safe_text(info.pitch, limit=PITCH_MAX * 2),
        colour=TRACK_COLOURS[info.track],
        timestamp=info.updated_at,
    )
    embed.add_field(name="Learner", value=f"<@{info.user_id}>")
    embed.add_field(name="Track", value=info.track.label)
    embed.add_field(name="Project", value=project)
    if info.repo_url:
        embed.add_field(name="Repository", value=repo_link(info.repo_url), inline=False)
    edited = f" · edited (v{info.revision})" if info.revision > 1 else ""
    embed.set_footer(text=f"Nexus · Week 1 announcement{edited}")
    return embed


def profile_embed(profile: Profile, member_mention: str) -> discord.Embed:
    embed = discord.Embed(title=f"Profile of {safe_text(profile.display_name)}", colour=NEXUS_COLOUR)
    embed.add_field(name="Member", value=member_mention)
    embed.add_field(name="Track", value=profile.track.label if profile.track else "not set")
    embed.add_field(name="Time zone", value=profile.timezone or "not set")
    embed.add_field(
        name="GitHub",
        value=f"[{profile.github}](https://github.com/{profile.github})" if profile.github else "not set",
    )
    embed.add_field(
        name="Skills",
        value=safe_text(", ".join(profile.skills)) if profile.skills else "none listed",
        inline=False,
    )
    if not profile.is_set:
        embed.set_footer(text="Profile not set yet: /profile set")
    return embed


def _member_line(member: Any) -> str:
    repo = f" · {repo_link(member.repo_url)}" if member.repo_url else ""
    return f"<@{member.user_id}>{repo}"


def who_pages(team_list: ProjectTeamList) -> list[discord.Embed]:
    """Pages listing the backend and frontend learners on one project (each side's field within
    Discord's 1,024 characters; at most WHO_PAGE_SIZE learners a side per page)."""
    sides = []
    for members in (team_list.backend, team_list.frontend):
        lines = [_member_line(m) for m in members]
        blocks: list[str] = []
        for start in range(0, len(lines), WHO_PAGE_SIZE):
            blocks += chunk_lines(lines[start : start + WHO_PAGE_SIZE], EMBED_FIELD_LIMIT)
        sides.append(blocks)
    pages = max(1, *(len(blocks) for blocks in sides))
    title = f"Who is on {safe_text(team_list.project_name)}"
    embeds = []
    for page in range(pages):
        embed = discord.Embed(
            title=title,
            description=f"{len(team_list.backend)} backend · {len(team_list.frontend)} frontend",
            colour=NEXUS_COLOUR,
        )
        for label, blocks in (("Backend", sides[0]), ("Frontend", sides[1])):
            embed.add_field(name=label, value=blocks[page] if page < len(blocks) else "—", inline=False)
        embed.set_footer(text=f"Page {page + 1}/{pages}")
        embeds.append(embed)
    return embeds


def checklist_embed(checklist: Checklist, display_name: str) -> discord.Embed:
    embed = discord.Embed(
        title=f"Week-1 progress of {safe_text(display_name)}",
        description="\n".join(checklist.lines()),
        colour=NEXUS_COLOUR,
    )
    nxt = checklist.next_step
    embed.set_footer(text="All done: well played!" if nxt is None else next_line(nxt))
    return embed


def kickoff_embed() -> discord.Embed:
    embed = discord.Embed(
        title="Project Nexus · Week 1",
        description=(
            "Welcome to Project Nexus! This week, every learner:\n"
            "1. sets a profile: `/profile set` (track, time zone, GitHub, skills)\n"
            "2. announces the project they picked: `/project announce` or the button below\n"
            "3. finds a partner on the other track building the same project: `/partner find`\n"
            "4. agrees the API with that partner early: `/api add`, `/api agree`\n"
            "5. starts a learning log: `/note add`, and shares tips: `/tip share`\n\n"
            "Check where you stand any time with `/nexus progress`."
        ),
        colour=NEXUS_COLOUR,
    )
    embed.set_footer(text="Nexus · the button keeps working after restarts")
    return embed


async def announce_flow(
    interaction: discord.Interaction[Any],
    *,
    project: str,
    track: str,
    pitch: str,
    repo_url: str | None,
) -> None:
    """Store the announcement, hand what changed to delivery, and confirm privately.

    The one path behind `/project announce` and the kickoff form (whose caller spent the write budget)."""
    app = app_of(interaction)
    guild_id = interaction.guild_id
    assert guild_id is not None
    await interaction.response.defer(ephemeral=True, thinking=True)
    announced = await app.services.announcements.announce(
        guild_id,
        interaction.user.id,
        interaction.user.display_name,
        project=project,
        track=track,
        pitch=pitch,
        repo_url=repo_url,
    )
    info = announced.info
    outcome = await app.delivery.deliver(guild_id, announced.events, wait=POST_WAIT_SECONDS)
    verb = "updated" if announced.updated else "announced"
    summary = f"**{safe_text(info.project_name)}** ({info.track.label})"
    if outcome is None:
        text = (
            f"✅ You {verb} {summary}. The project channel is busy, so your post will appear there in a "
            "moment; `/project who` lists you already."
        )
    elif outcome.ok:
        text = f"✅ You {verb} {summary}. [See the post]({outcome.jump_url})"
    else:
        text = (
            f"✅ Saved: you {verb} {summary}. It is not in the project channel yet: {outcome.problem}. "
            "It will be posted automatically once that is fixed; nothing is lost."
        )
    if not announced.updated:
        text += "\n" + next_line(ChecklistStep.PARTNER)
    await interaction.followup.send(text, ephemeral=True)


class AnnounceModal(discord.ui.Modal, title="Announce your project"):
    """The kickoff button's form: the same fields as /project announce."""

    def __init__(self, project_names: list[str], draft: dict[str, str] | None = None) -> None:
        super().__init__(timeout=900)
        self._project_names = project_names
        typed = draft or {}
        self.project_select: discord.ui.Select[Any] | None = None
        self.project_text: discord.ui.TextInput[Any] | None = None
        if 0 < len(project_names) <= MODAL_SELECT_LIMIT:
            self.project_select = discord.ui.Select(
                custom_id="nexus:announce:project",
                options=[
                    discord.SelectOption(label=name[:100], value=name[:100], default=name[:100] == typed.get("project"))
                    for name in project_names
                ],
            )
            self.add_item(discord.ui.Label(text="Project", component=self.project_select))
        else:
            self.project_text = discord.ui.TextInput(
                custom_id="nexus:announce:project", max_length=80, default=typed.get("project")
            )
            self.add_item(discord.ui.Label(text="Project (name from /catalog list)", component=self.project_text))
        self.track_select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id="nexus:announce:track",
            options=[
                discord.SelectOption(label=t.label, value=t.value, default=t.value == typed.get("track")) for t in Track
            ],
        )
        self.add_item(discord.ui.Label(text="Track", component=self.track_select))
        self.pitch: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="nexus:announce:pitch",
            style=discord.TextStyle.paragraph,
            max_length=PITCH_MAX,
            default=typed.get("pitch"),
        )
        self.add_item(discord.ui.Label(text="Pitch: what are you building?", component=self.pitch))
        self.repo: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="nexus:announce:repo",
            required=False,
            max_length=REPO_URL_MAX,
            placeholder="https://github.com/…",
            default=typed.get("repo"),
        )
        self.add_item(discord.ui.Label(text="Repository (blank keeps it, none removes)", component=self.repo))

    def typed(self) -> dict[str, str]:
        """What the member put in the form."""
        if self.project_select is not None:
            project = self.project_select.values[0] if self.project_select.values else ""
        else:
            project = self.project_text.value if self.project_text else ""
        track = self.track_select.values[0] if self.track_select.values else ""
        return {"project": project, "track": track, "pitch": self.pitch.value, "repo": self.repo.value}

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        # the same write budget as /project announce: a form is one more door to the same use case
        app_of(interaction).write_gate.spend(interaction.guild_id, interaction.user.id)
        typed = self.typed()
        await announce_flow(
            interaction,
            project=typed["project"],
            track=typed["track"],
            pitch=typed["pitch"],
            repo_url=typed["repo"] or None,
        )
        completed(interaction)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        typed = self.typed()
        await refuse_form(interaction, error, lambda: AnnounceModal(self._project_names, typed))


class KickoffAnnounceButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nexus:kickoff:announce"):
    """ "Announce my project" on the kickoff post; rebuilt from its custom_id after a restart."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Announce my project",
                style=discord.ButtonStyle.primary,
                custom_id="nexus:kickoff:announce",
                emoji="📣",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> KickoffAnnounceButton:
        return cls()

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        projects = await app_of(interaction).services.catalog.projects(interaction.guild_id)
        await interaction.response.send_modal(AnnounceModal([p.name for p in projects]))


def kickoff_view() -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(KickoffAnnounceButton())
    return view
