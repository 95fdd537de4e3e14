"""Core's analytics endpoints (issue 19), one method each, mixed into Endpoints.

Reads for a dashboard user or a chat member take `acting_user_id` (core checks VIEW_STATS in the group, or globally
for the overview). The period: `period` today, 7d, 30d or custom (then `start` and `end`, dates or ISO strings, both
inclusive days of the group's clock), `bucket` hour or day. Answers stay core's JSON (docs/analytics.md).
"""

from datetime import date

from .calls import Call, acting, compact, group, user


def _period(query: dict) -> dict:
    return compact({key: (value.isoformat() if isinstance(value, date) else value) for key, value in query.items()})


class AnalyticsEndpoints:
    def _send(self, call: Call):
        raise NotImplementedError

    def group_analytics(self, group_id, *, acting_user_id: str | None = None, **period) -> dict:
        """A group's figures over a period: totals, DAU/WAU/MAU, series, member count, heatmap, top members,
        cohorts, moderation."""
        return self._send(Call("group_analytics", "GET", f"/api/groups/{group(group_id)}/analytics",
                               params=_period(period), retry=True, headers=acting(acting_user_id)))

    def member_analytics(self, group_id, user_id, *, acting_user_id: str | None = None, **period) -> dict:
        """One member's figures in a group: first and last seen, messages per day, warnings, actions received."""
        return self._send(Call("member_analytics", "GET",
                               f"/api/groups/{group(group_id)}/analytics/members/{user(user_id)}",
                               params=_period(period), retry=True, headers=acting(acting_user_id)))

    def analytics_overview(self, *, acting_user_id: str | None = None, **period) -> dict:
        """The platform's headline figures summed over groups, and the groups ranked by activity and growth
        (`limit` per ranking)."""
        return self._send(Call("analytics_overview", "GET", "/api/analytics/overview", params=_period(period),
                               retry=True, headers=acting(acting_user_id)))
