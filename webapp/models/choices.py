"""Enumerations stored by name, shown to users by a translated label.

The value of each member is its code, so the API reads and writes the same
codes as the database; `str(member)` gives the label in the request's language.
"""

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum as SAEnum


class LabelledEnum(enum.Enum):
    """An enum whose members print as their translated label."""

    @classmethod
    def labels(cls) -> dict:
        raise NotImplementedError

    @property
    def label(self) -> str:
        return str(self.labels()[self.name])

    def __str__(self) -> str:
        return self.label

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.name, member.label) for member in cls]


def enum_column_type(enum_class: type[LabelledEnum]) -> SAEnum:
    """The column type for an enum: a VARCHAR of the member names on every engine."""
    return SAEnum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda cls: [m.name for m in cls],
    )


class OrgLevel(LabelledEnum):
    union = "union"
    national_association = "national_association"
    branch = "branch"
    club = "club"

    @classmethod
    def labels(cls):
        return {
            "union": _l("Forbund"),
            "national_association": _l("Landsforening"),
            "branch": _l("Avdeling"),
            "club": _l("Klubb"),
        }


class EmployerAssociation(LabelledEnum):
    spekter = "spekter"
    nho = "nho"
    virke = "virke"
    ks = "ks"
    staten = "staten"
    none = "none"

    @classmethod
    def labels(cls):
        return {
            "spekter": _l("Spekter"),
            "nho": _l("NHO"),
            "virke": _l("Virke"),
            "ks": _l("KS"),
            "staten": _l("Staten"),
            "none": _l("Ingen"),
        }


class Sector(LabelledEnum):
    state = "state"
    municipal = "municipal"
    private = "private"

    @classmethod
    def labels(cls):
        return {"state": _l("Statlig"), "municipal": _l("Kommunal"), "private": _l("Privat")}


class MemberCategory(LabelledEnum):
    ordinary = "ordinary"
    apprentice = "apprentice"
    student = "student"
    retired = "retired"
    unemployed = "unemployed"

    @classmethod
    def labels(cls):
        return {
            "ordinary": _l("Ordinær"),
            "apprentice": _l("Lærling"),
            "student": _l("Student"),
            "retired": _l("Pensjonist"),
            "unemployed": _l("Arbeidsledig"),
        }


class ContactChoice(LabelledEnum):
    """Which of the two e-mail addresses or mobiles is used."""

    work = "work"
    private = "private"

    @classmethod
    def labels(cls):
        return {"work": _l("Arbeid"), "private": _l("Privat")}


class Gender(LabelledEnum):
    female = "female"
    male = "male"

    @classmethod
    def labels(cls):
        return {"female": _l("Kvinne"), "male": _l("Mann")}


class PositionType(LabelledEnum):
    leader = "leader"
    treasurer = "treasurer"
    member_data_admin = "member_data_admin"
    workplace_trustee = "workplace_trustee"

    @classmethod
    def labels(cls):
        return {
            "leader": _l("Leder"),
            "treasurer": _l("Kasserer"),
            "member_data_admin": _l("Adm. medlemsopplysninger"),
            "workplace_trustee": _l("Plasstillitsvalgt"),
        }
