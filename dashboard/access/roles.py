"""Roles and what each may see: the one table that turns a user into a query ``Scope``.

The scope is enforced in the query layer (queries.filters); the UI only hides what
the query layer already refuses. This module decides the scope, nothing else.

Admin's data view (a decision, documented in docs/access.md): admin is an operations
role that manages users and targets. It needs the country-wide aggregates to set and
check targets, but no customer's personal data, so it sees every province's
aggregates and no customer-level lists (like viewer). Least privilege: someone who
needs lists too gets a second, data role.
"""

from dataclasses import dataclass
from functools import cache

from queries.filters import Scope
from queries.reference import province_codes


@dataclass(frozen=True)
class RoleRights:
    all_provinces: bool  # False: only the provinces assigned to the user
    can_list_customers: bool  # customer-level lists, drill-downs to customers, and their exports
    mask_personal_data: bool  # names and phone numbers masked in those lists
    can_manage_users: bool
    can_manage_targets: bool


# Aggregate charts, aggregate downloads and the meeting pack are open to every role,
# always within the role's provinces.
ROLE_RIGHTS: dict[str, RoleRights] = {
    "executive": RoleRights(True, True, False, False, False),
    "analyst": RoleRights(True, True, True, False, False),
    "regional_manager": RoleRights(False, True, False, False, False),
    "viewer": RoleRights(True, False, True, False, False),
    "admin": RoleRights(True, False, True, True, True),
}
ROLES = tuple(ROLE_RIGHTS)  # labels: dashboard.text.strings value_label("role", role, lang)


# For code paths that must scope something before anyone is logged in: sees nothing.
NO_ACCESS = Scope(role="none", provinces=frozenset(), can_list_customers=False, mask_personal_data=True, user="")


@cache
def valid_province_codes() -> frozenset[str]:
    """The 34 official codes since 1 July 2025 (queries/reference_data/provinces_2025.csv)."""
    return frozenset(province_codes())


def rights_for(role: str) -> RoleRights:
    try:
        return ROLE_RIGHTS[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}") from None


def scope_for(user) -> Scope:
    """The query scope of a logged-in user (a dashboard.access.users.User or anything with
    username, role and provinces).

    A regional manager without provinces gets an empty set, which matches nothing:
    a misconfigured account sees no data rather than all data.
    """
    rights = rights_for(user.role)
    return Scope(
        role=user.role,
        provinces=None if rights.all_provinces else frozenset(user.provinces),
        can_list_customers=rights.can_list_customers,
        mask_personal_data=rights.mask_personal_data,
        user=user.username,
    )
