"""Item and enrolment files uploaded in the browser (issue 14, point 4).

A keeper uploads a file; a background task checks it and writes a preview (every item, imported or
refused and why; or the enrolment's numbers); the keeper reads the preview and imports the whole
file, only the items that passed, or nothing; a second task imports it, saying how far it is.
Nothing is written to the bank before the keeper decides, and the uploaded file is removed once
it is imported, refused or cancelled.
"""
