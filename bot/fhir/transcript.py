"""The transcript as Communication resources, one per message, in order, exactly as written."""
from __future__ import annotations

from typing import Dict, Optional

from fhir.resources.codeableconcept import CodeableConcept
from fhir.resources.communication import Communication, CommunicationPayload

from ..store.models import USER, Conversation, Message
from .codes import CHANNEL
from .context import ExportContext, fhir_instant, resource_id


def message_id(conversation_key: str, message: Message) -> str:
    return resource_id(conversation_key, "message", message.event_key)


def communication(
    message: Message, conversation: Conversation, conversation_key: str, patient_id: str,
    decision_ids: Dict[int, str], context: ExportContext,
) -> Communication:
    person = context.reference("Patient", patient_id)
    bot = context.reference("Device", context.device_id)
    from_person = message.speaker == USER
    about = decision_ids.get(message.id)
    medium: Optional[list] = None
    if conversation.channel:
        medium = [CodeableConcept(coding=[context.terms.ours(CHANNEL, conversation.channel, conversation.channel)])]
    return Communication(
        id=message_id(conversation_key, message),
        status="completed",
        subject=person,
        sent=fhir_instant(message.at),
        sender=person if from_person else bot,
        recipient=[bot if from_person else person],
        medium=medium,
        # The bot message that carried a decision points at it.
        about=[context.reference("RiskAssessment", about)] if about else None,
        payload=[CommunicationPayload(contentString=message.text)] if message.text else None,
    )
