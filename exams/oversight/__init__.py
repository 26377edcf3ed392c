"""Oversight of a sitting (R-AUD-2, R-SCHED-3): the software and external councils, the reports
they file within 2 hours of the sitting's end, and the absentee lists.

ending.py (when a sitting ended) · drafting.py (the drafts, from the audit log) · services.py
(every write) · absentees.py + export.py (lists, totals, CSV and PDF) · access.py, selectors.py,
views.py, urls.py (the pages) · tasks.py (the periodic job) · demo.py (demo data).
"""
