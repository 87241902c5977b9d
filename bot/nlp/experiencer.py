"""Whose sign is it: the person a mention is about, read from the words before it in its sentence.

A red flag told about someone else ("my neighbour collapsed and couldn't walk after", "my brother
passes out sometimes") is not the patient's sign when the numbness is the writer's own ("my leg
goes numb on long walks"). ConText's family rules know relatives' histories; this knows who a
sentence is about. The nearest person word before the end of the mention decides: I, me, my leg
(the writer), or he, she, his leg, my friend, dad's (someone else). When a message tells of a
relative's numbness ("dad's legs are numb and he can't stand"), that person is the patient and
nothing is moved: only a sign of another person beside the writer's own numbness is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from spacy.tokens import Doc

WRITER, OTHER = "writer", "other"

_WRITER_WORDS = {"i", "i'm", "im", "i've", "ive", "i'd", "me", "myself", "mine", "i'll"}
# Subjects only: "him", "them" and an object "her" ("after feeding her") name someone the writer acts on.
_OTHER_WORDS = {"he", "she", "they", "he's", "she's", "hes", "shes", "they're", "himself", "herself", "themselves",
                "he'd", "she'd"}
_OTHER_POSSESSIVES = {"his", "her", "their"}
# People a patient writes about; "my" before one of them is someone else, before "leg" the writer.
PEOPLE = {
    "friend", "friends", "neighbour", "neighbor", "neighbours", "colleague", "coworker", "co-worker", "husband",
    "wife", "partner", "son", "daughter", "mum", "mom", "mother", "dad", "father", "brother", "sister", "gran",
    "grandma", "granny", "grandad", "granddad", "grandpa", "nan", "nana", "uncle", "aunt", "auntie", "cousin", "boss",
    "mate", "boyfriend", "girlfriend", "kid", "child", "baby", "grandson", "granddaughter", "nephew", "niece",
    "flatmate", "roommate", "housemate", "teacher", "coach", "guy", "bloke", "lady", "woman", "man", "fiance",
    "fiancee", "stepdad", "stepmum", "grandmother", "grandfather", "parents", "patient", "client",
}


def _is_person(word: str) -> bool:
    """One of PEOPLE, also as written without its apostrophe ("my husbands legs", "wifes")."""
    return word in PEOPLE or (word.endswith("s") and word[:-1] in PEOPLE)


def person_of(doc: "Doc", start: int, end: int) -> Optional[str]:
    """WRITER or OTHER for the mention doc[start:end], from the nearest person word at or before
    its end within its sentence; None when the sentence names nobody before it."""
    sentence_start = doc[start].sent.start
    for index in range(end - 1, sentence_start - 1, -1):
        word = doc[index].lower_
        following = doc[index + 1] if index + 1 < len(doc) else None
        if word in _WRITER_WORDS:
            return WRITER
        if word in _OTHER_WORDS or _is_person(word):
            return OTHER
        if word in _OTHER_POSSESSIVES and following is not None and following.is_alpha and not following.is_stop:
            return OTHER  # "her legs", not "feeding her and ..."
        if word in ("my", "our") and not (following is not None and _is_person(following.lower_)):
            return WRITER  # "my leg", "my words": the writer's own
    return None
