"""The two English word lists the language layer reads, both from pinned registry packages and
both checked against their sha256 at load (nothing is downloaded; a changed file is an error):

- spaCy's English lemma lookup table (spacy-lookups-data, the table of spaCy's lookup
  lemmatizer): "wetting", "wets", "wet" are forms of one lemma, "lost" and "losing" of "lose";
- SymSpell's English frequency dictionary (symspellpy): the words the spelling corrector leaves
  alone.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, Optional

from ..lazy import Lazy


class WordListError(RuntimeError):
    """A word list's package is missing, of another version, or its file was altered."""


@dataclass(frozen=True)
class PackageFile:
    package: str
    version: str
    member: str  # the file's path inside the installed package, as its RECORD names it
    sha256: str

    def read(self) -> bytes:
        from importlib import metadata

        fix = f"reinstall it with `make install` ({self.package}=={self.version} is in requirements/lock.txt)"
        try:
            dist = metadata.distribution(self.package)
        except metadata.PackageNotFoundError:
            raise WordListError(f"the package {self.package} is not installed: {fix}") from None
        if dist.version != self.version:
            raise WordListError(f"{self.package} is {dist.version}, the language layer was checked with {self.version}: {fix}")
        path = Path(str(dist.locate_file(self.member)))
        try:
            data = path.read_bytes()
        except OSError as failure:
            raise WordListError(f"{path}: cannot read ({failure}): {fix}") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != self.sha256:
            raise WordListError(f"{path} has the wrong sha256: expected {self.sha256}, got {actual}: {fix}")
        return data


LEMMA_TABLE = PackageFile(
    "spacy-lookups-data", "1.0.5", "spacy_lookups_data/data/en_lemma_lookup.json.gz",
    "8b5c845960584fdf72291e4f70f0a5e4401568492f4e090c013eec00d67bda05",
)
ENGLISH_DICTIONARY = PackageFile(
    "symspellpy", "6.7.8", "symspellpy/frequency_dictionary_en_82_765.txt",
    "68e9dc81c7e73bd7310b57e516ecaea0d8b6387ff71344a57c04174650a407a7",
)


class _Forms:
    """The lemma table turned around (lemma -> its forms), kept as one string of lines
    "\nlemma\tform form ...": looked up only while rules are built, a few hundred times, and as a
    dict of sets it held 24 MB for the life of every process."""

    def __init__(self, lemma_of: Dict[str, str]):
        forms: Dict[str, set] = {}
        for form, lemma in lemma_of.items():
            form, lemma = form.lower(), str(lemma).lower()
            if form.isalpha() and lemma.isalpha():
                forms.setdefault(lemma, {lemma}).add(form)
        self._lines = "\n" + "".join(f"{lemma}\t{' '.join(sorted(words))}\n" for lemma, words in forms.items())

    def get(self, lemma: str) -> Optional[FrozenSet[str]]:
        start = self._lines.find(f"\n{lemma}\t")
        if start < 0:
            return None
        start += len(lemma) + 2
        return frozenset(self._lines[start : self._lines.index("\n", start)].split(" "))


def _read_forms() -> _Forms:
    return _Forms(json.loads(gzip.decompress(LEMMA_TABLE.read())))


def _read_english() -> Dict[str, int]:
    counts = {}
    for line in ENGLISH_DICTIONARY.read().decode("utf-8").splitlines():
        word, _, count = line.partition(" ")
        if word:
            counts[word] = int(count)
    return counts


_forms = Lazy(_read_forms)
_english = Lazy(_read_english)


def forms_of(lemma: str) -> FrozenSet[str]:
    """Every form the lemma table gives the lemma, the lemma itself included ("wet" -> wet, wets,
    wetting, wetted). A word the table does not know is its own only form."""
    lemma = lemma.lower()
    return _forms.get().get(lemma) or frozenset({lemma})


def english_words() -> Dict[str, int]:
    """The 82,765 words of SymSpell's English dictionary, lower case, with how often each is written
    (its count in the Google Books corpus the dictionary was drawn from)."""
    return _english.get()
