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
