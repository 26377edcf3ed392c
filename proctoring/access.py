"""Who sees and does what in the live rooms (R-PROC-5, R-PROC-6).

A proctor sees only the rooms they are assigned to and acts in them; an observer of a room sees
it and acts on nothing; everyone else gets 404, so a room's existence is not given away.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import Http404

from exams.models import Enrolment, Room


def rooms_visible_to(user: AbstractBaseUser) -> QuerySet[Room]:
    """Return the rooms whose live view `user` may open."""
    if not user.is_authenticated:
        return Room.objects.none()
    return Room.objects.filter(Q(proctors=user) | Q(observers=user)).distinct()


def rooms_in_order(user: AbstractBaseUser, now) -> list[Room]:
    """Return the rooms `user` may watch: those open for entry now first, then the coming ones, then the past."""
    rooms = list(rooms_visible_to(user).select_related("sitting__exam"))

    def order(room: Room) -> tuple:
        sitting = room.sitting
        if sitting.entry_opens_at <= now <= sitting.entry_closes_at:
            return (0, sitting.starts_at, room.name)
        if now < sitting.entry_opens_at:
            return (1, sitting.starts_at, room.name)
        return (2, -sitting.starts_at.timestamp(), room.name)

    return sorted(rooms, key=order)


def can_watch(user: AbstractBaseUser, room_id: int) -> bool:
    return rooms_visible_to(user).filter(pk=room_id).exists()


def can_act(user: AbstractBaseUser, room_id: int) -> bool:
    return user.is_authenticated and Room.objects.filter(pk=room_id, proctors=user).exists()


def room_for_watcher(user: AbstractBaseUser, room_id: int) -> Room:
    """Return the room if `user` may watch it; anyone else gets 404."""
    room = rooms_visible_to(user).select_related("sitting__exam").filter(pk=room_id).first()
    if room is None:
        raise Http404
    return room


def enrolment_for_proctor(user: AbstractBaseUser, enrolment_id: int) -> Enrolment:
    """Return the enrolment if `user` proctors its room (observers do not act); otherwise 404."""
    enrolment = (
        Enrolment.objects.select_related("room", "sitting__exam", "candidate")
        .filter(pk=enrolment_id, room__proctors=user).first()
    )
    if enrolment is None:
        raise Http404
    return enrolment


def enrolment_for_watcher(user: AbstractBaseUser, enrolment_id: int) -> Enrolment:
    """Return the enrolment if `user` proctors or observes its room; otherwise 404."""
    enrolment = (
        Enrolment.objects.select_related("room", "sitting__exam", "candidate")
        .filter(Q(room__proctors=user) | Q(room__observers=user), pk=enrolment_id).distinct().first()
    )
    if enrolment is None:
        raise Http404
    return enrolment
