"""A small model of written Korean: which spelling of a damaged word is the likely one.

The repair in ``tracker.importers.repair`` narrows each damaged Hangul
syllable to a few candidates; this module scores whole runs of Hangul with a
morpheme lexicon (wordfreq's Korean list, derived into data/lexicon.txt.gz by
scripts/build_import_lexicon.py), a hand-written list of the machine-learning
and study vocabulary the journals use (data/ko_terms.txt), the words the
journal itself spells intact, a syllable-bigram model for words in none of
those, and a few rules of Korean grammar (particles agree with the final
consonant before them; particles do not start a word or end a sentence; a
past-tense syllable is followed by an ending). Pure: no I/O beyond reading its
own data files once.
"""

from __future__ import annotations

import gzip
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3
SYLLABLES = HANGUL_LAST - HANGUL_FIRST + 1
FINAL_NONE, FINAL_RIEUL, FINAL_SSANGSIOS = 0, 8, 20


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Particles that follow a syllable with a final consonant, and their forms after a vowel.
AFTER_CONSONANT = _words(
    "을 은 이 과 으로 으로서 으로써 으로부터 이나 이랑 이라고 이라는 이며 이든"
)
AFTER_VOWEL = _words("를 는 가 와 로 로서 로써 로부터 나 랑 라고 라는 며 든")
# Pieces that only ever attach to a word before them.
BOUND_ONLY = _words("을 를 은 는 의 에서 에게 습니다 습니까 니다 었 았 였 께서")
# Particles that cannot close a sentence.
NOT_FINAL = _words("을 를 은 는 의 에 에서 에게 와 과 로 으로 도 께 랑 이랑")
# The syllables an ending may start with after a past-tense syllable (했, 었, 있 ...).
AFTER_PAST = _words(
    "다 고 지 던 는 습 어 으 을 음 기 네 나 니 더 든 거 죠 잖 소 게 도 냐 느 군 구 대 데 "
    "단 답 겠 었 요 서 자"
)

RULE_PENALTY = math.log(0.03)
TERM_FREQUENCY = 3e-5  # a study term the lexicon lacks counts as a common word
TERM_BOOST = 4.0  # and one it has is that much commoner in a study journal
# A verb or adjective stem with an ending fused into its last syllable: 맞추 + ㄴ = 맞춘,
# 맞추 + ㅂ니다 = 맞춥니다. Final consonant index -> log-probability of the fusion.
FUSED_FINALS = {4: math.log(0.1), 8: math.log(0.05), 16: math.log(0.02), 17: math.log(0.1)}
OOV_SYLLABLE = math.log(2e-4)  # cost of each syllable spelled outside every lexicon
JOURNAL_PRIOR_WEIGHT = 2000.0  # how many journal words the lexicon is worth


def is_hangul(ch: str) -> bool:
    return len(ch) == 1 and HANGUL_FIRST <= ord(ch) <= HANGUL_LAST


def final_consonant(ch: str) -> int:
    """The final consonant (jongseong) index of a syllable: 0 for none."""
    return (ord(ch) - HANGUL_FIRST) % 28


@dataclass(frozen=True)
class Lexicon:
    """Morpheme log-probabilities and syllable statistics, built once from the data files."""

    words: dict[str, float]
    start: dict[str, float]  # log P(first syllable of a word)
    bigram: dict[tuple[str, str], float]  # log P(next syllable | syllable) inside words
    unigram: dict[str, float]
    emoji: dict[str, float]  # log frequency of emoji in running text
    max_len: int
    suffixes: frozenset[str] = frozenset()  # every ending of every word: where to stop looking


def _read_sections(text: str) -> dict[str, list[tuple[int, list[str]]]]:
    sections: dict[str, list[tuple[int, list[str]]]] = {}
    current: list[tuple[int, list[str]]] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            current = sections.setdefault(line[1:].strip(), [])
            continue
        centibels, _, words = line.partition("\t")
        current.append((int(centibels), words.split()))
    return sections


def _data_text(name: str) -> str:
    raw = resources.files("tracker.importers").joinpath("data", name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def study_terms() -> list[str]:
    """The hand-written study vocabulary (one word or phrase a line, ``#`` comments)."""
    terms = []
    for line in _data_text("ko_terms.txt").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            terms.extend(line.split())
    return terms


@cache
def load_lexicon() -> Lexicon:
    sections = _read_sections(_data_text("lexicon.txt.gz"))
    frequency: dict[str, float] = {}
    for centibels, words in sections.get("ko", []):
        for word in words:
            frequency[word] = 10 ** (-centibels / 100)
    for term in study_terms():
        if all(is_hangul(ch) for ch in term):
            frequency[term] = max(frequency.get(term, 0.0) * TERM_BOOST, TERM_FREQUENCY)
    return build_lexicon(frequency, emoji=sections.get("emoji", []))


def build_lexicon(
    frequency: dict[str, float], *, emoji: Sequence[tuple[int, list[str]]] = ()
) -> Lexicon:
    total = sum(frequency.values()) or 1.0
    start: Counter[str] = Counter()
    unigram: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for word, f in frequency.items():
        start[word[0]] += f
        for ch in word:
            unigram[ch] += f
        for a, b in zip(word, word[1:], strict=False):
            pairs[a, b] += f
    start_total = sum(start.values()) or 1.0
    unigram_total = sum(unigram.values()) or 1.0
    return Lexicon(
        words={w: math.log(f / total) for w, f in frequency.items()},
        start={ch: math.log(f / start_total) for ch, f in start.items()},
        bigram={(a, b): math.log(f / unigram[a]) for (a, b), f in pairs.items()},
        unigram={ch: math.log(f / unigram_total) for ch, f in unigram.items()},
        emoji={w: -cb / 100 * math.log(10) for cb, words in emoji for w in words},
        max_len=max((len(w) for w in frequency), default=1),
        suffixes=frozenset(_suffixes(frequency)),
    )


def _suffixes(words: Iterable[str]) -> set[str]:
    return {word[i:] for word in words for i in range(len(word))}


@dataclass
class JournalWords:
    """Hangul runs the journal spells without damage, counted: the journal's own vocabulary."""

    runs: Counter[str] = field(default_factory=Counter)
    pieces: Counter[str] = field(default_factory=Counter)
    total: int = 0

    def add(self, run: str, count: int = 1) -> None:
        self.runs[run] += count
        self.pieces[run] += count
        self.total += count


@dataclass(frozen=True)
class RunContext:
    """What surrounds a run of Hangul: whether a word starts there, whether a sentence ends."""

    starts_word: bool = True
    ends_sentence: bool = False


@dataclass(frozen=True)
class Partial:
    """A run scored up to its end so far: best score and last known piece at each length."""

    text: str
    best: tuple[float, ...]
    last: tuple[str | None, ...]
    starts_word: bool


class KoreanModel:
    """Scores spellings of a Hangul run; higher is more likely."""

    def __init__(self, lexicon: Lexicon | None = None, journal: JournalWords | None = None):
        self.lexicon = lexicon or load_lexicon()
        self.journal = journal or JournalWords()
        self._piece_cache: dict[str, float | None] = {}
        self._suffixes = self.lexicon.suffixes | _suffixes(self.journal.pieces)

    def piece_score(self, piece: str) -> float | None:
        """log P(piece) as one morpheme, or None when neither lexicon nor journal knows it."""
        if piece in self._piece_cache:
            return self._piece_cache[piece]
        prior = self.lexicon.words.get(piece)
        if prior is None:
            prior = self._fused(piece)
        seen = self.journal.pieces.get(piece, 0)
        if prior is None and not seen:
            score = None
        else:
            # The journal's counts with the lexicon as a Dirichlet prior: a small
            # journal nudges the lexicon, a large one speaks for itself.
            expected = JOURNAL_PRIOR_WEIGHT * math.exp(prior) if prior is not None else 0.0
            score = math.log((seen + expected) / (self.journal.total + JOURNAL_PRIOR_WEIGHT))
        self._piece_cache[piece] = score
        return score

    def _fused(self, piece: str) -> float | None:
        last = piece[-1]
        fusion = FUSED_FINALS.get(final_consonant(last))
        if fusion is None:
            return None
        bare = chr(ord(last) - final_consonant(last))
        stem = self.lexicon.words.get(piece[:-1] + bare)
        return None if stem is None else stem + fusion

    def syllable_score(self, previous: str | None, ch: str) -> float:
        """log P(ch | previous) for a syllable of an unknown word."""
        lex = self.lexicon
        floor = -25.0
        unigram = lex.unigram.get(ch, floor)
        if previous is None:
            return _log_add(math.log(0.7) + lex.start.get(ch, floor), math.log(0.3) + unigram)
        pair = lex.bigram.get((previous, ch))
        if pair is None:
            return math.log(0.3) + unigram
        return _log_add(math.log(0.7) + pair, math.log(0.3) + unigram)

    def begin(self, starts_word: bool = True) -> Partial:
        """The empty prefix of a run, to ``extend`` syllable by syllable."""
        return Partial("", (0.0,), (None,), starts_word)

    def extend(self, partial: Partial, more: str) -> Partial:
        """The best segmentation of ``partial.text + more``, reusing the prefix's work."""
        run = partial.text + more
        best = list(partial.best)
        last_piece = list(partial.last)
        context = RunContext(partial.starts_word)
        max_len = self.lexicon.max_len
        suffixes = self._suffixes
        for j in range(len(partial.text) + 1, len(run) + 1):
            previous = run[j - 2] if j >= 2 else None
            value = best[j - 1] + OOV_SYLLABLE + self.syllable_score(previous, run[j - 1])
            if (
                previous is not None
                and final_consonant(previous) == FINAL_SSANGSIOS
                and run[j - 1] not in AFTER_PAST
            ):
                value += RULE_PENALTY
            chosen: str | None = None
            end = run[j - 1]
            bare = chr(ord(end) - final_consonant(end)) if is_hangul(end) else end
            for i in range(j - 1, max(0, j - max_len) - 1, -1):
                piece = run[i:j]
                if piece not in suffixes and (run[i : j - 1] + bare) not in suffixes:
                    break  # no word ends like this, nor any longer piece
                known = self.piece_score(piece)
                if known is None:
                    continue
                candidate = best[i] + known + self._rules(run, i, piece, context)
                if candidate > value:
                    value, chosen = candidate, piece
            best.append(value)
            last_piece.append(chosen)
        return Partial(run, tuple(best), tuple(last_piece), partial.starts_word)

    def finish(self, partial: Partial, ends_sentence: bool = False) -> float:
        """The score of a whole run: its segmentation, its end, the journal's own words."""
        total = partial.best[-1]
        if ends_sentence and partial.last[-1] in NOT_FINAL:
            total += RULE_PENALTY
        seen = self.journal.runs.get(partial.text)
        if seen:
            total += math.log(1 + seen)
        return total

    def score(self, run: str, context: RunContext = RunContext()) -> float:
        """The best segmentation of ``run`` into known morphemes and unknown syllables."""
        return self.finish(self.extend(self.begin(context.starts_word), run), context.ends_sentence)

    def _rules(self, run: str, i: int, piece: str, context: RunContext) -> float:
        penalty = 0.0
        if i == 0:
            if context.starts_word and piece in BOUND_ONLY:
                penalty += RULE_PENALTY
            return penalty
        before = run[i - 1]
        final = final_consonant(before)
        if _disagrees(piece, final):
            penalty += RULE_PENALTY
        if final == FINAL_SSANGSIOS and piece[0] not in AFTER_PAST:
            penalty += RULE_PENALTY
        return penalty


def _disagrees(particle: str, final: int) -> bool:
    """A particle in the form for the other kind of syllable before it (을 after a vowel)."""
    if particle in AFTER_CONSONANT:
        return final == FINAL_NONE
    if particle in AFTER_VOWEL:
        return final != FINAL_NONE and not (particle.startswith("로") and final == FINAL_RIEUL)
    return False


def _log_add(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    if b == -math.inf:
        return a
    return a + math.log1p(math.exp(b - a))
