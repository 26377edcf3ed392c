"""Sessions in the cache (Redis) and the database, that keep working while the cache does not.

Issue 11, point 1: with Redis restarted 21 of 200 exam pages signed themselves out, with Redis down
10 s all 200. Django's cached_db engine already writes every session to the database, but it
lets a failing cache through: `load` (after a miss, when it fills the cache), `exists` and `delete`
raise, and a request whose session cannot be read is answered as if signed out (or 500). Here every
cache call that fails is logged (a warning, at most every WARN_EVERY_SECONDS per process) and the
database answers alone.

A write the cache missed (a save or a delete while it was failing) could leave an older copy there
once it answers again, if it kept its data (a network cut rather than a restart): a signed-out
session still good in the cache. Such keys are remembered in the process and dropped from the
cache by its first cache call that works again; until then this process reads them from the
database only.
"""

from __future__ import annotations

import logging
import threading
import time

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore

logger = logging.getLogger(__name__)

WARN_EVERY_SECONDS = 10.0
# After a failure the cache is left alone this long: a Redis that hangs (rather than refuses)
# costs each call its socket timeout (1 s, twice with the retry), and every request would pay it.
REST_SECONDS = 1.0
# Keys to drop from the cache once it answers; a bound, so that a long outage cannot grow it without
# end (past it, the oldest copies may be served again once the cache is back; the warning says so).
MAX_STALE_KEYS = 100_000

_lock = threading.Lock()
_stale: dict[str, None] = {}  # insertion-ordered set of cache keys
_last_warning = 0.0
_resting_until = 0.0


class CacheResting(Exception):
    """The cache failed a moment ago; it is not asked again before REST_SECONDS."""


def _check_cache() -> None:
    if time.monotonic() < _resting_until:
        raise CacheResting


def _cache_failed(operation: str, cache_key: str, exc: BaseException, *, stale: bool) -> None:
    global _last_warning, _resting_until
    with _lock:
        if not isinstance(exc, CacheResting):
            _resting_until = time.monotonic() + REST_SECONDS
        if stale:
            _stale[cache_key] = None
            while len(_stale) > MAX_STALE_KEYS:
                del _stale[next(iter(_stale))]
        now = time.monotonic()
        if now - _last_warning < WARN_EVERY_SECONDS:
            return
        _last_warning = now
        waiting = len(_stale)
    logger.warning(
        "session cache failed (%s: %r); sessions are read from and written to the database alone; "
        "%d keys to drop from the cache once it answers",
        operation,
        exc,
        waiting,
    )


def _is_stale(cache_key: str) -> bool:
    return cache_key in _stale  # one dict lookup: atomic, the lock is for the writers


def _take_stale() -> list[str]:
    with _lock:
        keys = list(_stale)
        _stale.clear()
    return keys


def _fresh(cache_key: str) -> None:
    """The cache took this key's write: its copy is the database's."""
    with _lock:
        _stale.pop(cache_key, None)


def _give_back_stale(keys: list[str]) -> None:
    with _lock:
        for key in keys:
            _stale.setdefault(key, None)


class SessionStore(cached_db.SessionStore):
    """cached_db whose cache may fail at any call: the database, which holds every session, answers."""

    # --- sync -------------------------------------------------------------------------------

    def load(self):
        key = self.cache_key
        if _is_stale(key):
            self._drop_stale()
            if _is_stale(key):  # the cache still fails: its copy may be old
                return self._load_from_database(fill_cache=False)
        try:
            _check_cache()
            data = self._cache.get(key)
        except Exception as exc:  # whatever the cache client raises, the database can answer
            _cache_failed("load", key, exc, stale=False)
            return self._load_from_database(fill_cache=False)
        self._drop_stale()
        return data if data is not None else self._load_from_database(fill_cache=True)

    def _load_from_database(self, *, fill_cache: bool) -> dict:
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        if fill_cache:
            self._cache_set(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def exists(self, session_key):
        if not session_key:
            return False
        try:
            _check_cache()
            if (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception as exc:
            _cache_failed("exists", self.cache_key_prefix + session_key, exc, stale=False)
        return DBStore.exists(self, session_key)

    def save(self, must_create=False):
        DBStore.save(self, must_create)
        self._cache_set(self._session, self.get_expiry_age())

    def _cache_set(self, data: dict, expiry: int) -> None:
        key = self.cache_key
        try:
            _check_cache()
            self._cache.set(key, data, expiry)
        except Exception as exc:
            _cache_failed("save", key, exc, stale=True)
            return
        _fresh(key)
        self._drop_stale()

    def delete(self, session_key=None):
        DBStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        key = self.cache_key_prefix + session_key
        try:
            _check_cache()
            self._cache.delete(key)
        except Exception as exc:
            _cache_failed("delete", key, exc, stale=True)
            return
        _fresh(key)
        self._drop_stale()

    def _drop_stale(self) -> None:
        """The cache answers: drop the copies it may hold of writes it missed."""
        if not _stale:
            return
        keys = _take_stale()
        try:
            _check_cache()
            self._cache.delete_many(keys)
        except Exception as exc:
            _give_back_stale(keys)
            _cache_failed("drop stale", "", exc, stale=False)

    # --- async (Django's async auth: request.auser() reads the session through these) ---------

    async def aload(self):
        key = await self.acache_key()
        if _is_stale(key):
            await self._adrop_stale()
            if _is_stale(key):
                return await self._aload_from_database(fill_cache=False)
        try:
            _check_cache()
            data = await self._cache.aget(key)
        except Exception as exc:
            _cache_failed("load", key, exc, stale=False)
            return await self._aload_from_database(fill_cache=False)
        await self._adrop_stale()
        return data if data is not None else await self._aload_from_database(fill_cache=True)

    async def _aload_from_database(self, *, fill_cache: bool) -> dict:
        stored = await self._aget_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        if fill_cache:
            await self._acache_set(data, await self.aget_expiry_age(expiry=stored.expire_date))
        return data

    async def aexists(self, session_key):
        if not session_key:
            return False
        try:
            _check_cache()
            if await self._cache.ahas_key(self.cache_key_prefix + session_key):
                return True
        except Exception as exc:
            _cache_failed("exists", self.cache_key_prefix + session_key, exc, stale=False)
        return await DBStore.aexists(self, session_key)

    async def asave(self, must_create=False):
        await DBStore.asave(self, must_create)
        await self._acache_set(self._session, await self.aget_expiry_age())

    async def _acache_set(self, data: dict, expiry: int) -> None:
        key = await self.acache_key()
        try:
            _check_cache()
            await self._cache.aset(key, data, expiry)
        except Exception as exc:
            _cache_failed("save", key, exc, stale=True)
            return
        _fresh(key)
        await self._adrop_stale()

    async def adelete(self, session_key=None):
        await DBStore.adelete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        key = self.cache_key_prefix + session_key
        try:
            _check_cache()
            await self._cache.adelete(key)
        except Exception as exc:
            _cache_failed("delete", key, exc, stale=True)
            return
        _fresh(key)
        await self._adrop_stale()

    async def _adrop_stale(self) -> None:
        if not _stale:
            return
        keys = _take_stale()
        try:
            _check_cache()
            await self._cache.adelete_many(keys)
        except Exception as exc:
            _give_back_stale(keys)
            _cache_failed("drop stale", "", exc, stale=False)
