"""Role → scope: the table that decides what each user may see."""

from datetime import date

import pytest

from dashboard.access.roles import NO_ACCESS, ROLE_RIGHTS, ROLES, rights_for, scope_for, valid_province_codes
from dashboard.access.users import User
from dashboard.text.strings import TEXT
from queries.filters import Filters, Scope, allowed_provinces


def user(role: str, provinces: tuple[str, ...] = ()) -> User:
    return User(username=f"u_{role}", name="N", email="", role=role, provinces=provinces)


@pytest.mark.parametrize(
    ("role", "provinces", "expected"),
    [
        ("executive", (), Scope("executive", None, True, False, "u_executive")),
        ("analyst", (), Scope("analyst", None, True, True, "u_analyst")),
        (
            "regional_manager",
            ("01", "31"),
            Scope("regional_manager", frozenset({"01", "31"}), True, False, "u_regional_manager"),
        ),
        ("viewer", (), Scope("viewer", None, False, True, "u_viewer")),
        ("admin", (), Scope("admin", None, False, True, "u_admin")),
    ],
)
def test_scope_for_each_role(role, provinces, expected):
    assert scope_for(user(role, provinces)) == expected


def test_regional_manager_scope_intersects_the_filters():
    scope = scope_for(user("regional_manager", ("01", "31")))
    everything = Filters(start_month=date(2026, 1, 1), end_month=date(2026, 6, 1))
    assert allowed_provinces(everything, scope) == frozenset({"01", "31"})
    asking_for_hcmc = Filters(everything.start_month, everything.end_month, provinces=("79", "01"))
    assert allowed_provinces(asking_for_hcmc, scope) == frozenset({"01"})


def test_regional_manager_without_provinces_sees_nothing_rather_than_everything():
    assert scope_for(user("regional_manager", ())).provinces == frozenset()


def test_only_regional_managers_are_limited_to_provinces():
    # Provinces on another role must not narrow nor widen anything: only the role counts.
    assert scope_for(user("executive", ("01",))).provinces is None


def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        scope_for(user("boss"))


def test_rights_table_covers_exactly_the_five_roles():
    assert ROLES == ("executive", "analyst", "regional_manager", "viewer", "admin")
    assert rights_for("admin").can_manage_users and rights_for("admin").can_manage_targets
    assert not any(rights.can_manage_users for role, rights in ROLE_RIGHTS.items() if role != "admin")
    # Whoever may not list customers never gets unmasked personal data either.
    assert all(rights.mask_personal_data for rights in ROLE_RIGHTS.values() if not rights.can_list_customers)


def test_every_role_has_a_label_in_both_languages():
    for role in ROLES:
        vi, en = TEXT[f"role_{role}"]
        assert vi and en


def test_province_codes_are_the_34_official_ones_as_text():
    codes = valid_province_codes()
    assert len(codes) == 34
    assert {"01", "31", "79"} <= codes
    assert all(len(code) == 2 and code.isdigit() for code in codes)


def test_no_access_scope_matches_no_province():
    everything = Filters(start_month=date(2026, 1, 1), end_month=date(2026, 6, 1))
    assert allowed_provinces(everything, NO_ACCESS) == frozenset()
    assert not NO_ACCESS.can_list_customers and NO_ACCESS.mask_personal_data
