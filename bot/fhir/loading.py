"""Reading conversations for the export: one by id, or many in batches. Only SELECTs, never a write."""
from __future__ import annotations

from typing import Callable, Iterator, Optional, Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.sql import Select

from ..store.models import Conversation, Message

BATCH_SIZE = 100
MAX_ID = 2**63 - 1  # past it SQLite's driver raises instead of finding nothing

# What the export reads of a conversation: its messages and each one's decision, in two more queries.
_WITH_MESSAGES = selectinload(Conversation.messages).selectinload(Message.decision)


def load_conversation(session: Session, conversation_id: int) -> Optional[Conversation]:
    if not 1 <= conversation_id <= MAX_ID:
        return None
    return session.scalar(select(Conversation).where(Conversation.id == conversation_id).options(_WITH_MESSAGES))


def stored_conversations(
    sessions: sessionmaker, where: Optional[Callable[[Select, Session], Select]] = None,
    ids: Optional[Sequence[int]] = None, batch_size: int = BATCH_SIZE,
) -> Iterator[Conversation]:
    """The conversations `where` selects (a function of a select of Conversation columns and the
    session, adding conditions: the staff list's ConversationFilter.where), or those with `ids`, in
    pseudonym order (so that each person's Patient comes once in NDJSON).

    batch_size at a time, each batch in a short transaction of its own: memory stays flat, and a
    long export holds no snapshot open. A conversation is valid until the next one is asked for."""
    after = None
    wanted = sorted({i for i in ids if 1 <= i <= MAX_ID}) if ids is not None else None
    while True:
        with sessions() as session, session.begin():
            query = select(Conversation.id, Conversation.sender)
            if wanted is not None:
                query = query.where(Conversation.id.in_(wanted))
            elif where is not None:
                query = where(query, session)
            if after is not None:
                sender, last_id = after
                query = query.where(or_(Conversation.sender > sender,
                                        and_(Conversation.sender == sender, Conversation.id > last_id)))
            keys = session.execute(query.order_by(Conversation.sender, Conversation.id).limit(batch_size)).all()
            if not keys:
                return
            loaded = session.scalars(
                select(Conversation).where(Conversation.id.in_([k.id for k in keys])).options(_WITH_MESSAGES)
            ).all()
            by_id = {conversation.id: conversation for conversation in loaded}
            for key in keys:
                if key.id in by_id:
                    yield by_id.pop(key.id)
            after = (keys[-1].sender, keys[-1].id)
            del loaded, by_id  # this batch goes before the next is read: one batch in memory at a time
