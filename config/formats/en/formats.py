# Dates as the board's English pages write them (issue 12): day first, 24-hour clock.
# The templates name these formats (SHORT_DATETIME_FORMAT…) rather than spelling one out, so that
# each language writes a date its own way.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
