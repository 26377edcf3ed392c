"""The live room's sockets: the candidate's (signals, chat, media offer) and the proctor's room.

Consumers stay thin: they check who may join, forward media signalling to the media process over
the channel layer, and call services through database_sync_to_async. Handler names match the
message types the services push (see proctoring.groups).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.middleware import DEVICE_COOKIE
from exams.models import Enrolment
from exams.sockets import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED, RefusingConsumer

from . import services
from .access import can_act, can_watch
from .errors import ProctoringError
from .groups import candidate_group, room_group
from .media import ensure_in_process
from .media import interface as media
from .media.ice import page_ice
from .metrics import PROCTORING_SOCKETS
from .models import CheckIn
from .selectors import (
    attempt_summary,
    candidate_messages,
    room_incidents,
    room_messages,
    room_session_payload,
    room_tiles,
)

log = logging.getLogger(__name__)

MAX_SDP_LENGTH = 100_000


class _Refusing(RefusingConsumer):
    # A media offer carries an SDP of up to MAX_SDP_LENGTH characters (ASCII; its line breaks
    # escaped in JSON): room for it. Bad frames are refused by the base as on the exam page's
    # socket (exams.sockets).
    max_frame_bytes = 256 * 1024
    counted_as = ""  # the side it is counted on in PROCTORING_SOCKETS, once accepted

    def uncount(self) -> None:
        if self.counted_as:
            PROCTORING_SOCKETS.labels(self.counted_as).dec()
            self.counted_as = ""

    async def websocket_connect(self, message) -> None:
        # Embedded mode (in-memory layer): the media server runs inside this process; with Redis
        # it is `manage.py media_server` and this does nothing.
        ensure_in_process()
        await super().websocket_connect(message)


class CandidateConsumer(_Refusing):
    """/ws/proctoring/candidate/<enrolment_id>/: only that enrolment's candidate joins."""

    enrolment_id: int | None = None
    _recheck: asyncio.Task | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.device_id = self.scope.get("cookies", {}).get(DEVICE_COOKIE, "")
        enrolment = await self._own_enrolment(
            int(self.scope["url_route"]["kwargs"]["enrolment_id"])
        )
        if enrolment is None:
            await self.refuse(CLOSE_NOT_FOUND)
            return
        self.enrolment_id, self.room_id = enrolment.pk, enrolment.room_id
        await self.channel_layer.group_add(candidate_group(self.enrolment_id), self.channel_name)
        await self.accept()
        PROCTORING_SOCKETS.labels("candidate").inc()
        self.counted_as = "candidate"
        await database_sync_to_async(services.candidate_online)(
            enrolment_id=self.enrolment_id, channel=self.channel_name
        )
        # The ICE servers with a fresh TURN credential on every (re)connect: a page open all day
        # never publishes with one that has expired.
        await self.send_json(
            {"t": "hello", "ice": page_ice(f"candidate-{user.pk}"), **await self._state()}
        )

    async def disconnect(self, code: int) -> None:
        self.uncount()
        if self.enrolment_id is None:
            return
        await self.channel_layer.group_discard(
            candidate_group(self.enrolment_id), self.channel_name
        )
        await media.send_hangup(reply_to=self.channel_name, layer=self.channel_layer)
        offline_since = await database_sync_to_async(services.candidate_offline)(
            enrolment_id=self.enrolment_id, channel=self.channel_name
        )
        if offline_since is not None:
            # A reload or the step from waiting room to exam reconnects within a second or two;
            # only a candidate still gone after the grace is a "connection lost" incident.
            asyncio.get_running_loop().create_task(
                self._incident_if_still_offline(self.enrolment_id, offline_since)
            )

    @staticmethod
    async def _incident_if_still_offline(enrolment_id: int, offline_since) -> None:
        await asyncio.sleep(settings.PROCTORING_OFFLINE_GRACE_SECONDS)
        try:
            await database_sync_to_async(services.connection_lost_check)(
                enrolment_id=enrolment_id, offline_since=offline_since
            )
        except Exception:  # noqa: BLE001 - a background check must not kill the server's loop
            log.exception("connection-lost check of enrolment %s failed", enrolment_id)

    async def receive_json(self, content: Any, **kwargs) -> None:
        kind = content.get("t") if isinstance(content, dict) else None
        try:
            if kind == "ping":
                await self.send_json({"t": "pong"})
            elif kind == "signals":
                state = services.clean_signals(content.get("state"))
                await self._report(services.signals_report, state=state)
            elif kind == "message":
                await database_sync_to_async(services.message_send)(
                    enrolment_id=self.enrolment_id,
                    author=self.user,
                    text=str(content.get("text", "")),
                )
            elif kind == "read":
                await database_sync_to_async(services.messages_mark_read)(
                    enrolment_id=self.enrolment_id, by_proctor=False
                )
            elif kind == "media.offer":
                await self._publish(content)
            else:
                await self.send_error(_("Unknown message."), code="unknown")
        except ProctoringError as exc:
            await self.send_error(exc.message)

    async def _publish(self, content: dict) -> None:
        sdp, kinds = content.get("sdp"), content.get("kinds")
        if not isinstance(sdp, str) or len(sdp) > MAX_SDP_LENGTH or not isinstance(kinds, dict):
            await self.send_error(_("Malformed media offer."), code="malformed")
            return
        if (refusal := await self._publish_refusal()) is not None:
            await self.send_json({"t": "media.error", "reason": refusal})
            return
        try:
            await media.send_publish(
                layer=self.channel_layer,
                session=str(self.enrolment_id),
                sdp=sdp,
                kinds={str(k): str(v) for k, v in kinds.items()},
                reply_to=self.channel_name,
                # The media server's word on what arrives comes to this socket's group (below).
                notify_group=candidate_group(self.enrolment_id),
                meta={"enrolment": self.enrolment_id},
            )
        except ValueError:
            await self.send_error(_("Malformed media offer."), code="malformed")

    # --- pushes -------------------------------------------------------------------------------
    async def candidate_checkin(self, event: dict) -> None:
        await self.send_json({"t": "checkin", "status": event["status"], "reason": event["reason"]})

    async def candidate_message(self, event: dict) -> None:
        await self.send_json({"t": "message", "message": event["message"]})

    async def candidate_warning(self, event: dict) -> None:
        await self.send_json(
            {
                "t": "warning",
                "label": event["label"],
                "note": event["note"],
                "atLabel": event["atLabel"],
            }
        )

    async def candidate_room(self, event: dict) -> None:
        await self.send_json({"t": "room", "stage": event["stage"]})

    async def media_answer(self, event: dict) -> None:
        await self.send_json({"t": "media.answer", "sdp": event["sdp"]})

    async def media_state(self, event: dict) -> None:
        """What the media server receives of this candidate: the server-side witness of the signals."""
        tracks = services.clean_media_state(event.get("connection"), event.get("tracks"))
        await self._report(services.media_state_report, tracks=tracks)

    async def _report(self, service, **fields) -> None:
        """Store a witness's report; a bad signal within its grace is decided again when the grace ends."""

        def report_and_ask() -> float | None:
            service(enrolment_id=self.enrolment_id, **fields)
            return services.signals_waiting(enrolment_id=self.enrolment_id)

        if await database_sync_to_async(report_and_ask)() is not None and self._recheck is None:
            # Not tied to this socket: a reload closes it, and the grace must still end in a decision.
            self._recheck = asyncio.get_running_loop().create_task(
                self._recheck_when_graces_end(self.enrolment_id)
            )
            self._recheck.add_done_callback(lambda _task: setattr(self, "_recheck", None))

    @staticmethod
    async def _recheck_when_graces_end(enrolment_id: int) -> None:
        try:
            while (
                wait := await database_sync_to_async(services.signals_waiting)(
                    enrolment_id=enrolment_id
                )
            ) is not None:
                await asyncio.sleep(wait + 0.1)
                await database_sync_to_async(services.signals_recheck)(enrolment_id=enrolment_id)
        except Exception:  # noqa: BLE001 - a background check must not kill the server's loop
            log.exception("signal recheck of enrolment %s failed", enrolment_id)

    async def media_error(self, event: dict) -> None:
        await self.send_json({"t": "media.error", "reason": event.get("reason", "")})

    # --- helpers --------------------------------------------------------------------------------
    @database_sync_to_async
    def _own_enrolment(self, enrolment_id: int) -> Enrolment | None:
        enrolment = (
            Enrolment.objects.select_related("sitting")
            .filter(pk=enrolment_id, candidate=self.user, sitting__proctored=True)
            .first()
        )
        if enrolment is None or not services.may_join_live_room(enrolment, timezone.now()):
            return None
        return enrolment

    @database_sync_to_async
    def _publish_refusal(self) -> str | None:
        return services.publish_refusal(Enrolment.objects.get(pk=self.enrolment_id), self.device_id)

    @database_sync_to_async
    def _state(self) -> dict:
        checkin = CheckIn.objects.filter(enrolment_id=self.enrolment_id).first()
        session = services.room_session_for(self.room_id)
        attempt = (
            Enrolment.objects.get(pk=self.enrolment_id).attempts.filter(is_practice=False).first()
        )
        return {
            "checkin": checkin.status if checkin else "not_arrived",
            "reason": checkin.reason if checkin else "",
            "room": session.stage,
            "attempt": attempt_summary(attempt),
            "messages": candidate_messages(self.enrolment_id),
        }


class RoomConsumer(_Refusing):
    """/ws/proctoring/room/<room_id>/: the room's proctors and observers (proctoring.access)."""

    room_id: int | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        if not await database_sync_to_async(can_watch)(user, room_id):
            await self.refuse(CLOSE_NOT_FOUND)
            return
        self.user, self.room_id = user, room_id
        self.acts = await database_sync_to_async(can_act)(user, room_id)
        await self.channel_layer.group_add(room_group(room_id), self.channel_name)
        await self.accept()
        PROCTORING_SOCKETS.labels("proctor").inc()
        self.counted_as = "proctor"
        await self.send_json(
            {"t": "hello", "ice": page_ice(f"proctor-{user.pk}"), **await self._state()}
        )

    async def disconnect(self, code: int) -> None:
        self.uncount()
        if self.room_id is None:
            return
        await self.channel_layer.group_discard(room_group(self.room_id), self.channel_name)
        await media.send_hangup(reply_to=self.channel_name, layer=self.channel_layer)

    async def receive_json(self, content: Any, **kwargs) -> None:
        kind = content.get("t") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"t": "pong"})
        elif kind == "view":
            await self._view(content)
        elif kind == "unview":
            await media.send_unview(
                reply_to=self.channel_name,
                view_id=str(content.get("viewId", "")),
                layer=self.channel_layer,
            )
        elif kind == "snapshot" and self.acts:
            await self._snapshot(content)
        else:
            await self.send_error(_("Unknown message."), code="unknown")

    async def _session_in_room(self, raw: Any) -> str | None:
        enrolment_id = int(raw) if isinstance(raw, int | str) and str(raw).isdigit() else None
        if enrolment_id is None:
            return None
        exists = await database_sync_to_async(
            Enrolment.objects.filter(pk=enrolment_id, room_id=self.room_id).exists
        )()
        return str(enrolment_id) if exists else None

    async def _view(self, content: dict) -> None:
        session = await self._session_in_room(content.get("session"))
        sdp, quality = content.get("sdp"), content.get("quality")
        if (
            session is None
            or not isinstance(sdp, str)
            or len(sdp) > MAX_SDP_LENGTH
            or quality not in ("grid", "focus")
        ):
            await self.send_error(_("No such candidate in this room."))
            return
        await media.send_view(
            layer=self.channel_layer,
            session=session,
            quality=quality,
            sdp=sdp,
            reply_to=self.channel_name,
            view_id=str(content.get("viewId", ""))[:64],
        )

    async def _snapshot(self, content: dict) -> None:
        session = await self._session_in_room(content.get("enrolment"))
        purpose = (
            content.get("purpose")
            if content.get("purpose") in ("id_card", "room", "incident", "proctor")
            else "proctor"
        )
        if session is None:
            await self.send_error(_("No such candidate in this room."))
            return
        await media.send_snapshot(
            layer=self.channel_layer,
            session=session,
            kinds=["camera", "screen"],
            reply_to=self.channel_name,
            meta={
                "by": self.user.pk,
                "purpose": purpose,
                "request": str(content.get("request", ""))[:64],
            },
        )

    # --- pushes ---------------------------------------------------------------------------------
    async def room_candidate(self, event: dict) -> None:
        await self.send_json({"t": "tile", "tile": event["tile"]})

    async def room_incident(self, event: dict) -> None:
        await self.send_json({"t": "incident", "incident": event["incident"]})

    async def room_message(self, event: dict) -> None:
        await self.send_json({"t": "message", "message": event["message"]})

    async def room_stage(self, event: dict) -> None:
        session = dict(event["session"])
        if not self.acts:
            session["startCode"] = ""  # observers watch; the code is the proctors' to give
        await self.send_json({"t": "stage", "session": session})

    async def media_answer(self, event: dict) -> None:
        await self.send_json(
            {"t": "media.answer", "viewId": event.get("view_id", ""), "sdp": event["sdp"]}
        )

    async def media_error(self, event: dict) -> None:
        await self.send_json(
            {
                "t": "media.error",
                "viewId": event.get("view_id", ""),
                "reason": event.get("reason", ""),
            }
        )

    async def media_snapshot_taken(self, event: dict) -> None:
        await self.send_json(
            {"t": "stills", "session": event.get("session"), "stills": event.get("stills", [])}
        )

    @database_sync_to_async
    def _state(self) -> dict:
        from exams.models import Room

        room = Room.objects.get(pk=self.room_id)
        session = room_session_payload(services.room_session_for(self.room_id))
        if not self.acts:
            session["startCode"] = ""
        return {
            "tiles": room_tiles(room),
            "incidents": room_incidents(room),
            "messages": room_messages(room),
            "session": session,
            "canAct": self.acts,
        }
