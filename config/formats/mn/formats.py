# Dates as Mongolian documents write them (issue 12): "2026 оны 12-р сарын 8", "2026.12.08 09:30",
# a 24-hour clock (Django's own Mongolian formats use a 12-hour clock with AM/PM, which no
# Mongolian exam notice does). Cyrillic letters are not format characters: no escaping needed.
DATE_FORMAT = "Y оны n-р сарын j"
DATETIME_FORMAT = "Y оны n-р сарын j, H:i"
SHORT_DATE_FORMAT = "Y.m.d"
SHORT_DATETIME_FORMAT = "Y.m.d H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "n-р сарын j"
