"""Discord's rules for what a bot may send, written out by hand.

Two layers, both returning a list of human-readable problems (empty = fine):

* **Shapes** (:data:`SCHEMAS`): the request bodies of the routes Lectern uses, transcribed from
  Discord's OpenAPI description (``discord-api-spec`` ``specs/openapi.json``, schema names in the
  comments). A tiny validator checks types, lengths, enums, required keys and unknown keys.
* **Limits** (``check_*``): the documented limits the spec does not (or cannot) express: content
  2000 (the spec allows 4000 on channel messages), the 6000-character embed total, 5 action rows,
  5 buttons per row, ``custom_id`` uniqueness, allowed_mentions conflicts, command name rules,
  choice values ≤100, 25 autocomplete choices, 10 MiB files.

To add a rule: extend a schema below or add a check to the matching ``check_*`` function; the
server calls them and records every problem as a :class:`Breach`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# ---------------------------------------------------------------------------------------------
# Limits (Discord's documentation)
# ---------------------------------------------------------------------------------------------

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
COMPONENTS_V2_MAX = 40
CUSTOM_ID_MAX = 100
AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
COMMAND_NAME_MAX = 32
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMANDS_MAX = 100
COMMAND_SIZE_MAX = 8000
NONCE_MAX = 25
FILE_SIZE_MAX = 10 * 1024 * 1024
FILES_MAX = 10
REQUEST_FILES_TOTAL_MAX = 25 * 1024 * 1024
MODAL_TITLE_MAX = 45
EPHEMERAL = 1 << 6
IS_COMPONENTS_V2 = 1 << 15
SNOWFLAKE_RE = re.compile(r"^(0|[1-9][0-9]*)$")


@dataclass(frozen=True)
class Breach:
    """One rule violation: which rule, on which request (``"POST /channels/{channel_id}/..."``)."""

    rule: str
    route: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.route}: {self.message}"


# ---------------------------------------------------------------------------------------------
# Shape validator
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S:
    """A JSON schema node. ``kind``: str int num bool arr obj any snowflake union tagged."""

    kind: str
    min: int | float | None = None
    max: int | float | None = None
    enum: tuple[Any, ...] | None = None
    items: S | None = None
    props: dict[str, S] | None = None
    required: tuple[str, ...] = ()
    options: tuple[S, ...] = ()
    nullable: bool = True
    unique: bool = False


def string(lo: int | None = None, hi: int | None = None, *, null: bool = True) -> S:
    return S("str", min=lo, max=hi, nullable=null)


def integer(lo: int | None = None, hi: int | None = None, *, enum: tuple = (), null=True) -> S:
    return S("int", min=lo, max=hi, enum=enum or None, nullable=null)


def number() -> S:
    return S("num")


def boolean() -> S:
    return S("bool")


def array(items: S, lo: int | None = None, hi: int | None = None, *, unique=False) -> S:
    return S("arr", items=items, min=lo, max=hi, unique=unique)


def obj(props: dict[str, S], *required: str) -> S:
    return S("obj", props=props, required=required)


def union(*options: S) -> S:
    return S("union", options=options)


SNOWFLAKE = S("snowflake")
ANY = S("any")


def validate(schema: S, value: Any, path: str = "$") -> list[str]:
    """Check ``value`` against ``schema``; returns problems as ``"path: message"`` strings."""
    if value is None:
        return [] if schema.nullable else [f"{path}: must not be null"]
    kind = schema.kind
    if kind == "any":
        return []
    if kind == "union":
        best: list[str] | None = None
        for opt in schema.options:
            errs = validate(opt, value, path)
            if not errs:
                return []
            if best is None or len(errs) < len(best):
                best = errs
        return best or [f"{path}: matches no allowed shape"]
    if kind == "tagged":
        if not isinstance(value, dict) or not isinstance(value.get("type"), int):
            return [f"{path}: expected an object with an integer 'type'"]
        sub = (schema.props or {}).get(str(value["type"]))
        return validate(sub, value, path) if sub is not None else []
    if kind == "snowflake":
        if isinstance(value, bool) or not isinstance(value, int | str):
            return [f"{path}: expected a snowflake, got {type(value).__name__}"]
        if isinstance(value, str) and not SNOWFLAKE_RE.match(value):
            return [f"{path}: {value!r} is not a snowflake"]
        return []
    if kind == "str":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {type(value).__name__}"]
        n = len(value)
        if schema.min is not None and n < schema.min:
            return [f"{path}: length {n} < minimum {schema.min}"]
        if schema.max is not None and n > schema.max:
            return [f"{path}: length {n} > maximum {schema.max}"]
        if schema.enum and value not in schema.enum:
            return [f"{path}: {value!r} not one of {schema.enum}"]
        return []
    if kind in ("int", "num"):
        ok = isinstance(value, int) if kind == "int" else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            return [f"{path}: expected {'an integer' if kind == 'int' else 'a number'}"]
        if schema.enum and value not in schema.enum:
            return [f"{path}: {value!r} not one of {list(schema.enum)}"]
        if schema.min is not None and value < schema.min:
            return [f"{path}: {value} < minimum {schema.min}"]
        if schema.max is not None and value > schema.max:
            return [f"{path}: {value} > maximum {schema.max}"]
        return []
    if kind == "bool":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean"]
    if kind == "arr":
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {type(value).__name__}"]
        errs = []
        if schema.min is not None and len(value) < schema.min:
            errs.append(f"{path}: {len(value)} items < minimum {schema.min}")
        if schema.max is not None and len(value) > schema.max:
            errs.append(f"{path}: {len(value)} items > maximum {schema.max}")
        if schema.unique and len({repr(v) for v in value}) != len(value):
            errs.append(f"{path}: items must be unique")
        assert schema.items is not None
        for i, item in enumerate(value):
            errs += validate(schema.items, item, f"{path}[{i}]")
        return errs
    if kind == "obj":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        props = schema.props or {}
        errs = [f"{path}: missing required {k!r}" for k in schema.required if value.get(k) is None]
        for k, v in value.items():
            if k not in props:
                errs.append(f"{path}: unknown field {k!r}")
            else:
                errs += validate(props[k], v, f"{path}.{k}")
        return errs
    raise AssertionError(f"unknown schema kind {kind}")


# --- Schemas transcribed from openapi.json (component names in comments) ---------------------

_MEDIA = obj(  # RichEmbedImage / RichEmbedThumbnail / RichEmbedVideo
    {
        "url": string(hi=2048),
        "width": integer(),
        "height": integer(),
        "placeholder": string(hi=64),
        "placeholder_version": integer(0, 2147483647),
        "is_animated": boolean(),
        "description": string(hi=4096),
        # discord.py echoes what it received back in Embed.to_dict():
        "proxy_url": string(),
        "flags": integer(),
        "content_type": string(),
    }
)
EMBED = obj(  # RichEmbed
    {
        "type": string(hi=152133),
        "url": string(hi=2048),
        "title": string(hi=EMBED_TITLE_MAX),
        "color": integer(0, 16777215),
        "timestamp": string(),
        "description": string(hi=EMBED_DESCRIPTION_MAX),
        "author": obj(  # RichEmbedAuthor
            {
                "name": string(hi=EMBED_AUTHOR_MAX),
                "url": string(hi=2048),
                "icon_url": string(hi=2048),
                "proxy_icon_url": string(),
            }
        ),
        "image": _MEDIA,
        "thumbnail": _MEDIA,
        "footer": obj(  # RichEmbedFooter
            {
                "text": string(hi=EMBED_FOOTER_MAX),
                "icon_url": string(hi=2048),
                "proxy_icon_url": string(),
            }
        ),
        "fields": array(  # RichEmbedField
            obj(
                {
                    "name": string(hi=EMBED_FIELD_NAME_MAX, null=False),
                    "value": string(hi=EMBED_FIELD_VALUE_MAX, null=False),
                    "inline": boolean(),
                },
                "name",
                "value",
            ),
            hi=EMBED_FIELDS_MAX,
        ),
        "provider": obj({"name": string(hi=256), "url": string(hi=2048)}),
        "video": _MEDIA,
        "flags": integer(),  # embed flags: documented, sent by discord.py's Embed.to_dict()
    }
)
ALLOWED_MENTIONS = obj(  # MessageAllowedMentionsRequest
    {
        "parse": array(S("str", enum=("users", "roles", "everyone")), unique=True),
        "users": array(SNOWFLAKE, hi=100, unique=True),
        "roles": array(SNOWFLAKE, hi=100, unique=True),
        "replied_user": boolean(),
    }
)
_EMOJI = obj({"id": SNOWFLAKE, "name": string(hi=32), "animated": boolean()})  # ComponentEmoji
BUTTON = obj(  # ButtonComponentForMessageRequest
    {
        "type": integer(enum=(2,), null=False),
        "id": integer(0),
        "custom_id": string(1, CUSTOM_ID_MAX),
        "style": integer(enum=(1, 2, 3, 4, 5, 6), null=False),
        "label": string(hi=80),
        "disabled": boolean(),
        "url": string(hi=512),
        "sku_id": SNOWFLAKE,
        "emoji": _EMOJI,
    },
    "type",
    "style",
)
_SELECT_COMMON = {
    "id": integer(0),
    "custom_id": string(1, CUSTOM_ID_MAX, null=False),
    "placeholder": string(hi=150),
    "min_values": integer(0, 25),
    "max_values": integer(1, 25),
    "disabled": boolean(),
    "required": boolean(),
}
STRING_SELECT = obj(  # StringSelectComponentForMessageRequest
    {
        **_SELECT_COMMON,
        "type": integer(enum=(3,), null=False),
        "options": array(
            obj(  # StringSelectOptionForRequest
                {
                    "label": string(1, 100, null=False),
                    "value": string(1, 100, null=False),
                    "description": string(hi=100),
                    "default": boolean(),
                    "emoji": _EMOJI,
                },
                "label",
                "value",
            ),
            1,
            25,
        ),
    },
    "type",
    "custom_id",
    "options",
)
OTHER_SELECT = obj(  # User/Role/Mentionable/ChannelSelectComponentForMessageRequest
    {
        **_SELECT_COMMON,
        "type": integer(enum=(5, 6, 7, 8), null=False),
        "default_values": array(obj({"id": SNOWFLAKE, "type": string()}), hi=25),
        "channel_types": array(integer()),
    },
    "type",
    "custom_id",
)
ACTION_ROW = obj(  # ActionRowComponentForMessageRequest
    {
        "type": integer(enum=(1,), null=False),
        "id": integer(0),
        "components": S(
            "arr", items=union(BUTTON, STRING_SELECT, OTHER_SELECT), min=1, max=5, nullable=False
        ),
    },
    "type",
    "components",
)
# Components V2 (Container, Section, TextDisplay, ...) are accepted by type only.
# Top-level components are told apart by "type": action rows are checked in full, Components V2
# (Container, Section, TextDisplay, ...) only by the limits in check_message_limits.
COMPONENT = S("tagged", props={"1": ACTION_ROW})
ATTACHMENT = obj(  # MessageAttachmentRequest
    {
        "id": SNOWFLAKE,
        "filename": string(1, 1024),
        "description": string(hi=1024),
        "duration_secs": number(),
        "waveform": string(hi=400),
        "title": string(hi=1024),
        "is_spoiler": boolean(),
        "is_remix": boolean(),
        # discord.py re-sends kept attachments as it received them:
        "size": integer(),
        "url": string(),
        "proxy_url": string(),
        "content_type": string(),
        "width": integer(),
        "height": integer(),
        "ephemeral": boolean(),
        "flags": integer(),
    },
    "id",
)
POLL = ANY  # PollCreateRequest: not used by Lectern, accepted as-is

_MESSAGE_COMMON = {
    "content": string(hi=4000),
    "embeds": array(EMBED, hi=EMBEDS_MAX),
    "allowed_mentions": ALLOWED_MENTIONS,
    "components": array(COMPONENT, hi=40),
    "attachments": array(ATTACHMENT, hi=10),
    "poll": POLL,
    "flags": integer(),
}
MESSAGE_CREATE = obj(  # MessageCreateRequest
    {
        **_MESSAGE_COMMON,
        "sticker_ids": array(SNOWFLAKE, hi=3),
        "message_reference": obj(
            {
                "guild_id": SNOWFLAKE,
                "channel_id": SNOWFLAKE,
                "message_id": SNOWFLAKE,
                "fail_if_not_exists": boolean(),
                "type": integer(enum=(0, 1)),
            },
            "message_id",
        ),
        "nonce": union(integer(), string(hi=NONCE_MAX)),
        "enforce_nonce": boolean(),
        "tts": boolean(),
    }
)
MESSAGE_EDIT = obj(  # MessageEditRequestPartial (+ "tts", sent by discord.py)
    {**_MESSAGE_COMMON, "sticker_ids": array(SNOWFLAKE), "tts": boolean()}
)
WEBHOOK_EXECUTE = obj(  # IncomingWebhookRequestPartial
    {
        **_MESSAGE_COMMON,
        "content": string(hi=CONTENT_MAX),
        "tts": boolean(),
        "username": string(1, 80),
        "avatar_url": string(hi=2048),
        "thread_name": string(0, 100),
        "applied_tags": array(SNOWFLAKE, hi=5),
    }
)
# discord.py 2.7 sends "tts": false on edits too; Discord ignores it, so it is let through.
WEBHOOK_EDIT = obj(  # IncomingWebhookUpdateRequestPartial
    {**_MESSAGE_COMMON, "content": string(hi=CONTENT_MAX), "tts": boolean()}
)
INTERACTION_MESSAGE = obj(  # IncomingWebhookInteractionRequest (callback types 4, 5)
    {**_MESSAGE_COMMON, "content": string(hi=CONTENT_MAX), "tts": boolean()}
)
INTERACTION_UPDATE = obj(  # IncomingWebhookUpdateForInteractionCallbackRequestPartial (6, 7)
    {
        **{k: v for k, v in _MESSAGE_COMMON.items() if k != "poll"},
        "content": string(hi=CONTENT_MAX),
        "tts": boolean(),  # sent by discord.py's edit_message(), ignored by Discord
    }
)
_CHOICE_VALUE = union(string(hi=6000), integer(-(2**53) + 1, 2**53 - 1), number())
CHOICE = obj(  # ApplicationCommandOption{String,Integer,Number}Choice
    {
        "name": string(1, CHOICE_NAME_MAX, null=False),
        "name_localizations": ANY,
        "value": _CHOICE_VALUE,
    },
    "name",
    "value",
)
AUTOCOMPLETE_DATA = obj(  # InteractionApplicationCommandAutocompleteCallback*Data
    {"choices": array(CHOICE, hi=AUTOCOMPLETE_CHOICES_MAX)}
)
MODAL_DATA = obj(  # ModalInteractionCallbackRequestData
    {
        "custom_id": string(1, CUSTOM_ID_MAX, null=False),
        "title": string(1, MODAL_TITLE_MAX, null=False),
        "components": S("arr", items=ANY, min=1, max=5, nullable=False),
    },
    "custom_id",
    "title",
    "components",
)
_LOCALIZED = S("any")
_OPTION_COMMON = {
    "type": integer(enum=tuple(range(1, 12)), null=False),
    "name": string(1, COMMAND_NAME_MAX, null=False),
    "name_localizations": _LOCALIZED,
    "description": string(1, COMMAND_DESCRIPTION_MAX, null=False),
    "description_localizations": _LOCALIZED,
    "required": boolean(),
    "autocomplete": boolean(),
    "choices": array(CHOICE, hi=25),
    "min_length": integer(0, 6000),
    "max_length": integer(1, 6000),
    "min_value": union(integer(), number()),
    "max_value": union(integer(), number()),
    "channel_types": array(integer(), unique=True),
}
OPTION = obj({**_OPTION_COMMON, "options": array(ANY, hi=25)}, "type", "name", "description")
COMMAND = obj(  # ApplicationCommandUpdateRequest
    {
        "id": SNOWFLAKE,
        "name": string(1, COMMAND_NAME_MAX, null=False),
        "name_localizations": _LOCALIZED,
        "description": string(hi=COMMAND_DESCRIPTION_MAX),
        "description_localizations": _LOCALIZED,
        "options": array(OPTION, hi=COMMAND_OPTIONS_MAX),
        # spec says integer; the docs (and discord.py) use a string bitfield: accept both
        "default_member_permissions": union(integer(0, 18014398509481983), SNOWFLAKE),
        "dm_permission": boolean(),
        "contexts": array(integer(enum=(0, 1, 2)), 1, unique=True),
        "integration_types": array(integer(enum=(0, 1)), 1, unique=True),
        "handler": integer(enum=(1, 2)),
        "type": integer(enum=(1, 2, 3, 4)),
        "nsfw": boolean(),  # documented, missing from the spec
    },
    "name",
)
THREAD_FROM_MESSAGE = obj(  # CreateTextThreadWithMessageRequest
    {
        "name": string(1, 100, null=False),
        "auto_archive_duration": integer(enum=(60, 1440, 4320, 10080)),
        "rate_limit_per_user": integer(0, 21600),
    },
    "name",
)
THREAD_WITHOUT_MESSAGE = obj(  # CreateTextThreadWithoutMessageRequest
    {
        "name": string(1, 100, null=False),
        "auto_archive_duration": integer(enum=(60, 1440, 4320, 10080)),
        "rate_limit_per_user": integer(0, 21600),
        "type": integer(enum=(10, 11, 12)),
        "invitable": boolean(),
    },
    "name",
)

# The starter message of a forum or media post (BaseCreateMessageCreateRequest: no nonce, since
# a forum post cannot be de-duplicated by one). discord.py also sends "tts": false, ignored.
FORUM_MESSAGE = obj({**_MESSAGE_COMMON, "sticker_ids": array(SNOWFLAKE, hi=3), "tts": boolean()})
FORUM_THREAD = obj(  # CreateForumThreadRequest (+ "type": 11, sent by discord.py and ignored)
    {
        "name": string(1, 100, null=False),
        "auto_archive_duration": integer(enum=(60, 1440, 4320, 10080)),
        "rate_limit_per_user": integer(0, 21600),
        "applied_tags": array(SNOWFLAKE, hi=5),
        "message": FORUM_MESSAGE,
        "type": integer(enum=(11,)),
    },
    "name",
    "message",
)

# ---------------------------------------------------------------------------------------------
# Limits beyond the shapes
# ---------------------------------------------------------------------------------------------


def embed_length(embed: dict[str, Any]) -> int:
    """Characters that count toward the 6000 total (same rule as discord.py's ``len(Embed)``)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def check_message_limits(body: dict[str, Any]) -> list[str]:
    """Content, embeds, components and allowed_mentions rules for any message-like body."""
    errs: list[str] = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_MAX:
        errs.append(f"content is {len(content)} characters (max {CONTENT_MAX})")
    embeds = body.get("embeds") or []
    if isinstance(embeds, list):
        if len(embeds) > EMBEDS_MAX:
            errs.append(f"{len(embeds)} embeds (max {EMBEDS_MAX})")
        total = sum(embed_length(e) for e in embeds if isinstance(e, dict))
        if total > EMBED_TOTAL_MAX:
            errs.append(f"embeds total {total} characters (max {EMBED_TOTAL_MAX})")
    flags = body.get("flags") or 0
    components = body.get("components") or []
    if isinstance(components, list) and components:
        if isinstance(flags, int) and flags & IS_COMPONENTS_V2:
            if content or embeds:
                errs.append("IS_COMPONENTS_V2 messages cannot have content or embeds")
            if _count_components(components) > COMPONENTS_V2_MAX:
                errs.append(f"more than {COMPONENTS_V2_MAX} components")
            errs += check_v2_components(components)
        else:
            errs += _check_action_rows(components)
    errs += _check_custom_ids(components)
    am = body.get("allowed_mentions")
    if isinstance(am, dict):
        parse = am.get("parse") or []
        for kind in ("users", "roles"):
            if kind in parse and am.get(kind):
                errs.append(f"allowed_mentions: {kind!r} in parse and {kind} ids listed")
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > NONCE_MAX:
        errs.append(f"nonce is {len(nonce)} characters (max {NONCE_MAX})")
    return errs


def _count_components(components: list[Any]) -> int:
    n = 0
    for c in components:
        if isinstance(c, dict):
            n += 1 + _count_components(c.get("components") or [])
            if isinstance(c.get("accessory"), dict):
                n += 1
    return n


def _check_action_rows(rows: list[Any]) -> list[str]:
    errs = []
    if len(rows) > ACTION_ROWS_MAX:
        errs.append(f"{len(rows)} action rows (max {ACTION_ROWS_MAX})")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        if row.get("type") != 1:
            errs.append(f"components[{i}]: top-level component must be an action row (type 1)")
            continue
        children = [c for c in row.get("components") or [] if isinstance(c, dict)]
        buttons = [c for c in children if c.get("type") == 2]
        selects = [c for c in children if c.get("type") in (3, 5, 6, 7, 8)]
        if len(buttons) > BUTTONS_PER_ROW_MAX:
            errs.append(f"components[{i}]: {len(buttons)} buttons (max {BUTTONS_PER_ROW_MAX})")
        if selects and (len(selects) > 1 or buttons):
            errs.append(f"components[{i}]: a select menu must be alone in its action row")
        for b in buttons:
            if b.get("style") == 5:
                if not b.get("url") or b.get("custom_id"):
                    errs.append(f"components[{i}]: link buttons need url and no custom_id")
            elif b.get("style") != 6 and not b.get("custom_id"):
                errs.append(f"components[{i}]: non-link buttons need a custom_id")
    return errs


def _iter_custom_ids(components: list[Any]):
    for c in components:
        if not isinstance(c, dict):
            continue
        if isinstance(c.get("custom_id"), str):
            yield c["custom_id"]
        yield from _iter_custom_ids(c.get("components") or [])
        if isinstance(c.get("accessory"), dict):
            yield from _iter_custom_ids([c["accessory"]])


def _check_custom_ids(components: list[Any]) -> list[str]:
    errs, seen = [], set()
    for cid in _iter_custom_ids(components if isinstance(components, list) else []):
        if not 1 <= len(cid) <= CUSTOM_ID_MAX:
            errs.append(f"custom_id {cid[:20]!r}... is {len(cid)} characters (1-{CUSTOM_ID_MAX})")
        if cid in seen:
            errs.append(f"custom_id {cid!r} is used twice in one message")
        seen.add(cid)
    return errs


def check_message(schema: S, body: Any) -> list[str]:
    """Shape plus limits for a message-like body."""
    errs = validate(schema, body)
    if isinstance(body, dict):
        errs += [e for e in check_message_limits(body) if e not in errs]
    return errs


def check_files(files: list[tuple[str, int]]) -> list[str]:
    errs = []
    if len(files) > FILES_MAX:
        errs.append(f"{len(files)} files (max {FILES_MAX})")
    for name, size in files:
        if size > FILE_SIZE_MAX:
            errs.append(f"file {name!r} is {size} bytes (max {FILE_SIZE_MAX})")
    total = sum(size for _, size in files)
    if total > REQUEST_FILES_TOTAL_MAX:
        errs.append(f"files total {total} bytes (max {REQUEST_FILES_TOTAL_MAX})")
    return errs


def check_choices(choices: list[Any], where: str) -> list[str]:
    """Docs: choice name 1-100, string value ≤100 (the spec says 6000)."""
    errs = []
    for i, ch in enumerate(choices):
        value = ch.get("value") if isinstance(ch, dict) else None
        if isinstance(value, str) and len(value) > CHOICE_VALUE_MAX:
            errs.append(f"{where}[{i}].value is {len(ch['value'])} characters (max 100)")
    return errs


def check_callback(body: Any, interaction_type: int) -> list[str]:
    """An interaction callback body against the interaction it answers.

    ``interaction_type``: 2 command, 3 component, 4 autocomplete, 5 modal submit.
    """
    if not isinstance(body, dict):
        return ["$: expected an object"]
    cb_type = body.get("type")
    data = body.get("data")
    allowed = {
        2: {4, 5, 9, 12},
        3: {4, 5, 6, 7, 9, 12},
        4: {8},
        5: {4, 5, 6, 7, 12},
    }.get(interaction_type, set())
    errs = list(validate(obj({"type": integer(null=False), "data": ANY}, "type"), body))
    if cb_type not in allowed:
        errs.append(
            f"callback type {cb_type} is not valid for interaction type {interaction_type} "
            f"(allowed: {sorted(allowed)})"
        )
        return errs
    if cb_type in (4, 7):
        schema = INTERACTION_MESSAGE if cb_type == 4 else INTERACTION_UPDATE
        errs += check_message(schema, data) if data is not None else []
    elif cb_type == 5:
        if data is not None:
            errs += validate(obj({"flags": integer()}), data, "$.data")
            if isinstance(data, dict) and (data.get("flags") or 0) & ~EPHEMERAL:
                errs.append("a deferred response takes only the EPHEMERAL flag")
    elif cb_type == 6:
        if data:
            errs.append("type 6 (deferred update) takes no data")
    elif cb_type == 8:
        if data is None:
            errs.append("autocomplete result needs data.choices")
        else:
            errs += validate(AUTOCOMPLETE_DATA, data, "$.data")
            choices = data.get("choices") if isinstance(data, dict) else None
            if isinstance(choices, list):
                if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
                    msg = f"{len(choices)} autocomplete choices (max {AUTOCOMPLETE_CHOICES_MAX})"
                    if not any("items > maximum" in e for e in errs):
                        errs.append(msg)
                    else:
                        errs = [msg if "items > maximum" in e else e for e in errs]
                errs += check_choices(choices, "$.data.choices")
    elif cb_type == 9:
        errs += validate(MODAL_DATA, data, "$.data")
    return errs


def _name_problem(name: Any, cmd_type: int) -> str | None:
    if not isinstance(name, str):
        return "name must be a string"
    if cmd_type != 1:  # user/message commands: 1-32 any characters
        return None if 1 <= len(name) <= 32 else f"name {name!r} must be 1-32 characters"
    # \p{L}, \p{N}, plus the combining marks Devanagari and Thai scripts need
    ok_chars = all(ch in "-_'" or unicodedata.category(ch)[0] in ("L", "N", "M") for ch in name)
    if not (ok_chars and 1 <= len(name) <= 32):
        return f"name {name!r} must match ^[-_'\\p{{L}}\\p{{N}}]{{1,32}}$"
    if name != name.lower():
        return f"name {name!r} must be lowercase"
    return None


def check_commands(commands: Any) -> list[str]:
    """A bulk-overwrite body: list shape, names, descriptions, options, choices, counts, size."""
    if not isinstance(commands, list):
        return ["$: expected an array of commands"]
    errs = validate(array(COMMAND), commands)
    slash = [c for c in commands if isinstance(c, dict) and c.get("type", 1) in (1, None)]
    if len(slash) > COMMANDS_MAX:
        errs.append(f"{len(slash)} slash commands (max {COMMANDS_MAX})")
    seen: set[tuple[Any, Any]] = set()
    for i, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            continue
        ctype = cmd.get("type") or 1
        key = (cmd.get("name"), ctype)
        if key in seen:
            errs.append(f"$[{i}]: duplicate command name {cmd.get('name')!r}")
        seen.add(key)
        where = f"$[{i}] ({cmd.get('name')!r})"
        if (p := _name_problem(cmd.get("name"), ctype)) is not None:
            errs.append(f"{where}: {p}")
        desc = cmd.get("description")
        if ctype == 1 and not (isinstance(desc, str) and 1 <= len(desc) <= 100):
            errs.append(f"{where}: slash command description must be 1-100 characters")
        if ctype != 1 and desc:
            errs.append(f"{where}: user/message commands must have an empty description")
        errs += _check_options(cmd.get("options") or [], where, depth=0)
        size = _command_size(cmd)
        if size > COMMAND_SIZE_MAX:
            errs.append(f"{where}: {size} characters in names/descriptions/values (max 8000)")
    return errs


def _check_options(options: list[Any], where: str, depth: int) -> list[str]:
    errs: list[str] = []
    if len(options) > COMMAND_OPTIONS_MAX:
        errs.append(f"{where}: {len(options)} options (max {COMMAND_OPTIONS_MAX})")
    names: set[str] = set()
    seen_optional = False
    for j, opt in enumerate(options):
        if not isinstance(opt, dict):
            continue
        w = f"{where}.options[{j}] ({opt.get('name')!r})"
        otype = opt.get("type")
        if (p := _name_problem(opt.get("name"), 1)) is not None:
            errs.append(f"{w}: {p}")
        if opt.get("name") in names:
            errs.append(f"{w}: duplicate option name")
        names.add(opt.get("name"))
        if otype in (1, 2):
            if (otype == 2 and depth > 0) or (otype == 1 and depth > 1):
                errs.append(f"{w}: subcommands nest at most group > subcommand")
            if otype == 2 and any(
                isinstance(o, dict) and o.get("type") != 1 for o in opt.get("options") or []
            ):
                errs.append(f"{w}: a subcommand group may only contain subcommands")
            errs += _check_options(opt.get("options") or [], w, depth + 1)
            continue
        if opt.get("required"):
            if seen_optional:
                errs.append(f"{w}: required options must come before optional ones")
        else:
            seen_optional = True
        choices = opt.get("choices") or []
        if choices and opt.get("autocomplete"):
            errs.append(f"{w}: autocomplete cannot be combined with choices")
        if choices and otype not in (3, 4, 10):
            errs.append(f"{w}: only string, integer and number options take choices")
        errs += check_choices(choices, f"{w}.choices")
    return errs


def _command_size(cmd: dict[str, Any]) -> int:
    def walk(o: dict[str, Any]) -> int:
        n = len(str(o.get("name") or "")) + len(str(o.get("description") or ""))
        for ch in o.get("choices") or []:
            if isinstance(ch, dict):
                n += len(str(ch.get("name") or "")) + len(str(ch.get("value") or ""))
        for sub in o.get("options") or []:
            if isinstance(sub, dict):
                n += walk(sub)
        return n

    return walk(cmd)


def check_history_query(query: dict[str, str]) -> list[str]:
    """Get Channel Messages' query (openapi ``/channels/{channel_id}/messages`` GET): at most
    one of around/before/after (snowflakes), and ``limit`` an integer from 1 to 100."""
    errs = [f"unknown query parameter {k!r}" for k in query if k not in HISTORY_QUERY]
    anchors = [k for k in ("around", "before", "after") if k in query]
    if len(anchors) > 1:
        errs.append(f"only one of around, before, after: got {anchors}")
    for key in anchors:
        if not query[key].isdigit():
            errs.append(f"{key} must be a snowflake, not {query[key]!r}")
    if "limit" in query and not (query["limit"].isdigit() and 1 <= int(query["limit"]) <= 100):
        errs.append(f"limit must be an integer from 1 to 100, not {query['limit']!r}")
    return errs


HISTORY_QUERY = ("around", "before", "after", "limit")


# Components V2 (Discord's "Component Reference"; openapi: ContainerComponentForMessageRequest,
# TextDisplayComponentForMessageRequest, SeparatorComponentForMessageRequest, ...).
ACTION_ROW_TYPE, BUTTON_TYPE, SECTION, TEXT_DISPLAY, THUMBNAIL = 1, 2, 9, 10, 11
MEDIA_GALLERY, FILE_COMPONENT, SEPARATOR, CONTAINER = 12, 13, 14, 17
SELECT_TYPES = (3, 5, 6, 7, 8)
V2_TOP_LEVEL = (ACTION_ROW_TYPE, SECTION, TEXT_DISPLAY, MEDIA_GALLERY, FILE_COMPONENT, SEPARATOR,
                CONTAINER)  # fmt: skip
IN_CONTAINER = (ACTION_ROW_TYPE, SECTION, TEXT_DISPLAY, MEDIA_GALLERY, FILE_COMPONENT, SEPARATOR)
#: All text shown by a V2 message's text displays, together.
V2_TEXT_MAX = 4000


def _text_length(components: list[Any]) -> int:
    total = 0
    for c in components:
        if not isinstance(c, dict):
            continue
        if c.get("type") == TEXT_DISPLAY and isinstance(c.get("content"), str):
            total += len(c["content"])
        total += _text_length(c.get("components") or [])
        if isinstance(c.get("accessory"), dict):
            total += _text_length([c["accessory"]])
    return total


def check_v2_components(components: list[Any]) -> list[str]:
    """Types, nesting and fields of a Components V2 message, and its 4,000 characters."""
    errs: list[str] = []

    def check(c: Any, where: str, allowed: tuple[int, ...]) -> None:
        if not isinstance(c, dict) or c.get("type") not in allowed:
            kind = c.get("type") if isinstance(c, dict) else type(c).__name__
            errs.append(f"{where}: component type {kind} not allowed here (allowed: {allowed})")
            return
        kind = c["type"]
        children = c.get("components")
        if kind == CONTAINER:
            colour = c.get("accent_color")
            if colour is not None and not (isinstance(colour, int) and 0 <= colour <= 0xFFFFFF):
                errs.append(f"{where}: accent_color must be 0-0xFFFFFF")
            if not isinstance(children, list) or not children:
                errs.append(f"{where}: a container needs components")
            for i, child in enumerate(children or []):
                check(child, f"{where}.components[{i}]", IN_CONTAINER)
        elif kind == TEXT_DISPLAY:
            text = c.get("content")
            if not isinstance(text, str) or not 1 <= len(text) <= V2_TEXT_MAX:
                errs.append(f"{where}: a text display needs content of 1-4000 characters")
        elif kind == SEPARATOR:
            if c.get("spacing", 1) not in (1, 2) or not isinstance(c.get("divider", True), bool):
                errs.append(f"{where}: separator spacing is 1 or 2, divider a boolean")
        elif kind == SECTION:
            texts = children if isinstance(children, list) else []
            if not 1 <= len(texts) <= 3:
                errs.append(f"{where}: a section holds 1-3 text displays")
            for i, child in enumerate(texts):
                check(child, f"{where}.components[{i}]", (TEXT_DISPLAY,))
            check(c.get("accessory"), f"{where}.accessory", (BUTTON_TYPE, THUMBNAIL))
        elif kind == ACTION_ROW_TYPE:
            errs.extend(f"{where}: {e}" for e in _check_action_rows([c]))
        elif kind == MEDIA_GALLERY:
            items = c.get("items")
            if not isinstance(items, list) or not 1 <= len(items) <= 10:
                errs.append(f"{where}: a media gallery holds 1-10 items")
        elif kind == FILE_COMPONENT:
            url = (c.get("file") or {}).get("url", "")
            if not str(url).startswith("attachment://"):
                errs.append(f"{where}: a file component points at attachment://<name>")
        elif kind in (BUTTON_TYPE, THUMBNAIL):
            pass  # checked where they may stand (section accessories), as in action rows

    for i, component in enumerate(components):
        check(component, f"components[{i}]", V2_TOP_LEVEL)
    total = _text_length(components)
    if total > V2_TEXT_MAX:
        errs.append(f"text displays hold {total} characters (max {V2_TEXT_MAX})")
    return errs
