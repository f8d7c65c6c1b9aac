"""The button codec: typed fields in and out, 64 bytes checked at pack, forged data refused."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pytest

from bot import callbacks
from bot.callbacks import Button, ButtonError


class Mood(StrEnum):
    YES = "y"
    NO = "n"


@dataclass(frozen=True, slots=True)
class Toy(Button, prefix="zz:t"):
    item: int
    flag: bool
    mood: Mood
    code: str
    page: int | None = None


@dataclass(frozen=True, slots=True)
class Bare(Button, prefix="zz:b"):
    pass


def test_round_trip_of_every_field_type():
    toy = Toy(12, True, Mood.NO, "dlt_pre", None)
    assert toy.pack() == "zz:t:12:1:n:dlt_pre:"
    assert Toy.unpack(toy.pack()) == toy
    assert Toy.unpack("zz:t:3:0:y:x:7") == Toy(3, False, Mood.YES, "x", 7)
    assert Bare.unpack(Bare().pack()) == Bare()
    assert callbacks.parse("zz:t:3:0:y:x:7") == Toy(3, False, Mood.YES, "x", 7)
    assert Toy.pattern().match("zz:t:1") and not Toy.pattern().match("zz:tx:1")


@pytest.mark.parametrize(
    "data",
    [
        "zz:t:12:1:n:code",  # a field missing
        "zz:t:12:1:n:code::9",  # one too many
        "zz:t:-1:1:n:x:",  # negative id
        "zz:t:١٢:1:n:x:",  # Arabic-Indic digits pass str.isdigit
        "zz:t:99999999999999999999:1:n:x:",  # more digits than any id
        "zz:t:1:2:n:x:",  # a bool that is not 0/1
        "zz:t:1:1:q:x:",  # not a Mood
        "zz:t:1:1:y:a b:",  # a character a code never has
        "zz:b:1",  # fields on a kind that has none
        "zz:x:1",  # another prefix
        "",
        None,
    ],
)
def test_malformed_or_forged_data_is_none(data):
    assert Toy.unpack(data) is None or data == "zz:b:1"
    assert Bare.unpack(data) is None


def test_pack_refuses_what_telegram_would():
    with pytest.raises(ButtonError):
        Toy(1, True, Mood.YES, "x" * 70).pack()
    with pytest.raises(ButtonError):
        Toy(1, True, Mood.YES, "a:b").pack()
    with pytest.raises(ButtonError):
        Toy(-5, True, Mood.YES, "a").pack()
    with pytest.raises(ButtonError):
        Toy(1, True, Mood.YES, "x" * 50, 10**14).pack()  # 65 bytes


def test_a_prefix_is_never_taken_twice_or_shadowed():
    with pytest.raises(ButtonError):

        @dataclass(frozen=True)
        class Again(Button, prefix="zz:t"):
            x: int

    with pytest.raises(ButtonError):

        @dataclass(frozen=True)
        class Shadow(Button, prefix="zz"):  # "zz:t:..." would match it too
            x: int


@dataclass(frozen=True, slots=True)
class Grown(Button, prefix="zz:g"):
    item: int
    step: int
    page: int | None = callbacks.added()


def test_a_field_added_later_may_be_missing_from_old_data():
    """Buttons sent before `page` existed ("zz:g:1:2") still unpack, with None; new ones
    always carry it, and only an added field may be missing (Toy's default is not one)."""
    assert Grown(1, 2, 3).pack() == "zz:g:1:2:3"
    assert Grown.unpack("zz:g:1:2:3") == Grown(1, 2, 3)
    assert Grown.unpack("zz:g:1:2") == Grown(1, 2, None)
    assert Grown.unpack("zz:g:1:2:") == Grown(1, 2, None)
    assert Grown.unpack("zz:g:1") is None  # a field that was always there is missing
    assert Grown.unpack("zz:g:1:2:3:4") is None
    assert Toy.unpack("zz:t:12:1:n:code") is None
