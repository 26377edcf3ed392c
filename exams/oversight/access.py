"""Who sees the oversight pages and the absentee lists. Everyone else gets 404.

- A sitting's oversight page: its council members (both councils see both reports; each edits
  only its own) and staff with `exams.manage_oversight`.
- A sitting's absentee lists: those, staff with `exams.view_absentees`, and the proctors of its
  rooms — for their own rooms only.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404

from exams.models import CouncilMember, Room, Sitting

MANAGE = "exams.manage_oversight"
VIEW_ABSENTEES = "exams.view_absentees"


def is_council_member(user: AbstractBaseUser, sitting_id: int, council: str | None = None) -> bool:
    seats = CouncilMember.objects.filter(sitting_id=sitting_id, user_id=user.pk)
    return user.is_authenticated and (seats.filter(council=council) if council else seats).exists()


def sittings_for_oversight(user: AbstractBaseUser) -> QuerySet[Sitting]:
    """Return the sittings whose oversight page `user` may open."""
    if not user.is_authenticated:
        return Sitting.objects.none()
    if user.has_perm(MANAGE):
        return Sitting.objects.all()
    return Sitting.objects.filter(council_members__user=user).distinct()


def sitting_for_oversight(user: AbstractBaseUser, sitting_id: int) -> Sitting:
    sitting = sittings_for_oversight(user).select_related("exam").filter(pk=sitting_id).first()
    if sitting is None:
        raise Http404
    return sitting


def _sees_every_room(user: AbstractBaseUser, sitting_id: int) -> bool:
    return user.has_perm(VIEW_ABSENTEES) or user.has_perm(MANAGE) or is_council_member(user, sitting_id)


def absentee_rooms(user: AbstractBaseUser, sitting_id: int) -> tuple[Sitting, list[Room], bool]:
    """Return the sitting, the rooms whose absentees `user` may see, and whether that is all of them."""
    sitting = Sitting.objects.select_related("exam").filter(pk=sitting_id).first()
    if sitting is None or not user.is_authenticated:
        raise Http404
    if _sees_every_room(user, sitting_id):
        return sitting, list(sitting.rooms.all()), True
    rooms = list(sitting.rooms.filter(proctors=user))
    if not rooms:
        raise Http404
    return sitting, rooms, False


def room_for_absentees(user: AbstractBaseUser, room_id: int) -> Room:
    """Return the room if `user` may see its absentees: a proctor of it, or someone who sees the whole sitting."""
    room = Room.objects.select_related("sitting__exam").filter(pk=room_id).first()
    if room is None or not user.is_authenticated:
        raise Http404
    if not (_sees_every_room(user, room.sitting_id) or room.proctors.filter(pk=user.pk).exists()):
        raise Http404
    return room
