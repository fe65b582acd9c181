"""Interaction latency under load: the real bot (a `python -m bot run` process, SQLite) against the
loopback emulator. For each interaction: time from INTERACTION_CREATE sent to the first callback
received. Also peak memory of the bot and start-up time with an existing database.

The guild starts with --notes realistic notes (bench/search.py's generator); a warm-up window at
50/s runs first. Per rate it prints p50/p95/p99, autocomplete p99, the sustained rate and errors,
then the same per kind of interaction.

Then, unless --no-bare, a bare discord.py bot (bench/bare_bot.py: /note search and /nexus help from
memory) gets the same load from the same emulator, and Nexus's p50/p99 and CPU per interaction are
printed as a ratio to it (`--mix search --cost 200` compares searches).

Run: python bench/interactions.py [--members 200] [--rates 50,100,200] [--seconds 5] [--notes 2000]
     [--mix autocomplete,search,page,help,...: page = a search, then Next] [--cost N: the bot's CPU ms per interaction of each kind]
     [--profile FILE: a cProfile of the bot process]
     [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test: run on PostgreSQL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.postgres import BENCH_DATABASE, drop_database, fresh_database
from bench.search import QUERIES
from bench.search import load as load_notes
from bench.search import load_async as load_notes_async
from bot.db import upgrade_database_async
from bot.sandbox.emulator import DiscordEmulator, EmulatorError, Interaction
from tests.harness import BotProcess, build_world, subprocess_env

PROJECTS = ["Job Board", "E-Commerce", "Online Poll System", "Social Media Feed"]


DISCORD_CHANNEL_POST_LIMIT = (5, 5.0)
"""New messages per channel per window, as Discord enforces it on POST /channels/{id}/messages."""

GC_PAUSES: list[float] = []
_gc_started: list[float] = []


def _gc_watch(phase: str, info: dict[str, int]) -> None:
    """Record this process's own garbage-collection pauses: they delay the timestamps it takes."""
    if phase == "start":
        _gc_started[:] = [time.perf_counter()]
    elif _gc_started:
        GC_PAUSES.append((time.perf_counter() - _gc_started[0]) * 1000)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


async def one(emu: DiscordEmulator, world, member, rng: random.Random, kind: str) -> Interaction | None:
    if kind == "autocomplete":
        await emu.autocomplete(member, "project announce", "project", project=rng.choice(["job", "e-com", "poll"]))
        return emu.interactions[max(emu.interactions)]
    if kind == "announce":
        track = rng.choice(["backend", "frontend"])
        return await emu.command(
            member, "project announce", project=rng.choice(PROJECTS), track=track, pitch="load test", wait=False
        )
    if kind == "search":
        return await emu.command(member, "note search", query=rng.choice(QUERIES), wait=False)
    if kind == "help":
        return await emu.command(member, "nexus help", wait=False)
    if kind == "tip":
        return await emu.command(member, "tip share", text=f"tip {rng.random()}", topic="Docker", wait=False)
    if kind == "note":
        opened = await emu.command(member, "note add", topic="Django", kind="learning")
        # a member takes a moment to fill the form (and discord.py stores the modal only once the
        # callback's HTTP response is back, which the emulator can beat when it submits at once)
        await asyncio.sleep(rng.uniform(0.2, 0.5))
        await emu.submit_modal(
            member, opened, {"Title": "Load", "What did you learn?": "select_related avoids N+1"}, wait=False
        )
        return opened
    if kind == "page":
        # a member reads the first page of a search, then presses Next (when there is a next page)
        searched = emu.reply(await emu.command(member, "note search", query=rng.choice(QUERIES)))
        await asyncio.sleep(rng.uniform(0.2, 0.5))
        if any(b.get("label") == "Next ▶" for b in searched.buttons()):
            return await emu.click(member, searched, "Next ▶", wait=False)
        return None
    return await emu.command(member, "partner find", wait=False)


MIX = ["autocomplete"] * 3 + ["search"] * 3 + ["announce", "tip", "partner", "note", "page"]
IDLE_WINDOW = 3.0
"""Seconds the bot's idle CPU is measured over before the per-kind costs."""
BARE_KINDS = ("search", "help")
"""What the bare discord.py bot (bench/bare_bot.py) answers: /note search and /nexus help."""


async def run_rate(
    emu, world, members, rate: float, seconds: float, rng, mix: list[str], *, quiet: bool = False
) -> dict[str, object]:
    started_at = len(emu.interactions)
    # The emulator keeps every interaction and request it saw, so a full collection in this process
    # pauses it for 100 ms or more and the timestamps it takes with it: collect between windows only.
    gc.collect()
    gc.freeze()
    gc.disable()
    GC_PAUSES.clear()
    tasks = []
    interval = 1.0 / rate
    begin = time.perf_counter()
    for i in range(int(rate * seconds)):
        due = begin + i * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(emu, world, rng.choice(members), rng, rng.choice(mix))))
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    for failure in failures[:3]:
        print(f"  load generator error: {failure!r}")
    deadline = time.perf_counter() + 15
    batch = list(emu.interactions.values())[started_at:]
    while time.perf_counter() < deadline and any(i.answered_at is None or _waiting(i) for i in batch):
        await asyncio.sleep(0.05)
    answer_times = [i.answered_at for i in batch if i.answered_at is not None]
    elapsed = (max(answer_times) if answer_times else time.perf_counter()) - begin
    gc.enable()
    answered = [i for i in batch if i.answered_at is not None and i.dispatched_at is not None]
    latencies = [(i.answered_at - i.dispatched_at) * 1000 for i in answered]  # type: ignore[operator]
    auto = [(i.answered_at - i.dispatched_at) * 1000 for i in answered if i.type == 4]  # type: ignore[operator]
    errors = len(batch) - len(answered) + len(failures)
    errors += sum(1 for i in answered if i.replied.is_set() and "reference" in _text(emu, i))
    by_kind: dict[str, list[float]] = {}
    final_by_kind: dict[str, list[float]] = {}
    for i in batch:
        name = _label(i)
        late = (i.answered_at - i.dispatched_at) * 1000 if i.answered_at and i.dispatched_at else float("inf")
        by_kind.setdefault(name, []).append(late)
        if i.deferred:  # the member's real answer is the followup
            done = i.followed_up_at
            final_by_kind.setdefault(name, []).append(
                (done - i.dispatched_at) * 1000 if done and i.dispatched_at else float("inf")
            )
    long_pauses = [p for p in GC_PAUSES if p > 5]
    if quiet:
        return {}
    if long_pauses:
        print(f"  load generator GC pauses over 5 ms: {len(long_pauses)}, longest {max(long_pauses):.0f} ms")
    for i in batch:
        if i.answered_at is None:
            print(f"  unanswered {_label(i)}: events {i.events[:6]}")
    for name, values in sorted(by_kind.items()):
        unanswered = sum(1 for v in values if v == float("inf"))
        print(
            f"  {name:>22}: n={len(values):4} p50={pct(values, 0.5):8.1f} p99={pct(values, 0.99):8.1f} ms unanswered={unanswered}"
        )
        if name in final_by_kind:
            final = final_by_kind[name]
            print(
                f"  {'(deferred) final answer':>22}: p50={pct(final, 0.5):8.1f} p99={pct(final, 0.99):8.1f} ms, "
                f"max {max(final):.0f} ms, none yet={sum(1 for v in final if v == float('inf'))}"
            )
    return {
        "kinds": {name: (pct(values, 0.5), pct(values, 0.99)) for name, values in by_kind.items()},
        "rate": rate,
        "sent": len(batch),
        "sustained": len(answered) / elapsed,
        "p50": pct(latencies, 0.5),
        "p95": pct(latencies, 0.95),
        "p99": pct(latencies, 0.99),
        "auto_p99": pct(auto, 0.99),
        "errors": errors,
    }


def _waiting(interaction: Interaction) -> bool:
    """Deferred, and its followup (the member's real answer) has not arrived yet."""
    return interaction.deferred and interaction.followed_up_at is None


def _label(interaction: Interaction) -> str:
    data = interaction.payload.get("data", {})
    if interaction.type == 5:
        return "modal submit"
    if interaction.type == 3:
        return "button " + str(data.get("custom_id", "?")).split(":")[1]
    name = data.get("name", "?")
    options = data.get("options") or []
    if options and options[0].get("type") == 1:
        name += " " + options[0]["name"]
    return ("autocomplete " if interaction.type == 4 else "") + name


def _text(emu, interaction) -> str:
    try:
        return emu.reply(interaction).content
    except EmulatorError:
        return ""


def _absolute(path: str) -> str:
    return str(Path(path).resolve())


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User plus system CPU time the process (or one of its threads) has used so far."""
    path = f"/proc/{pid}/task/{thread}/stat" if thread is not None else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cost_per_kind(emu, world, members, pid: int, count: int, rng, kinds: list[str]) -> dict[str, float]:
    """The bot's CPU time per interaction, for each kind alone at a gentle rate (no queueing)."""
    before = cpu_seconds(pid)
    await asyncio.sleep(IDLE_WINDOW)
    idle = (cpu_seconds(pid) - before) / IDLE_WINDOW
    print(f"idle: the bot's CPU with no interactions (background loops, heartbeats): {idle * 1000:.1f} ms/s")
    print(f"{'kind':>13}{'bot CPU ms per interaction':>28}")
    costs: dict[str, float] = {}
    for kind in dict.fromkeys(kinds):
        before = cpu_seconds(pid)
        main_before = cpu_seconds(pid, pid)
        tasks = []
        for _ in range(count):
            tasks.append(asyncio.create_task(one(emu, world, rng.choice(members), rng, kind)))
            await asyncio.sleep(1 / 40)
        await asyncio.gather(*tasks)
        await asyncio.sleep(0.5)
        costs[kind] = (cpu_seconds(pid) - before) * 1000 / count
        main = (cpu_seconds(pid, pid) - main_before) * 1000 / count
        print(
            f"{kind:>13}{costs[kind]:>28.2f}   (event loop's thread {main:.2f}, other threads {costs[kind] - main:.2f})"
        )
    return costs


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def against_bare_bot(
    emu, world, members, env: dict[str, str], directory: Path, args, nexus: list[dict[str, object]], nexus_costs
) -> None:
    """The same load on a bare discord.py bot answering from memory, and Nexus as a ratio to it."""
    mix = [kind for kind in args.mix.split(",") if kind in BARE_KINDS]
    if not mix:
        print(f"bare bot: skipped (it answers only {', '.join(BARE_KINDS)}; pass --mix search)")
        return
    rng = random.Random(3)
    log = directory / "bare.log"
    profiling = ("-m", "cProfile", "-o", f"{args.profile}.bare") if args.profile else ()
    bare = BotProcess(env, log, profiling, program=(str(Path(__file__).with_name("bare_bot.py")),))
    await bare.start(emu)
    assert bare.proc is not None
    print(f"\nbare discord.py bot, the same emulator, mix {','.join(mix)}:")
    bare_costs = await cost_per_kind(emu, world, members, bare.proc.pid, args.cost, rng, mix) if args.cost else {}
    if args.warmup:
        await run_rate(emu, world, members, 50, args.warmup, rng, mix, quiet=True)
    results = [
        await run_rate(emu, world, members, float(rate), args.seconds, rng, mix) for rate in args.rates.split(",")
    ]
    await bare.stop()
    print("\nNexus as a ratio to the bare bot (latency from INTERACTION_CREATE to the first callback):")
    print(
        f"{'rate/s':>7}{'kind':>14}{'Nexus p50':>10}{'bare p50':>9}{'ratio':>7}{'Nexus p99':>10}{'bare p99':>9}{'ratio':>7}"
    )
    verdicts: list[str] = []
    for mine, theirs in zip(nexus, results, strict=True):
        mine_kinds: dict[str, tuple[float, float]] = mine["kinds"]  # type: ignore[assignment]
        bare_kinds: dict[str, tuple[float, float]] = theirs["kinds"]  # type: ignore[assignment]
        for kind in sorted(set(mine_kinds) & set(bare_kinds)):
            (p50, p99), (b50, b99) = mine_kinds[kind], bare_kinds[kind]
            print(
                f"{mine['rate']:>7.0f}{kind:>14}{p50:>10.1f}{b50:>9.1f}{p50 / b50:>7.1f}{p99:>10.1f}{b99:>9.1f}{p99 / b99:>7.1f}"
            )
            if kind == "note search" and float(mine["rate"]) == 200:  # type: ignore[arg-type]
                verdicts.append(f"search p99 at 200/s < 50 ms: {'met' if p99 < 50 else 'NOT met'} ({p99:.1f} ms)")
                verdicts.append(f"search p99 at 200/s <= 3x the bare bot's: {'met' if p99 <= 3 * b99 else 'NOT met'}")
    for kind in sorted(set(nexus_costs) & set(bare_costs)):
        ratio = nexus_costs[kind] / bare_costs[kind]
        print(
            f"CPU per {kind} interaction: Nexus {nexus_costs[kind]:.2f} ms, bare {bare_costs[kind]:.2f} ms ({ratio:.1f}x)"
        )
        if kind == "search":
            verdicts.append(f"CPU per search <= 2x the bare bot's: {'met' if ratio <= 2 else 'NOT met'}")
    for verdict in verdicts:
        print(f"target {verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rates", default="50,100,200")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=3, help="seconds at 50/s before measuring")
    parser.add_argument("--notes", type=int, default=2000, help="notes already in the guild before the load")
    parser.add_argument("--mix", default=",".join(MIX), help="the kinds to send, repeated for weight")
    parser.add_argument(
        "--profile", type=_absolute, help="write a cProfile of the bot process (main thread) to this file"
    )
    parser.add_argument(
        "--database-url",
        help="run on PostgreSQL: a loopback server's URL (postgresql+asyncpg://…); a throwaway database "
        f"{BENCH_DATABASE} is created there and dropped afterwards",
    )
    parser.add_argument(
        "--no-channel-limit",
        action="store_true",
        help="let the emulator accept any number of new messages per channel (Discord allows 5 per 5 s)",
    )
    parser.add_argument("--cost", type=int, default=0, help="also measure CPU per kind over this many of each")
    parser.add_argument(
        "--no-bare",
        action="store_true",
        help="skip the bare discord.py bot (bench/bare_bot.py) that Nexus is otherwise compared with",
    )
    args = parser.parse_args()
    rng = random.Random(3)
    gc.callbacks.append(_gc_watch)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/bench.db"
        emu = DiscordEmulator()
        if not args.no_channel_limit:
            emu.channel_post_limit = DISCORD_CHANNEL_POST_LIMIT
        await emu.start()
        world = build_world(emu)
        members = [emu.add_member(world.guild, f"m{i:03d}") for i in range(args.members)]
        # the cohort's shared notes so far, so searches rank real matches (bench/search.py's generator)
        if args.database_url:
            url = await fresh_database(args.database_url)
            await upgrade_database_async(url)
            await load_notes_async(url, args.notes, world.guild.id)
        else:
            await asyncio.to_thread(load_notes, Path(directory) / "bench.db", args.notes, world.guild.id)
        env = subprocess_env(emu, url, world.guild.id) | {"WRITE_COOLDOWN_RATE": "10000", "LOG_LEVEL": "WARNING"}
        log = Path(directory) / "bot.log"
        profiling: tuple[str, ...] = ()
        if args.profile:
            profiling = ("-m", "cProfile", "-o", args.profile)
        if os.environ.get("NEXUS_BENCH_PYTHON_ARGS"):  # e.g. a wrapper script that runs a CPU profiler
            profiling = tuple(os.environ["NEXUS_BENCH_PYTHON_ARGS"].split())
        bot = BotProcess(env, log, profiling)
        await bot.start(emu)
        await emu.command(world.admin, "setup channel", channel=world.project)
        for member in members:  # profiles, so partner find and announcements have learners
            await emu.command(member, "profile set", track=rng.choice(["backend", "frontend"]), timezone="UTC")
        assert bot.proc is not None
        mix = args.mix.split(",")
        nexus_costs: dict[str, float] = {}
        if args.cost:
            nexus_costs = await cost_per_kind(emu, world, members, bot.proc.pid, args.cost, rng, mix)
        print(
            f"{'rate/s':>7}{'sent':>6}{'sustained':>10}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'auto p99':>9}{'errors':>7}"
        )
        if args.warmup:  # first use compiles statements and fills caches; not measured
            await run_rate(emu, world, members, 50, args.warmup, rng, mix, quiet=True)
        best_under_100 = 0.0
        nexus_results: list[dict[str, object]] = []
        for rate in (float(r) for r in args.rates.split(",")):
            result = await run_rate(emu, world, members, rate, args.seconds, rng, mix)
            nexus_results.append(result)
            print(
                f"{result['rate']:>7.0f}{result['sent']:>6}{result['sustained']:>10.1f}{result['p50']:>8.1f}"
                f"{result['p95']:>8.1f}{result['p99']:>8.1f}{result['auto_p99']:>9.1f}{result['errors']:>7}"
            )
            if float(result["p99"]) < 100 and not result["errors"]:  # type: ignore[arg-type]
                best_under_100 = rate
        assert bot.proc is not None
        problems = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if "ERROR" in line or "WARNING" in line or "Traceback" in line
        ]
        for line in problems[:40]:
            print(f"  bot log: {line[:300]}")
        print(f"peak resident memory of the bot: {peak_rss_mb(bot.proc.pid):.0f} MB (target < 150 MB)")
        print(f"highest offered rate tried with p99 < 100 ms and no errors: {best_under_100:.0f}/s")
        await bot.stop()
        started = time.perf_counter()
        restarted = BotProcess(env, log)
        await restarted.start(emu)
        while True:
            it = await emu.command(world.learners[0], "nexus about", wait=False)
            try:
                await emu.wait_reply(it, timeout=5)
                break
            except EmulatorError:
                continue
        print(
            f"start-up to first answered command (existing database): {time.perf_counter() - started:.2f} s (target < 3 s)"
        )
        await restarted.stop()
        if not args.no_bare:
            await against_bare_bot(emu, world, members, env, Path(directory), args, nexus_results, nexus_costs)
        await emu.stop()
        if args.database_url:
            await drop_database(args.database_url)
    os.environ.pop("NEXUS_BENCH", None)


if __name__ == "__main__":
    asyncio.run(main())
