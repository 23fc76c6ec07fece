"""Bring the database's concepts, lessons and prerequisites in line with lessons/.

Only curriculum tables change: a learner's sessions, progress, submissions,
cards and logs are never touched. A lesson or concept that disappeared from
disk is marked retired rather than deleted, since history may point at it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.curriculum.cards import reconcile_question_cards, set_lesson_cards_suspended
from tracker.curriculum.fingerprint import (  # noqa: F401 - re-exported
    FINGERPRINT_KEY,
    needs_sync,
    stored_fingerprint,
)
from tracker.curriculum.model import Curriculum, LessonSpec
from tracker.db.models import Concept, Lesson, LessonPrerequisite, Meta


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.retired)


def _content_hash(spec: LessonSpec) -> str:
    payload = json.dumps(
        {
            "title": spec.title,
            "summary": spec.summary,
            "requires": [str(r) for r in spec.requires],
            "questions": [[q.prompt, q.answer] for q in spec.questions],
            "exercise": None
            if spec.exercise is None
            else [spec.exercise.entry, spec.exercise.kind],
            "content": spec.content,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def sync_curriculum(session: Session, curriculum: Curriculum, *, now: datetime) -> SyncReport:
    """Upsert the curriculum inside the caller's transaction."""
    report = SyncReport()
    concepts = {c.id: c for c in session.scalars(select(Concept))}
    for spec in curriculum.concepts.values():
        row = concepts.get(spec.id)
        values = {
            "title": spec.title,
            "category": spec.category,
            "target_depth": spec.target_depth,
            "position": spec.position,
            "retired": False,
        }
        if row is None:
            session.add(Concept(id=spec.id, summary="", **values))
            report.added.append(spec.id)
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            report.updated.append(spec.id)
    for concept_id, row in concepts.items():
        if concept_id not in curriculum.concepts and not row.retired:
            row.retired = True
            report.retired.append(concept_id)
    session.flush()

    lessons = {lesson.id: lesson for lesson in session.scalars(select(Lesson))}
    for position, spec in enumerate(curriculum.lessons.values()):
        digest = _content_hash(spec)
        row = lessons.get(spec.id)
        if (
            row is not None
            and row.content_sha256 == digest
            and row.position == position
            and not row.retired
        ):
            continue
        old_questions = None if row is None else row.questions_json
        was_retired = row is not None and row.retired
        if row is None:
            row = Lesson(id=spec.id)
            session.add(row)
            report.added.append(spec.id)
        else:
            report.updated.append(spec.id)
        row.concept_id = spec.concept
        row.depth = spec.depth
        row.title = spec.title
        row.has_exercise = spec.has_exercise
        row.questions_json = json.dumps(
            [{"prompt": q.prompt, "answer": q.answer} for q in spec.questions], ensure_ascii=False
        )
        row.content_sha256 = digest
        row.position = position
        row.retired = False
        row.prerequisites = [
            LessonPrerequisite(concept_id=r.concept, depth=r.depth) for r in spec.requires
        ]
        if old_questions is not None:  # learners may hold cards of this lesson
            if was_retired:
                set_lesson_cards_suspended(session, lesson_id=spec.id, suspended=False)
            reconcile_question_cards(
                session,
                lesson_id=spec.id,
                concept_id=spec.concept,
                old_json=old_questions,
                new_json=row.questions_json,
                now=now,
            )
    for lesson_id, row in lessons.items():
        if lesson_id not in curriculum.lessons and not row.retired:
            row.retired = True
            set_lesson_cards_suspended(session, lesson_id=lesson_id, suspended=True)
            report.retired.append(lesson_id)

    meta = session.get(Meta, FINGERPRINT_KEY)
    if meta is None:
        session.add(Meta(key=FINGERPRINT_KEY, value=curriculum.fingerprint))
    else:
        meta.value = curriculum.fingerprint
    session.flush()
    return report
