"""Reading a language as people write it in a spreadsheet: "mn", "MN", "zh-CN", "中文", "Монгол"."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language_info

# Chinese as boards write it: the site offers Simplified Chinese, and a board in mainland China
# writes zh, zh-CN or 中文 for it.
_ALIASES = {
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
    "zh-sg": "zh-hans",
    "中文": "zh-hans",
    "汉语": "zh-hans",
    "简体中文": "zh-hans",
    "mn-mn": "mn",
    "монгол хэл": "mn",
    "mongolian": "mn",
    "chinese": "zh-hans",
}


def _names(code: str, own_name: str) -> set[str]:
    info = get_language_info(code)
    return {code, own_name.lower(), info["name"].lower(), info["name_local"].lower()}


def language_code(written: str) -> str | None:
    """The code of the site's language `written` names (a code, its English or its own name), or None."""
    key = written.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    for code, own_name in settings.LANGUAGES:
        if key in _names(code, own_name):
            return code
    return None


def offered_languages() -> str:
    """The site's languages as a CSV column takes them, for an error message: "en, mn, zh-hans"."""
    return ", ".join(code for code, _name in settings.LANGUAGES)
