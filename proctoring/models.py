"""Live proctoring: system checks, check-in, the room's control steps, incidents, messages, evidence.

Every proctor action is written with who, when and why: the decision rows carry it, and
`RoomEvent` is the room's append-only log of everything that happened in it (R-PROC-*).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from exams.models import Attempt, Enrolment, Room


class SystemCheck(models.Model):
    """One run of the system check (R-TAKE-1), before the day or at entry, as the page measured it."""

    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("candidate"),
        on_delete=models.CASCADE,
        related_name="system_checks",
    )
    enrolment = models.ForeignKey(
        Enrolment,
        verbose_name=_("enrolment"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="system_checks",
    )
    at = models.DateTimeField(_("time"))
    user_agent = models.CharField(_("browser (user agent)"), max_length=400, blank=True)
    is_chrome = models.BooleanField(_("Chrome"))
    is_phone = models.BooleanField(_("phone"))
    camera = models.BooleanField(_("camera"))
    microphone = models.BooleanField(_("microphone"))
    screen = models.BooleanField(
        _("screen share"), help_text=_("Screen shared, and it was the whole screen")
    )
    # The line's rate the rule is about (upload_goodput_mbps × TCP/IP overhead), the data rate
    # measured with the fixed cost of a request (upload_latency_ms) taken off: see check.js.
    upload_mbps = models.FloatField(_("upload speed (Mbit/s)"), null=True, blank=True)
    upload_goodput_mbps = models.FloatField(_("upload data rate (Mbit/s)"), null=True, blank=True)
    upload_latency_ms = models.PositiveIntegerField(_("upload latency (ms)"), null=True, blank=True)
    passed = models.BooleanField(_("requirements met"))
    # What the candidate is told to fix, in order, as codes (the page words them).
    problems = models.JSONField(_("problems"), default=list, blank=True)

    class Meta:
        verbose_name = _("system check")
        verbose_name_plural = _("system checks")
        ordering = ["-at"]


class CheckIn(models.Model):
    """A candidate's way through the waiting room: arrived, then admitted, refused or absent."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the proctor")
        ADMITTED = "admitted", _("Admitted")
        REFUSED = "refused", _("Refused")
        ABSENT = "absent", _("Absent")

    enrolment = models.OneToOneField(
        Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE, related_name="checkin"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.WAITING
    )
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # A context: the complaint page says "decided by" a deadline, not a person.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("the person who decided", "decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # The candidate's newest proctoring socket; cleared when that one (not an older one) closes.
    socket_channel = models.CharField(_("socket channel"), max_length=200, blank=True)
    offline_since = models.DateTimeField(_("offline since"), null=True, blank=True)
    # What the candidate's page last reported: camera, microphone, screen, wholeScreen, visible, focused.
    signals = models.JSONField(_("signals"), default=dict, blank=True)

    @property
    def is_online(self) -> bool:
        return bool(self.socket_channel)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["refused", "absent"]) | ~Q(reason=""),
                name="checkin_refusal_has_reason",
            ),
        ]


class RoomSession(models.Model):
    """The room's control steps (R-PROC-5): admit → start → collect → end, each once, in order."""

    class Stage(models.TextChoices):
        ADMITTING = "admitting", _("Admitting candidates")
        STARTED = "started", _("Started")
        COLLECTED = "collected", _("Answers collected")
        ENDED = "ended", _("Ended")

    room = models.OneToOneField(
        Room, verbose_name=_("room"), on_delete=models.CASCADE, related_name="session"
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.ADMITTING
    )
    start_code = models.CharField(_("start code"), max_length=12, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    collected_at = models.DateTimeField(_("answers collected at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("room session")
        verbose_name_plural = _("room sessions")

    @classmethod
    def next_stage(cls, stage: str) -> str | None:
        """Return the step that follows `stage`, or None after the last. The one place the order is written."""
        order = [cls.Stage.ADMITTING, cls.Stage.STARTED, cls.Stage.COLLECTED, cls.Stage.ENDED]
        index = order.index(stage)
        return order[index + 1] if index + 1 < len(order) else None


class IncidentKind(models.TextChoices):
    # Recorded by a proctor (R-PROC-4, 002:1.5.2–1.5.6).
    TALKING = "talking", _("Talking to someone")
    LOOKING_AWAY = "looking_away", _("Looking away")
    STANDING_UP = "standing_up", _("Standing up")
    PHONE = "phone", _("Using a phone")
    IMPERSONATION = "impersonation", _("Impersonation")
    TECHNICAL = "technical", _("Technical failure")
    OTHER = "other", _("Other")
    # Noticed by the system (R-PROC-3).
    SCREEN_SHARE = "screen_share", _("Screen share stopped or not the whole screen")
    CAMERA = "camera", _("Camera lost")
    MICROPHONE = "microphone", _("Microphone lost")
    PAGE_HIDDEN = "page_hidden", _("Exam page hidden")
    FOCUS_LOST = "focus_lost", _("Exam page lost focus")
    SECOND_DEVICE = "second_device", _("Second device")
    CONNECTION = "connection", _("Connection lost")

    @classmethod
    def proctor_kinds(cls) -> list[str]:
        return [
            cls.TALKING,
            cls.LOOKING_AWAY,
            cls.STANDING_UP,
            cls.PHONE,
            cls.IMPERSONATION,
            cls.TECHNICAL,
            cls.OTHER,
        ]

    @classmethod
    def signal_kinds(cls) -> list[str]:
        """Return the kinds the candidate's page reports as a state that is bad until fixed."""
        return [cls.SCREEN_SHARE, cls.CAMERA, cls.MICROPHONE, cls.PAGE_HIDDEN, cls.FOCUS_LOST]


class Still(models.Model):
    """A picture of a candidate's camera or screen, kept as evidence until the retention ends."""

    class Track(models.TextChoices):
        CAMERA = "camera", _("Camera")
        SCREEN = "screen", _("Screen")

    class Purpose(models.TextChoices):
        PERIODIC = "periodic", _("Taken every few seconds")
        ID_CARD = "id_card", _("ID card at check-in")
        ROOM = "room", _("Room at check-in")
        INCIDENT = "incident", _("Evidence for an incident")
        PROCTOR = "proctor", _("Taken by the proctor")

    enrolment = models.ForeignKey(
        Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE, related_name="stills"
    )
    track = models.CharField(_("track"), max_length=10, choices=Track.choices)
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.PERIODIC
    )
    taken_at = models.DateTimeField(_("taken at"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Relative to MEDIA_ROOT; never under a public URL (see proctoring.views.evidence_file).
    path = models.CharField(_("file path"), max_length=300, unique=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)

    class Meta:
        verbose_name = _("still")
        verbose_name_plural = _("stills")
        ordering = ["-taken_at"]
        indexes = [
            models.Index(fields=["enrolment", "track", "-taken_at"]),
            models.Index(fields=["taken_at"]),
        ]


class Recording(models.Model):
    """A recorded stretch of one candidate's camera, microphone or screen."""

    enrolment = models.ForeignKey(
        Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE, related_name="recordings"
    )
    track = models.CharField(_("track"), max_length=10)
    started_at = models.DateTimeField(_("started at"))
    path = models.CharField(_("file path"), max_length=300, unique=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["started_at"])]


class Incident(models.Model):
    """Something a proctor should know of: raised by the system (open until fixed) or by a proctor."""

    enrolment = models.ForeignKey(
        Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE, related_name="incidents"
    )
    attempt = models.ForeignKey(
        Attempt,
        verbose_name=_("attempt"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=IncidentKind.choices)
    by_system = models.BooleanField(_("raised by the system"))
    at = models.DateTimeField(_("time"))
    # A system incident ends when the page reports the state fixed; a proctor's has no end.
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=1000, blank=True)
    still = models.ForeignKey(
        Still,
        verbose_name=_("camera still"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
    )
    screen_still = models.ForeignKey(
        Still,
        verbose_name=_("screen still"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-at", "-id"]
        constraints = [
            # At most one open system incident of a kind per candidate: a flapping signal extends
            # it instead of flooding the proctor.
            models.UniqueConstraint(
                fields=["enrolment", "kind"],
                condition=Q(by_system=True, ended_at__isnull=True),
                name="one_open_system_incident_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(by_system=True) | Q(raised_by__isnull=False),
                name="proctor_incident_has_author",
            ),
        ]

    def duration(self, now: datetime) -> timedelta:
        return (self.ended_at or now) - self.at

    def duration_label(self) -> str:
        """Return how long an ended system incident lasted, in words ("1 min 05 s"); "" while open or for a proctor's."""
        if self.ended_at is None:
            return ""
        return duration_words(self.ended_at - self.at)


def duration_words(length: timedelta) -> str:
    """Return a length as the proctor and the committee read it: "45 s", "3 min 05 s", "2 h 10 min"."""
    seconds = max(0, round(length.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": seconds}
    return _("%(s)d s") % {"s": seconds}


class Message(models.Model):
    """A line of the chat between a candidate and their room's proctors."""

    enrolment = models.ForeignKey(
        Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE, related_name="messages"
    )
    from_proctor = models.BooleanField(_("from the proctor"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.CharField(_("text"), max_length=1000)
    at = models.DateTimeField(_("time"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["at", "id"]


class RoomEvent(models.Model):
    """The room's log: every proctor action and room step with who, when and why. Appended only."""

    class Kind(models.TextChoices):
        ARRIVED = "arrived", _("Entered the waiting room")
        ADMITTED = "admitted", _("Admitted")
        REFUSED = "refused", _("Refused")
        ABSENT = "absent", _("Marked absent")
        STARTED = "started", _("Room started")
        COLLECTED = "collected", _("Answers collected")
        ENDED = "ended", _("Room ended")
        PAUSED = "paused", _("Attempt paused")
        RESUMED = "resumed", _("Attempt resumed")
        EXTENDED = "extended", _("Time extended")
        DISQUALIFIED = "disqualified", _("Attempt ended: disqualified")
        HANDED_OVER = "handed_over", _("Attempt handed over to a device")
        INCIDENT = "incident", _("Incident recorded")
        MESSAGE = "message", _("Message sent")
        STILL = "still", _("Still taken")
        EVIDENCE_VIEWED = "evidence_viewed", _("Evidence viewed")

    room = models.ForeignKey(
        Room, verbose_name=_("room"), on_delete=models.CASCADE, related_name="events"
    )
    enrolment = models.ForeignKey(
        Enrolment,
        verbose_name=_("enrolment"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="room_events",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=1000, blank=True)
    detail = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("room event")
        verbose_name_plural = _("room events")
        ordering = ["-at", "-id"]


class EvidenceAccess(models.Model):
    """Who opened which still or recording, when (R-PROC-6). Appended only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    still = models.ForeignKey(
        Still,
        verbose_name=_("still"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accesses",
    )
    recording = models.ForeignKey(
        Recording,
        verbose_name=_("recording"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accesses",
    )
    # Kept when the file itself is deleted after the retention period.
    path = models.CharField(_("file path"), max_length=300)
    at = models.DateTimeField(_("time"))
    address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("evidence access")
        verbose_name_plural = _("evidence accesses")
        ordering = ["-at"]
