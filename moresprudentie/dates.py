"""Dates as people read them: '2024-03' → 'maart 2024', in Dutch or English.

Cases record when a deliberation took place as '2024', '2024-03' or '2024-03-14' (cases/model.py),
and the audit log keeps ISO times; the app's pages and the printed handouts show both the same way,
so the month names live here, outside the UI, for the core's documents too.
"""

from __future__ import annotations

MONTHS = {
    "nl": (
        *("januari", "februari", "maart", "april", "mei", "juni"),
        *("juli", "augustus", "september", "oktober", "november", "december"),
    ),
    "en": (
        *("January", "February", "March", "April", "May", "June"),
        *("July", "August", "September", "October", "November", "December"),
    ),
}


def month_name(month: int, language: str) -> str:
    """The name of month 1–12 in `language` (Dutch for a language without names)."""
    return MONTHS.get(language, MONTHS["nl"])[month - 1]


def period(date: str, language: str) -> str:
    """'2024-03' → 'maart 2024', '2024-03-14' → '14 maart 2024'; a bare year stays a year, and text
    that is not such a date is shown as it is."""
    parts = date.split("-")
    if len(parts) not in (2, 3) or not all(part.isdigit() for part in parts) or not 1 <= int(parts[1]) <= 12:
        return date
    month = month_name(int(parts[1]), language)
    return f"{int(parts[2])} {month} {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"
