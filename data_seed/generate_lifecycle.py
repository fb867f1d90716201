"""The month-by-month life of a chunk of customers: churn, non-payment, retention campaigns.

These three interact (a contacted customer churns less; a customer who stops paying is
blocked and then terminated, which is involuntary churn), so they are simulated together,
one month at a time, each month a vector operation over the whole chunk. Everything
derived from the outcome (revenue rows, bills, complaints…) is built afterwards in
generate_activity.py.
"""

from dataclasses import dataclass, field

import numpy as np

from data_seed import generate_events as ev
from data_seed import generate_params as p
from data_seed.generate_calendar import NOT_SET
from data_seed.generate_customers import COMPETITOR_WEIGHTS, FOREIGN, REMOTE, Customers, choose
from data_seed.generate_world import World
from queries.tables import CHURN_REASONS, COMPETITORS, SEGMENTS

VOLUNTARY, INVOLUNTARY = 0, 1
REASON = {name: index for index, name in enumerate(CHURN_REASONS)}
NEVER = np.iinfo(np.int64).max
PROMOTION_COMPETITOR = COMPETITORS.index(ev.PROMOTION_COMPETITOR)


@dataclass(frozen=True)
class Campaign:
    campaign_id: int
    month: int  # window month index of the first contact
    segment: int
    offer: str
    name: str


def plan_campaigns(world: World) -> list[Campaign]:
    last = world.window.months - 1
    return [
        Campaign(index + 1, max(0, last - months_before), SEGMENTS.index(segment), offer, name)
        for index, (months_before, segment, offer, name) in enumerate(p.CAMPAIGNS)
    ]


@dataclass
class CampaignTargets:
    campaign_id: list[np.ndarray] = field(default_factory=list)
    position: list[np.ndarray] = field(default_factory=list)  # index of the customer in the chunk
    control: list[np.ndarray] = field(default_factory=list)
    accepted: list[np.ndarray] = field(default_factory=list)
    targeted_day: list[np.ndarray] = field(default_factory=list)

    def add(self, campaign_id: int, position, control, accepted, targeted_day) -> None:
        self.campaign_id.append(np.full(position.size, campaign_id, dtype=np.int64))
        self.position.append(position)
        self.control.append(control)
        self.accepted.append(accepted)
        self.targeted_day.append(targeted_day)

    def joined(self) -> dict[str, np.ndarray]:
        names = ("campaign_id", "position", "control", "accepted", "targeted_day")
        if not self.position:
            return {name: np.zeros(0, dtype=bool if name in ("control", "accepted") else np.int64) for name in names}
        return {name: np.concatenate(getattr(self, name)) for name in names}


@dataclass
class Lifecycle:
    churn_day: np.ndarray  # day number, NOT_SET while active at the end
    churn_type: np.ndarray
    reason: np.ndarray
    ported_to: np.ndarray  # competitor index or NOT_SET
    won_back_day: np.ndarray
    default_month: np.ndarray  # window month of the bill never paid, NOT_SET if none
    one_way_day: np.ndarray  # block chain of that bill (day numbers; may lie after the cut-off)
    two_way_day: np.ndarray
    termination_day: np.ndarray
    targets: dict[str, np.ndarray]
    start_active: np.ndarray  # (province, month) customers active at the start of the month
    churned: np.ndarray  # (province, month) customers who left in the month


def simulate(world: World, customers: Customers, rng: np.random.Generator) -> Lifecycle:
    window, events = world.window, world.events
    size, provinces = customers.size, world.province_count
    campaigns = plan_campaigns(world)

    alive = np.ones(size, dtype=bool)
    churn_day = np.full(size, NOT_SET, dtype=np.int64)
    churn_type = np.full(size, NOT_SET, dtype=np.int64)
    promoted = np.zeros(size, dtype=bool)
    default_month = np.full(size, NOT_SET, dtype=np.int64)
    one_way = np.full(size, NOT_SET, dtype=np.int64)
    two_way = np.full(size, NOT_SET, dtype=np.int64)
    termination = np.full(size, NEVER, dtype=np.int64)
    campaign_factor = np.ones(size)
    campaign_until = np.full(size, -1, dtype=np.int64)
    targets = CampaignTargets()
    start_active = np.zeros((provinces, window.months), dtype=np.int64)
    churned = np.zeros((provinces, window.months), dtype=np.int64)

    default_hazard = np.asarray([row[3] for row in p.PAYER_TYPES.values()])[customers.payer] * customers.postpaid
    in_promotion_area = world.promotion_provinces[customers.province] & np.isin(
        customers.segment, [SEGMENTS.index(name) for name in ev.PROMOTION_SEGMENTS]
    )
    in_outage_province = customers.province == world.outage_province

    for month in range(window.months):
        start, stop = int(window.month_starts[month]), int(window.month_starts[month + 1])
        eligible = alive & (customers.activation_month < month)
        start_active[:, month] = np.bincount(customers.province[eligible], minlength=provinces)
        in_debt_process = termination != NEVER
        can_leave = eligible & ~in_debt_process

        tenure_months = (start - customers.activated) / 30.44
        hazard = customers.hazard * np.where(tenure_months < p.EARLY_TENURE_MONTHS, p.EARLY_TENURE_CHURN, 1.0)
        if month == events.outage_month + 1:
            hazard = hazard * np.where(in_outage_province, ev.OUTAGE_CHURN_NEXT_MONTH, 1.0)

        not_before = np.full(size, start, dtype=np.int64)  # churn no earlier than a campaign contact
        for campaign in (c for c in campaigns if c.month == month):
            candidates = can_leave & (customers.segment == campaign.segment)
            if not candidates.any():
                continue
            threshold = np.quantile(hazard[candidates], p.CAMPAIGN_RISK_QUANTILE)
            chosen = np.flatnonzero(candidates & (hazard >= threshold) & (rng.random(size) < p.CAMPAIGN_TARGET_SHARE))
            control = rng.random(chosen.size) < p.CAMPAIGN_CONTROL_SHARE
            accepted = ~control & (rng.random(chosen.size) < p.CAMPAIGN_ACCEPT_SHARE)
            day = start + rng.integers(0, p.CAMPAIGN_CONTACT_DAYS, chosen.size)
            targets.add(campaign.campaign_id, chosen, control, accepted, day)
            factor = np.where(accepted, p.CAMPAIGN_HAZARD_ACCEPTED, p.CAMPAIGN_HAZARD_DECLINED)
            contacted = chosen[~control]
            campaign_factor[contacted] = factor[~control]
            campaign_until[contacted] = month + p.CAMPAIGN_EFFECT_MONTHS
            not_before[chosen] = np.maximum(not_before[chosen], day + 1)

        factor = np.where(campaign_until > month, campaign_factor, 1.0)
        voluntary_hazard = hazard * factor
        promotion_hazard = ev.PROMOTION_EXTRA_HAZARD * in_promotion_area * (month in events.promotion_months)
        expiry_hazard = customers.expiry_hazard * factor
        draw = rng.random(size)
        leaves = can_leave & (draw < voluntary_hazard)
        lured = can_leave & ~leaves & (draw < voluntary_hazard + promotion_hazard)
        expires = can_leave & ~leaves & ~lured & (draw < voluntary_hazard + promotion_hazard + expiry_hazard)
        terminated = alive & (termination < stop)

        leaving = leaves | lured | expires
        span = np.maximum(stop - not_before, 1)
        churn_day[leaving] = (not_before + (rng.random(size) * span).astype(np.int64))[leaving]
        churn_day[terminated] = termination[terminated]
        churn_type[leaves | lured] = VOLUNTARY
        churn_type[expires | terminated] = INVOLUNTARY
        promoted |= lured

        # This month's bill: a postpaid customer active in the month may never pay it.
        billed = alive & (customers.activation_month <= month) & customers.postpaid
        defaults = billed & ~in_debt_process & ~leaving & ~terminated & (rng.random(size) < default_hazard)
        if defaults.any():
            due = stop + customers.due_day[defaults] - 1
            count = int(defaults.sum())
            first = due + rng.integers(p.ONE_WAY_BLOCK_AFTER_DUE[0], p.ONE_WAY_BLOCK_AFTER_DUE[1] + 1, count)
            second = first + rng.integers(p.TWO_WAY_BLOCK_AFTER_ONE_WAY[0], p.TWO_WAY_BLOCK_AFTER_ONE_WAY[1] + 1, count)
            end = second + rng.integers(p.TERMINATION_AFTER_TWO_WAY[0], p.TERMINATION_AFTER_TWO_WAY[1] + 1, count)
            default_month[defaults] = month
            one_way[defaults] = first
            two_way[defaults] = second
            termination[defaults] = end

        gone = leaving | terminated
        churned[:, month] = np.bincount(customers.province[gone], minlength=provinces)
        alive &= ~gone

    left_voluntarily = churn_type == VOLUNTARY
    reason, ported_to = _reasons_and_ports(world, customers, rng, churn_day, churn_type, promoted)
    won_back = left_voluntarily & (rng.random(size) < p.WIN_BACK_SHARE)
    won_back_day = churn_day + rng.integers(p.WIN_BACK_DAYS[0], p.WIN_BACK_DAYS[1] + 1, size)
    won_back_day = np.where(won_back & (won_back_day < window.cutoff_day), won_back_day, NOT_SET)
    return Lifecycle(
        churn_day=churn_day,
        churn_type=churn_type,
        reason=reason,
        ported_to=ported_to,
        won_back_day=won_back_day,
        default_month=default_month,
        one_way_day=one_way,
        two_way_day=two_way,
        termination_day=np.where(termination == NEVER, NOT_SET, termination),
        targets=targets.joined(),
        start_active=start_active,
        churned=churned,
    )


def _reasons_and_ports(world: World, customers: Customers, rng, churn_day, churn_type, promoted):
    """Why each leaver left, and where the number went (a share of voluntary leavers port out)."""
    size = customers.size
    base = np.zeros(len(CHURN_REASONS))
    for name, share in p.VOLUNTARY_REASONS.items():
        base[REASON[name]] = share
    remote, foreign = base.copy(), base.copy()
    remote[REASON["network_quality"]] *= 2.5
    foreign[REASON["relocation"]] *= 3.0
    rows = np.where(customers.area == REMOTE, 1, np.where(customers.segment == FOREIGN, 2, 0))
    reason = choose(rng, np.vstack([base, remote, foreign]), rows=rows)

    outage_month = world.events.outage_month + 1
    after_outage = (
        (customers.province == world.outage_province)
        & (world.window.month_index(np.maximum(churn_day, 0)) == outage_month)
        & (rng.random(size) < 1.0 / 3.0)
    )
    reason = np.where(after_outage, REASON["network_quality"], reason)
    reason = np.where(promoted, REASON["competitor_promotion"], reason)
    reason = np.where(churn_type == INVOLUNTARY, REASON["non_payment"], reason)
    reason = np.where(churn_type == NOT_SET, NOT_SET, reason)

    share = np.where(customers.postpaid, p.PORTED_SHARE["postpaid"], p.PORTED_SHARE["prepaid"])
    share = np.where(reason == REASON["competitor_promotion"], np.minimum(2.5 * share, 1.0), share)
    ports = (churn_type == VOLUNTARY) & (rng.random(size) < share)
    competitor = choose(rng, COMPETITOR_WEIGHTS, size=size)
    ported_to = np.where(ports, competitor, NOT_SET)
    ported_to = np.where(promoted, PROMOTION_COMPETITOR, ported_to)
    return reason, ported_to
