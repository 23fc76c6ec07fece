"""Derive the importer's compact Korean and emoji frequency table from the installed wordfreq.

The repair of damaged journal posts needs to know which Korean morphemes and
which emoji are common. wordfreq ships that knowledge in about 58 MB of data
for many languages; the importer needs about 100 KB of it, so this script
writes the part it uses to tracker/importers/data/lexicon.txt.gz and the
tracker does not depend on wordfreq at run time. Run it again after a
wordfreq upgrade:

    .venv/bin/pip install "wordfreq==3.1.1"
    .venv/bin/python scripts/build_import_lexicon.py

The output is deterministic (sorted, gzip without a timestamp), so a rebuild
with the same wordfreq changes nothing in git.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tracker" / "importers" / "data" / "lexicon.txt.gz"
MAX_EMOJI_CENTIBELS = 800  # rarer than 1e-8 per word carries no signal


def is_hangul_word(word: str) -> bool:
    return bool(word) and all("\uac00" <= ch <= "\ud7a3" for ch in word)


def is_emoji(word: str) -> bool:
    """One pictograph, optionally with the emoji variation selector."""
    base = word.removesuffix("\ufe0f")
    if len(base) != 1:
        return False
    code = ord(base)
    return 0x1F300 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2300 <= code <= 0x23FF


def bins(lang: str, wordlist: str, keep: Callable[[str], bool]) -> list[tuple[int, list[str]]]:
    from wordfreq import get_frequency_list

    rows: dict[str, int] = {}
    for centibels, words in enumerate(get_frequency_list(lang, wordlist)):
        for word in words:
            word = word.removesuffix("\ufe0f") if keep is is_emoji else word
            if keep(word) and word not in rows:
                rows[word] = centibels
    grouped: dict[int, list[str]] = {}
    for word, centibels in rows.items():
        grouped.setdefault(centibels, []).append(word)
    return sorted((cb, sorted(words)) for cb, words in grouped.items())


def main() -> int:
    try:
        wordfreq_version = version("wordfreq")
    except Exception:  # noqa: BLE001 - any failure means it is not installed
        print("wordfreq is not installed: .venv/bin/pip install wordfreq", file=sys.stderr)
        return 2
    lines = [
        f"# Derived by scripts/build_import_lexicon.py from wordfreq {wordfreq_version}.",
        "# wordfreq's word lists are CC BY-SA 4.0 (Robyn Speer and contributors);",
        "# this table, a subset of them, is shared under the same licence.",
        "# Each line: centibels (frequency = 10 ** (-centibels / 100)), a tab, words.",
        "@ko",
    ]
    lines += [f"{cb}\t{' '.join(words)}" for cb, words in bins("ko", "small", is_hangul_word)]
    lines.append("@emoji")
    lines += [
        f"{cb}\t{' '.join(words)}"
        for cb, words in bins("en", "large", is_emoji)
        if cb <= MAX_EMOJI_CENTIBELS
    ]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(lines)} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
