"""The rulebook's questions as a Questionnaire, and what a conversation answered as a QuestionnaireResponse.

Answers come from what the store holds, two ways:
- coded: each confirmed finding a decision recorded answers the question of its concept, with its
  status and the person's words nested under it (a red flag answers the emergency screen);
- in the person's words: when the assistant asked a question, the person's next message is its answer.
Which questions remain is the last decision's `missing`; after an emergency nothing more is asked.
"""
from __future__ import annotations

import datetime as dt
from typing import Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

from fhir.resources.questionnaire import Questionnaire, QuestionnaireItem, QuestionnaireItemAnswerOption
from fhir.resources.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)

from ..store.models import BOT, USER, Message, TriageDecision
from ..triage.levels import EMERGENCY
from ..triage.rulebook import Question
from .context import ExportContext, fhir_instant, resource_id
from .observations import red_flag_concepts
from .stored import StoredFinding

STATUS_ITEM, WORDS_ITEM, MINUTES_ITEM = "status", "words", "minutes"
DURATION = "duration"  # the concept whose findings carry minutes


def question_prompts() -> Dict[str, str]:
    """What the assistant asks for each question id (domain.yml utter_ask_<id>), spaces folded."""
    from ..dialogue.replies import questions  # only when a Questionnaire is built

    return {qid: _folded(reply.text) for qid, reply in questions().items()}


def _folded(text: str) -> str:
    return " ".join(text.split())


def answer_concepts(question: Question, context: ExportContext) -> FrozenSet[str]:
    """The concepts that answer a question: its own, and for the emergency screen every red flag."""
    if question.id == context.terms.red_flag_question:
        return question.concepts | red_flag_concepts(context)
    return question.concepts


def _ordered(concepts, context: ExportContext) -> List[str]:
    order = {name: index for index, name in enumerate(context.terms.concepts)}
    return sorted(concepts, key=lambda name: (order.get(name, len(order)), name))


def _child_items(question: Question, context: ExportContext) -> List[QuestionnaireItem]:
    terms = context.terms
    statuses = [QuestionnaireItemAnswerOption(valueCoding=terms.status_coding(s)) for s in terms.statuses]
    children = [
        QuestionnaireItem(linkId=f"{question.id}.{STATUS_ITEM}", text="How the person said it (the finding's status)",
                          type="choice", answerOption=statuses),
        QuestionnaireItem(linkId=f"{question.id}.{WORDS_ITEM}", text="In the person's words", type="string"),
    ]
    if DURATION in question.concepts:
        children.append(QuestionnaireItem(linkId=f"{question.id}.{MINUTES_ITEM}", text="How long, in minutes",
                                          type="decimal"))
    return children


def questionnaire(context: ExportContext, prompts: Mapping[str, str]) -> Questionnaire:
    rulebook = context.rulebook
    items = [
        QuestionnaireItem(
            linkId=question.id,
            text=prompts.get(question.id, question.id.replace("_", " ")),
            # Open: a coded answer where a finding was recorded, else the person's own words.
            type="open-choice",
            repeats=True,
            answerOption=[
                QuestionnaireItemAnswerOption(valueCoding=context.terms.finding_answer(name))
                for name in _ordered(answer_concepts(question, context), context)
            ],
            item=_child_items(question, context),
        )
        for question in rulebook.questions
    ]
    return Questionnaire(
        id=context.questionnaire_id,
        url=context.terms.questionnaire_url,
        version=rulebook.version,
        name="LegNumbnessTriage",
        title="Leg-numbness triage questions",
        status="active",
        subjectType=["Patient"],
        description=("What the leg-numbness triage assistant asks, in the rulebook's order (emergency signs first). "
                     "It asks only what the person has not already said."),
        item=items,
    )


def answers_id(conversation_key: str) -> str:
    return resource_id(conversation_key, "answers")


def asked_and_answered(messages: Sequence[Message], prompts: Mapping[str, str]) -> List[Tuple[str, Message]]:
    """(question id, the person's reply) for each question the assistant asked and got a reply to.
    A question is a bot message ending with its prompt (it may start with "Back to my question:")."""
    pairs: List[Tuple[str, Message]] = []
    pending: Optional[str] = None
    for message in messages:
        if message.speaker == BOT:
            text = _folded(message.text)
            pending = next((qid for qid, prompt in prompts.items() if prompt and text.endswith(prompt)), None)
        elif message.speaker == USER:
            if pending and message.text.strip():
                pairs.append((pending, message))
            pending = None
    return pairs


def response_status(last: Optional[TriageDecision]) -> str:
    if last is not None and last.level == EMERGENCY:
        return "stopped"  # the assistant asks nothing more: these questions will never be completed
    if last is not None and not last.missing:
        return "completed"
    return "in-progress"


def _coded(question: Question, finding: StoredFinding, context: ExportContext) -> QuestionnaireResponseItemAnswer:
    nested = [QuestionnaireResponseItem(
        linkId=f"{question.id}.{STATUS_ITEM}",
        answer=[QuestionnaireResponseItemAnswer(valueCoding=context.terms.status_coding(finding.status))],
    )]
    if finding.text:
        nested.append(QuestionnaireResponseItem(
            linkId=f"{question.id}.{WORDS_ITEM}", answer=[QuestionnaireResponseItemAnswer(valueString=finding.text)]
        ))
    if finding.minutes is not None and DURATION in question.concepts:
        nested.append(QuestionnaireResponseItem(
            linkId=f"{question.id}.{MINUTES_ITEM}",
            answer=[QuestionnaireResponseItemAnswer(valueDecimal=finding.minutes)],
        ))
    return QuestionnaireResponseItemAnswer(valueCoding=context.terms.finding_answer(finding.concept), item=nested)


def questionnaire_response(
    conversation_key: str, patient_id: str, findings: Sequence[StoredFinding], messages: Sequence[Message],
    last: Optional[TriageDecision], authored: dt.datetime, context: ExportContext, prompts: Mapping[str, str],
) -> QuestionnaireResponse:
    # A sign only one detector found is not an answer yet: the assistant still has to ask about it.
    confirmed = [finding for finding in findings if not finding.suspected]
    replies = asked_and_answered(messages, prompts)
    items = []
    for question in context.rulebook.questions:
        concepts = answer_concepts(question, context)
        coded = {f.key: f for f in confirmed if f.concept in concepts}
        answers = [_coded(question, finding, context) for finding in coded.values()]
        answers += [QuestionnaireResponseItemAnswer(valueString=reply.text)
                    for asked, reply in replies if asked == question.id]
        if answers:
            items.append(QuestionnaireResponseItem(linkId=question.id, text=prompts.get(question.id), answer=answers))
    return QuestionnaireResponse(
        id=answers_id(conversation_key),
        questionnaire=context.questionnaire_canonical,
        status=response_status(last),
        subject=context.reference("Patient", patient_id),
        authored=fhir_instant(authored),
        author=context.reference("Device", context.device_id),
        source=context.reference("Patient", patient_id),
        item=items or None,
    )
