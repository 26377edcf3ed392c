"""Item analysis after a sitting (R-GRADE-5). Pure statistics in `stats`, the rest around it."""
