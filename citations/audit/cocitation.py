"""Where else a document cites an entry, and how alike those sentences are to this one.

Why the check needs it: the ranker scores each cite with ``eval``'s masking (only earlier citations are history),
so it cannot see that the document cites the same entry elsewhere. A writer who cites an entry several times tends
to cite it for the same thing (a method, a data set, a result), in sentences that share words; a key written by
mistake lands in a sentence unlike every other place that entry is cited. So for each cited key two facts of the
whole document are read beside the ranker's margin (``suspicion``): whether the entry is cited in another command
(``elsewhere``) and the largest word similarity between this cite's context and the contexts of those other
commands (``match``). An entry cited elsewhere but never in a sentence like this one is suspicious; one cited
elsewhere in a near-identical sentence is not. On injected swaps in shared/train papers this raised the near swaps
found (a same-author confusion is often an entry the paper cites for something else) at the same false-flag rate
(docs/check.md).

Why words and not the encoder: the similarity should not inherit the ranker's blind spots (the encoder is part of
it, and it is fine-tuned on the training papers, so it looks better there than on new ones), and a tf-idf over the
document's own cite contexts is cheap (0.03 s for the 466 cite commands of the largest dev paper) and
needs no model.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

__all__ = ["STOP_WORDS", "context_vectors", "cosine", "CitedElsewhere"]

_WORD = re.compile(r"[^\W\d_]{3,}")

#: Function words that say nothing about what is cited (and "et al", "see", "e.g." that surround many cites).
STOP_WORDS = frozenset("""
about above after again against all also although among and another any are around because been before being
below between both but can cannot could did does doing done down during each either else etc even ever every few
for from further had has have having her here hers herself him himself his how however into its itself just least
less like made make many may more most much must near neither nor not now off often once one only other others our
ours out over own per rather same see she should since some such than that the their theirs them themselves then
there therefore these they this those though thus through too under until upon use used using very via was way
were what when where whether which while who whom whose why will with within without would yet you your al et
""".split())


def _words(text: str) -> list[str]:
    return [w for w in (m.casefold() for m in _WORD.findall(text)) if w not in STOP_WORDS]


def context_vectors(contexts: Sequence[str]) -> list[dict[str, float]]:
    """Unit-length tf-idf vectors of ``contexts`` (sublinear term frequency, idf over these contexts)."""
    bags = [Counter(_words(c)) for c in contexts]
    df = Counter(w for bag in bags for w in bag)
    n = len(bags)
    out: list[dict[str, float]] = []
    for bag in bags:
        vec = {w: (1.0 + math.log(c)) * (math.log((1 + n) / (1 + df[w])) + 1.0) for w, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        out.append({w: v / norm for w, v in vec.items()})
    return out


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two unit-length sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


class CitedElsewhere:
    """For one document: which commands cite each entry, and how alike their contexts are.

    ``contexts``: cite ordinal -> plain-text context of that command; ``cited``: cite ordinal -> the entries (canonical
    keys) it cites.
    """

    def __init__(self, contexts: Mapping[int, str], cited: Mapping[int, Sequence[str]]) -> None:
        order = sorted(contexts)
        self._vectors = dict(zip(order, context_vectors([contexts[o] for o in order])))
        self._where: dict[str, list[int]] = {}
        for ordinal in sorted(cited):
            for key in dict.fromkeys(cited[ordinal]):
                self._where.setdefault(key, []).append(ordinal)

    def uses(self, key: str) -> int:
        """How many commands of the document cite ``key``."""
        return len(self._where.get(key, ()))

    def of(self, key: str, ordinal: int) -> tuple[bool, float]:
        """Whether ``key`` is cited in a command other than ``ordinal``, and the best context similarity there."""
        others = [o for o in self._where.get(key, ()) if o != ordinal]
        mine = self._vectors.get(ordinal)
        if not others:
            return False, 0.0
        if mine is None:
            return True, 0.0
        return True, max((cosine(mine, self._vectors[o]) for o in others if o in self._vectors), default=0.0)

