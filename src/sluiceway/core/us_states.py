"""US states, the District of Columbia and the inhabited territories: codes, names, spellings.

Reference data shared by the demo generator (which writes states the way people type them) and
the ``us_state`` cleaning operation (which reads them back to two-letter USPS codes).

A *spelling key* is how a typed state is compared: upper case, with dots and whitespace removed,
so ``" calif. "``, ``"CALIF"`` and ``"Calif."`` share the key ``"CALIF"``, and ``"new  york"``
and ``"New York"`` share ``"NEWYORK"``. :data:`SPELLINGS` maps every key of every code, name,
AP-style abbreviation and alias to its code; each key belongs to one place only.

>>> state_code(" n.y. ")
'NY'
>>> state_code("W. Va.")
'WV'
>>> state_code("Atlantis") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Kind = Literal["state", "district", "territory"]

# The characters a spelling key drops. The SQL of the `us_state` cleaning op removes the same
# set, so keep the two in step (sluiceway.quality.cleaning builds its regex from this string).
KEY_DROPPED_CHARS = ". \t\n\r\f\v\u00a0"
_DROPPED = re.compile("[" + re.escape(KEY_DROPPED_CHARS) + "]")


@dataclass(frozen=True, slots=True)
class UsState:
    """One state, district or territory.

    ``ap_abbr`` is the Associated Press abbreviation (``"Calif."``); the AP spells out eight
    states (Alaska, Hawaii, Idaho, Iowa, Maine, Ohio, Texas, Utah) and the territories, which have
    ``None``. ``aliases`` are other spellings people use.
    """

    code: str
    name: str
    ap_abbr: str | None
    kind: Kind
    aliases: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        """Code, name, AP abbreviation and aliases, in that order."""
        found = [self.code, self.name, *([self.ap_abbr] if self.ap_abbr else []), *self.aliases]
        return tuple(dict.fromkeys(found))


# code | name | AP abbreviation ("-" for none) | kind | aliases separated by ";"
_TABLE = """
AL|Alabama|Ala.|state|
AK|Alaska|-|state|
AZ|Arizona|Ariz.|state|
AR|Arkansas|Ark.|state|
CA|California|Calif.|state|
CO|Colorado|Colo.|state|
CT|Connecticut|Conn.|state|
DE|Delaware|Del.|state|
DC|District of Columbia|D.C.|district|Washington D.C.;Washington, D.C.
FL|Florida|Fla.|state|
GA|Georgia|Ga.|state|
HI|Hawaii|-|state|
ID|Idaho|-|state|
IL|Illinois|Ill.|state|
IN|Indiana|Ind.|state|
IA|Iowa|-|state|
KS|Kansas|Kan.|state|
KY|Kentucky|Ky.|state|
LA|Louisiana|La.|state|
ME|Maine|-|state|
MD|Maryland|Md.|state|
MA|Massachusetts|Mass.|state|
MI|Michigan|Mich.|state|
MN|Minnesota|Minn.|state|
MS|Mississippi|Miss.|state|
MO|Missouri|Mo.|state|
MT|Montana|Mont.|state|
NE|Nebraska|Neb.|state|
NV|Nevada|Nev.|state|
NH|New Hampshire|N.H.|state|
NJ|New Jersey|N.J.|state|
NM|New Mexico|N.M.|state|
NY|New York|N.Y.|state|
NC|North Carolina|N.C.|state|
ND|North Dakota|N.D.|state|
OH|Ohio|-|state|
OK|Oklahoma|Okla.|state|
OR|Oregon|Ore.|state|
PA|Pennsylvania|Pa.|state|
RI|Rhode Island|R.I.|state|
SC|South Carolina|S.C.|state|
SD|South Dakota|S.D.|state|
TN|Tennessee|Tenn.|state|
TX|Texas|-|state|
UT|Utah|-|state|
VT|Vermont|Vt.|state|
VA|Virginia|Va.|state|
WA|Washington|Wash.|state|
WV|West Virginia|W.Va.|state|
WI|Wisconsin|Wis.|state|
WY|Wyoming|Wyo.|state|
AS|American Samoa|-|territory|
GU|Guam|-|territory|
MP|Northern Mariana Islands|-|territory|Northern Marianas;CNMI
PR|Puerto Rico|-|territory|P.R.
VI|U.S. Virgin Islands|-|territory|Virgin Islands;V.I.;USVI
"""


_KINDS: dict[str, Kind] = {"state": "state", "district": "district", "territory": "territory"}


def _parse(table: str) -> tuple[UsState, ...]:
    places: list[UsState] = []
    for line in table.strip().splitlines():
        code, name, abbr, kind, aliases = line.split("|")
        places.append(
            UsState(
                code=code,
                name=name,
                ap_abbr=None if abbr == "-" else abbr,
                kind=_KINDS[kind],
                aliases=tuple(a for a in aliases.split(";") if a),
            )
        )
    return tuple(places)


US_STATES: tuple[UsState, ...] = _parse(_TABLE)
"""Every place, states and DC in alphabetical order of name, then the territories."""

BY_CODE: Mapping[str, UsState] = MappingProxyType({s.code: s for s in US_STATES})


def spelling_key(text: str) -> str:
    """How a typed state is compared: upper case without dots and whitespace."""
    return _DROPPED.sub("", text).upper()


def _spellings(places: tuple[UsState, ...]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for place in places:
        for spelling in place.spellings():
            key = spelling_key(spelling)
            # A key shared by two places would make the mapping guess; fail at import instead.
            owner = keys.setdefault(key, place.code)
            if owner != place.code:
                raise ValueError(f"{spelling!r} spells both {owner} and {place.code}")
    return keys


SPELLINGS: Mapping[str, str] = MappingProxyType(_spellings(US_STATES))


def state_code(text: str) -> str | None:
    """The two-letter code ``text`` spells (any case, dots and spaces ignored), else ``None``."""
    return SPELLINGS.get(spelling_key(text))
