"""API settings and API keys, from environment variables.

Keys map to a role and a team: ``admin`` sees every game; any other role
(``coach``, ``analyst``, ``viewer``, ``player``) sees only the games of its
team. A key may also name a player, whom "my" means in its plain-language
requests. Two places, both optional, merged:

- ``HB_API_KEYS``: ``KEY=ROLE[:TEAM[:PLAYER]]`` entries separated by ``;``,
  e.g. ``s3cr3t-admin-key=admin;caps-coach-key=coach:WSH``;
- ``HB_API_KEYS_FILE``: a JSON file ``{"KEY": {"role": "coach", "team": "WSH", "player": "8471214"}, ...}``.

No key configured means no access at all (every data request is 401).
"""
from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from hb_clips_assets.retrieval.teams import normalize_team
from hb_clips_assets.settings import raw, value

ROLES = ("admin", "coach", "analyst", "viewer", "player")
MIN_KEY_LENGTH = 16
DEFAULT_MEDIA_URL_EXPIRY_S = 3600


@dataclass(frozen=True)
class ApiKey:
    role: str
    team: str | None = None
    player: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def visible_teams(self) -> list[str] | None:
        """None: every team (admin)."""
        return None if self.is_admin else [self.team]


def _key(key: str, role: str, team: str | None, player: str | None, where: str) -> tuple[str, ApiKey]:
    key = key.strip()
    role = (role or "").strip().lower()
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"{where}: API keys must be at least {MIN_KEY_LENGTH} characters")
    if role not in ROLES:
        raise ValueError(f"{where}: unknown role {role!r} (use one of {', '.join(ROLES)})")
    team = (team or "").strip() or None
    if team is not None:
        team = normalize_team(team)
    if role != "admin" and team is None:
        raise ValueError(f"{where}: a {role} key needs a team (only admin keys see every team)")
    return key, ApiKey(role, team, (player or "").strip() or None)


def parse_keys_env(text: str) -> dict[str, ApiKey]:
    keys: dict[str, ApiKey] = {}
    for n, entry in enumerate((e for e in text.replace("\n", ";").split(";") if e.strip()), start=1):
        key, sep, rest = entry.partition("=")
        if not sep:
            raise ValueError(f"HB_API_KEYS entry {n}: expected KEY=ROLE[:TEAM[:PLAYER]]")
        role, _, rest = rest.partition(":")
        team, _, player = rest.partition(":")
        k, v = _key(key, role, team, player, f"HB_API_KEYS entry {n}")
        keys[k] = v
    return keys


def read_keys_file(path: Path) -> dict[str, ApiKey]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"API keys file {path}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ValueError(f"API keys file {path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"API keys file {path}: expected an object {{key: {{role, team, player}}}}")
    keys = {}
    for key, spec in data.items():
        if not isinstance(spec, dict):
            raise ValueError(f"API keys file {path}: the entry of a key must be an object with role and team")
        k, v = _key(key, spec.get("role", ""), spec.get("team"), spec.get("player"), f"API keys file {path}")
        keys[k] = v
    return keys


@dataclass
class ApiSettings:
    data_root: str | None = None
    db_url: str | None = field(default=None, repr=False)  # may hold the database password
    store_url: str | None = None
    keys: dict[str, ApiKey] = field(default_factory=dict, repr=False)  # secrets: never in a repr or a log
    media_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    media_url_expiry_s: int = DEFAULT_MEDIA_URL_EXPIRY_S
    user_player: str | None = None  # "my" for keys that name no player (HB_USER_PLAYER_ID)

    @classmethod
    def from_env(cls, **overrides) -> "ApiSettings":
        keys: dict[str, ApiKey] = {}
        if raw("HB_API_KEYS_FILE"):
            keys.update(read_keys_file(Path(raw("HB_API_KEYS_FILE"))))
        if raw("HB_API_KEYS"):  # after the file: a key in both gets the variable's grant
            keys.update(parse_keys_env(raw("HB_API_KEYS")))
        secret = raw("HB_API_MEDIA_SECRET")
        return cls(
            keys=keys,
            media_secret=secret.encode() if secret else secrets.token_bytes(32),
            media_url_expiry_s=int(raw("HB_API_MEDIA_URL_EXPIRY_S") or value("HB_SIGNED_URL_EXPIRY_S")),
            user_player=raw("HB_USER_PLAYER_ID") or None,
            **{k: v for k, v in overrides.items() if v is not None},
        )

    def lookup(self, presented: str | None) -> ApiKey | None:
        """The key's grant, comparing in constant time against every configured key."""
        if not presented:
            return None
        found = None
        for key, grant in self.keys.items():
            if hmac.compare_digest(key.encode(), presented.encode()):
                found = grant
        return found
