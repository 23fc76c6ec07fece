"""`tracker import posts` on a journal of 1,000 damaged posts, and how well the repair reads Korean.

1. Recovery. Every text in benchmarks/data/korean/ (17 passages written for
   this benchmark, about 5,700 Hangul syllables) and the two sample posts are
   damaged exactly as the broken export did (tracker.importers.repair.damage),
   then repaired as one journal. Reported: Korean words right (whitespace-
   separated words with Hangul, compared in place), and the same for
   ftfy.fix_text alone (its words aligned with difflib: ftfy changes lengths).
2. Speed. A journal of 1,000 posts in the study helper's format, each with a
   Korean paragraph drawn from the passages, damaged, imported by the console
   script into a fresh database (one whole process), then imported again
   (everything already there): the two alternate, run by run.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from benchmarks.harness import ROOT, Context, Figure, Process, interleave, plain, tracker_command
from benchmarks.workspace import init, tracker_env

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "data" / "korean"
SAMPLES = ROOT / "tests" / "data" / "journal_samples"
HANGUL = re.compile("[\uac00-\ud7a3]")
FOCUS = [  # (title, depth) of lessons the curriculum has, in study order
    ("Attention Mechanism", 1),
    ("Transformer", 1),
    ("Positional Encoding", 1),
    ("Multi-Head Attention", 1),
    ("Positional Encoding", 2),
    ("Multi-Head Attention", 2),
    ("Flash Attention", 1),
    ("Grouped-Query Attention", 1),
    ("Flash Attention", 3),
    ("Grouped-Query Attention", 3),
    ("Sparse Attention", 1),
    ("GPT Architecture", 1),
    ("BERT Architecture", 1),
    ("State-Space Models", 1),
    ("Scaling Laws", 1),
    ("RLHF", 1),
    ("Efficient Fine-Tuning", 1),
    ("Mechanistic Interpretability", 1),
    ("Alignment", 1),
    ("Red Teaming", 1),
]


def korean_words(clean: str, repaired: str) -> tuple[int, int, int, int]:
    """(words right, words, syllables right, syllables), compared in place."""
    words = right = syllables = syllables_right = 0
    position = 0
    for word in clean.split():
        start = clean.index(word, position)
        position = start + len(word)
        if HANGUL.search(word):
            words += 1
            right += repaired[start:position] == word
    for a, b in zip(clean, repaired, strict=True):
        if HANGUL.match(a):
            syllables += 1
            syllables_right += a == b
    return right, words, syllables_right, syllables


def ftfy_words(clean: str, fixed: str) -> tuple[int, int]:
    """Korean words of ``clean`` that ftfy's output has in the same order."""
    want = clean.split()
    got = fixed.split()
    matcher = difflib.SequenceMatcher(a=want, b=got, autojunk=False)
    matched = set()
    for block in matcher.get_matching_blocks():
        matched.update(range(block.a, block.a + block.size))
    korean = [i for i, w in enumerate(want) if HANGUL.search(w)]
    return sum(1 for i in korean if i in matched), len(korean)


def recovery(texts: list[str]) -> dict[str, float | int]:
    import ftfy

    from tracker.importers.repair import damage, repair_journal

    damaged = [damage(t) for t in texts]
    start = time.perf_counter()
    results = repair_journal(damaged)
    seconds = time.perf_counter() - start
    totals = [0, 0, 0, 0]
    ftfy_right = ftfy_total = 0
    guessed = characters = wrong_flagged = wrong = 0
    for clean, broken, result in zip(texts, damaged, results, strict=True):
        for i, value in enumerate(korean_words(clean, result.text)):
            totals[i] += value
        r, t = ftfy_words(clean, ftfy.fix_text(broken))
        ftfy_right, ftfy_total = ftfy_right + r, ftfy_total + t
        characters += result.figures.characters
        guessed += result.figures.guessed
        flagged = {g.index for g in result.guesses}
        for i, (a, b) in enumerate(zip(clean, result.text, strict=True)):
            if a != b:
                wrong += 1
                wrong_flagged += i in flagged
    return {
        "syllables": totals[3],
        "korean_words": totals[1],
        "words_right": round(totals[0] / totals[1], 4),
        "syllables_right": round(totals[2] / totals[3], 4),
        "ftfy_words_right": round(ftfy_right / ftfy_total, 4),
        "characters_repaired": characters,
        "guessed": guessed,
        "wrong_characters": wrong,
        "wrong_and_flagged_as_guess": wrong_flagged,
        "repair_s": round(seconds, 3),
    }


def sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.md")))
    found = re.findall(r"[^.!?\n]*[가-힣][^.!?\n]*[.!?]", text)
    return [s.strip() for s in found if len(s.strip()) > 10]


def journal_post(
    index: int, day: date, pool: list[str], history: list[tuple[date, str, int]]
) -> str:
    title, depth = FOCUS[index % len(FOCUS)]
    body = " ".join(pool[(index * 7 + k) % len(pool)] for k in range(6))
    earlier = history[-3:]
    lines = [
        "---",
        "categories: learning",
        f"date: '{day.isoformat()}'",
        "layout: single",
        f"title: {title}",
        "---",
        f"# AI Learning Journey - {day.isoformat()}",
        "",
        "## 🎯 Today's Focus",
        "",
        f"**{title}** (Depth {depth})",
        "",
        body,
        "",
        "## 📚 Why This Matters Now",
        "",
        "### 📅 과거 학습과의 연결",
        "",
        "**지난 세션에서 배운 것들**:",
        *[f"- **{name}** (depth {d}) - 핵심 개념 복습" for _, name, d in earlier],
        "",
        "## 🔗 Connections to What You Already Know",
        "",
    ]
    for on, name, d in earlier:
        lines += [f"**{on.isoformat()}** - {name} (depth {d})", "- 오늘 배운 내용과 연결됨", ""]
    lines += ["## 🌱 Growth Indicators", "", "**Architecture**: ████░░░░░░ 40%", ""]
    lines += ["_Generated by a study helper_", ""]
    history.append((day, title, depth))
    return "\n".join(lines)


def build_journal(folder: Path, posts: int) -> int:
    from tracker.importers.repair import damage

    pool = sentences()
    history: list[tuple[date, str, int]] = []
    day = date(2023, 1, 2)
    syllables = 0
    for index in range(posts):
        text = journal_post(index, day, pool, history)
        syllables += len(HANGUL.findall(text))
        (folder / f"{day.isoformat()}-post-{index:04d}.md").write_text(
            damage(text), encoding="utf-8"
        )
        day += timedelta(days=1 + index % 2)
    return syllables


def run(ctx: Context) -> Iterator[Figure]:
    for name, pattern, folder in (("corpus", "*.md", CORPUS), ("samples", "*.clean.md", SAMPLES)):
        texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob(pattern))]
        row = recovery(texts)
        note = f"{row['korean_words']:,} Korean words, {row['syllables']:,} syllables"
        yield plain(f"repair: Korean words right ({name})", [row["words_right"] * 100],
                    unit="%", note=note)  # fmt: skip
        yield plain(f"ftfy alone: Korean words right ({name})",
                    [row["ftfy_words_right"] * 100], unit="%", note=note)  # fmt: skip
    posts = ctx.size(1000, 10)
    journal = ctx.tmp / "journal"
    journal.mkdir()
    syllables = build_journal(journal, posts)
    runs = iter(range(1_000))
    env: dict[str, str] = {}
    importing = tracker_command("import", "posts", str(journal))

    def first() -> None:
        env.clear()
        env.update(tracker_env(ctx.tmp, f"run{next(runs)}", now="2030-01-01T12:00"))
        init(env)  # not timed: the clock stops before, see below
        started.append(time.perf_counter())
        Process(importing, env)()
        finished.append(time.perf_counter())

    started: list[float] = []
    finished: list[float] = []
    t = interleave({"first": first, "again": lambda: Process(importing, dict(env))()},
                   runs=ctx.runs_for(3), warmup=ctx.warmups())  # fmt: skip
    measured = [b - a for a, b in zip(started, finished, strict=True)][-len(t["first"]) :]
    note = f"{posts:,} damaged posts, {syllables:,} Hangul syllables"
    yield plain(f"import posts ({posts:,} posts, fresh database)", measured, note=note)
    yield plain(f"import posts again ({posts:,} posts, all already there)", t["again"])
