"""The live room's page texts in the reader's language, handed to the pages' scripts as JSON."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import CheckIn, IncidentKind, RoomSession


def _incident_labels() -> dict[str, str]:
    return {kind.value: str(kind.label) for kind in IncidentKind}


def candidate_strings() -> dict[str, str | dict]:
    return {
        "problems": {
            "phone": _("Use a computer or a tablet, not a phone."),
            "camera": _("Allow the camera, and check that no other program is using it."),
            "microphone": _("Allow the microphone."),
            "screen": _("Share your whole screen (choose “Entire screen”, not a window or a tab)."),
            "upload": _("Your upload speed is below 4 Mbps. Move closer to the router or use a cable."),
            "not_chrome": _("Use Google Chrome: other browsers are not supported for the exam."),
        },
        "fix": {
            "camera": _("Your camera is off. Turn it back on: the proctor must see you."),
            "microphone": _("Your microphone is off. Turn it back on."),
            "screen": _("You stopped sharing your screen. Share your whole screen again."),
            # A page that has not shared yet (first entry, or a reload: browsers end a share then).
            "screenNeeded": _("Share your whole screen with your proctor: press “Share your whole screen”."),
            "wholeScreen": _("You are sharing a window or a tab. Share your whole screen instead."),
            "visible": _("Keep the exam page in front: leaving it is recorded."),
            "focused": _("Keep the exam page in front: leaving it is recorded."),
            "offline": _("The connection to the proctor is lost. Reconnecting…"),
        },
        "checkin": {
            "not_arrived": _("Entering the waiting room…"),
            CheckIn.Status.WAITING: _("Waiting for your proctor to check your ID card and your room."),
            CheckIn.Status.ADMITTED: _("You are admitted."),
            CheckIn.Status.REFUSED: _("Your proctor did not admit you: %(reason)s"),
            CheckIn.Status.ABSENT: _("You are recorded as absent: %(reason)s"),
        },
        "room": {
            RoomSession.Stage.ADMITTING: _("Your proctor will start the exam for the room."),
            RoomSession.Stage.STARTED: _("The room has started: you may begin."),
            RoomSession.Stage.COLLECTED: _("The answers of this room have been collected."),
            RoomSession.Stage.ENDED: _("This room has ended."),
        },
        "checking": _("Checking…"), "ok": _("Working"), "notOk": _("Not working"),
        "mbps": _("%(n)s Mbps"), "passed": _("Your computer is ready for the exam."),
        "failed": _("Fix the problems below, then run the check again."),
        "shareScreen": _("Share your whole screen"), "proctor": _("Proctor"), "you": _("You"),
        "recorded": _("⚠ Recorded by your proctor"),
        "newMessage": _("New message from your proctor"), "paused": _("The exam is paused"),
        "pausedText": _("Your proctor paused the exam: %(reason)s. The clock has stopped; your time is kept."),
        "endedTitle": _("Your attempt was ended by the proctor"),
        "mediaError": _("The video connection to the proctor failed; retrying…"),
    }


def proctor_strings() -> dict[str, str | dict]:
    return {
        "incidents": _incident_labels(),
        "checkin": {
            "not_arrived": _("Not arrived"), **{status.value: str(status.label) for status in CheckIn.Status},
        },
        "attempt": {
            "in_progress": _("Writing"), "submitted": _("Submitted"), "scored": _("Submitted"),
            "disqualified": _("Disqualified"), "paused": _("Paused"), "locked": _("Locked"),
        },
        "stages": {stage.value: str(stage.label) for stage in RoomSession.Stage},
        "next": {
            RoomSession.Stage.STARTED: _("Start the room"), RoomSession.Stage.COLLECTED: _("Collect all answers"),
            RoomSession.Stage.ENDED: _("End the room"),
        },
        "confirmNext": {
            RoomSession.Stage.STARTED: _("Start the exam for every admitted candidate of this room?"),
            RoomSession.Stage.COLLECTED: _("Submit the attempt of every candidate still writing in this room? This is final."),
            RoomSession.Stage.ENDED: _("End the room? Candidates who have not started are recorded as absent."),
        },
        "online": _("online"), "offline": _("offline"), "admit": _("Admit"), "refuse": _("Refuse"),
        "reasonPrompt": _("Reason (the candidate sees it):"), "pause": _("Pause"), "resume": _("Resume"),
        "extend": _("Extend"), "disqualify": _("Disqualify"), "handOver": _("Move to new device"),
        "minutesPrompt": _("Extra minutes:"), "startCode": _("Start code"), "noIncidents": _("No incidents yet."),
        "ends": _("ends %(time)s"), "pausedFor": _("paused"),
        "systemPaused": _("server outages credited: %(time)s"), "takeStill": _("Take a still"),
        "idCard": _("Still of the ID card"), "roomStill": _("Still of the room"),
        "record": _("Record incident"), "lasted": _("lasted %(time)s"), "openFor": _("open for %(time)s"), "send": _("Send"), "open": _("open"), "stills": _("Stills"),
        "noSignal": _("no video yet"), "observer": _("You observe this room: you can watch, not act."),
        "systemCheck": _("check"),
        "confirmDisqualify": _("Confirm: disqualify %(name)s"),
        "pausedTooLong": _("Paused for two hours or more: by the rules the sitting ends for this candidate and the board "
                           "reschedules them (collect the attempt and record a technical incident)."),
        "problems": {
            "phone": _("a phone"), "camera": _("no camera"), "microphone": _("no microphone"),
            "screen": _("no whole-screen share"), "upload": _("upload below 4 Mbps"), "not_chrome": _("not Chrome"),
        },
    }
