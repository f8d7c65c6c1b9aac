"""SQLAlchemy models; importing this package makes `Base.metadata` complete for Alembic."""

from models.base import Base, utcnow
from models.broadcast import Broadcast, Delivery
from models.contest import (
    Contest,
    ContestCertificate,
    ContestEntry,
    EntryAuthor,
    EntryFile,
    Juror,
    Review,
)
from models.contest_setup import ContestSetup
from models.course import (
    Certificate,
    CheckAnswer,
    Course,
    CourseMedia,
    Enrolment,
    LessonProgress,
)
from models.event import Event, EventCheckinAttempt, EventRegistration, EventReminder
from models.export_log import ExportLog
from models.handled_update import HandledUpdate
from models.invite import Invite, InviteUse
from models.resource import (
    AppSetting,
    Discipline,
    Resource,
    ResourceRating,
    ResourceUse,
)
from models.survey import Answer, Attempt, Campaign, Instrument
from models.university import University
from models.user import User, UserRole

__all__ = [
    "Answer",
    "AppSetting",
    "Attempt",
    "Base",
    "Broadcast",
    "Campaign",
    "Certificate",
    "CheckAnswer",
    "Contest",
    "ContestCertificate",
    "ContestEntry",
    "ContestSetup",
    "Course",
    "CourseMedia",
    "Delivery",
    "Discipline",
    "Enrolment",
    "EntryAuthor",
    "EntryFile",
    "Event",
    "EventCheckinAttempt",
    "EventRegistration",
    "EventReminder",
    "ExportLog",
    "HandledUpdate",
    "Instrument",
    "Invite",
    "InviteUse",
    "Juror",
    "LessonProgress",
    "Resource",
    "ResourceRating",
    "ResourceUse",
    "Review",
    "University",
    "User",
    "UserRole",
    "utcnow",
]
