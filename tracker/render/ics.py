"""The learner's upcoming review days and planned sessions as an iCalendar file.

Built with the ``icalendar`` package. Each event starts at the learner's
``reminder_time`` on its learner-day, in their zone (a VTIMEZONE generated
from ``zoneinfo`` covers the file's dates, DST changes included), with a
VALARM that fires at ``reminder_time``: a review day at its start, a lesson
(which follows the reviews) 15 minutes before its start.

UIDs come from what an event is (the learner, the review day, the planned
lesson), so re-importing a newer file updates the events of the older one;
SEQUENCE grows with the export time for the clients that compare it. The
descriptions hold commands, never links.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.reports.exports import CalendarDocument


REVIEW_MINUTES = 15
SESSION_MINUTES = 45
PRODID = "-//tracker//learning tracker//EN"
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def review_uid(doc: CalendarDocument, day: date) -> str:
    return f"review-{day.isoformat()}-{doc.learner_key}@tracker"


def session_uid(doc: CalendarDocument, lesson: str) -> str:
    return f"lesson-{lesson}-{doc.learner_key}@tracker"


def _alarm(description: str, before: timedelta) -> object:
    from icalendar import Alarm

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", description)
    alarm.add("trigger", -before)
    return alarm


def render_ics(doc: CalendarDocument) -> bytes:
    from icalendar import Calendar, Event, Timezone

    tz = doc.clock.tz
    last = doc.first_day + timedelta(days=doc.days)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"tracker: {doc.learner}")
    calendar.add("x-wr-timezone", tz.key)
    calendar.add_component(
        Timezone.from_tzinfo(
            tz,
            tzid=tz.key,
            first_date=date(doc.first_day.year, 1, 1),
            last_date=date(last.year + 1, 1, 1),
        )
    )
    stamp = doc.generated_at.astimezone(UTC).replace(microsecond=0)
    sequence = max(0, int((stamp - EPOCH).total_seconds() // 60))
    remind = doc.reminder_time

    def start_of(day: date, after: timedelta = timedelta(0)) -> datetime:
        # Wall-clock time in the learner's zone: 09:00 stays 09:00 across DST changes.
        return datetime.combine(day, remind, tzinfo=tz) + after

    def event(uid: str, summary: str, description: str, start: datetime, minutes: int) -> Event:
        item = Event()
        item.add("uid", uid)
        item.add("dtstamp", stamp)
        item.add("sequence", sequence)
        item.add("summary", summary)
        item.add("description", description)
        item.add("dtstart", start)
        item.add("dtend", start + timedelta(minutes=minutes))
        item.add("transp", "TRANSPARENT")
        return item

    review_days = {day for day, _ in doc.review_days}
    for day, count in doc.review_days:
        noun = "card" if count == 1 else "cards"
        item = event(
            review_uid(doc, day),
            f"Review {count} {noun}",
            f"{count} review {noun} due on {day.isoformat()}. Run: tracker review",
            start_of(day),
            REVIEW_MINUTES,
        )
        item.add_component(_alarm(f"{count} review {noun} due: tracker review", timedelta(0)))
        calendar.add_component(item)
    for planned in doc.sessions:
        after = timedelta(minutes=REVIEW_MINUTES) if planned.date in review_days else timedelta(0)
        steps = (
            f"tracker learn {planned.lesson}, then tracker submit {planned.lesson} FILE"
            if planned.has_exercise
            else f"tracker learn {planned.lesson}"
        )
        item = event(
            session_uid(doc, planned.lesson),
            f"Study {planned.lesson}: {planned.title}",
            f"{planned.concept} at depth {planned.depth}. Run: {steps}",
            start_of(planned.date, after),
            SESSION_MINUTES,
        )
        item.add_component(_alarm(f"Study {planned.lesson} today", after))
        calendar.add_component(item)
    return calendar.to_ical()
