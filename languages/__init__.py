"""The language each person uses the system in (issue 12, point 2): chosen with the switch on every
page, remembered per user, and used for everything sent to them.

Ground floor: imports no other app of the project, so that every app that sends something (the
enrolment, result and complaint e-mails) can ask it which language a person reads."""
