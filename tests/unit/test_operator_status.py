"""Status: the conditions, and a patch only when the status would say something new."""

from __future__ import annotations

import pytest
from ampp_operator.resources import Verdict, make
from ampp_operator.status import Condition, conditions, status_update

pytestmark = pytest.mark.unit

OK = Verdict(True, "Valid", "in the running configuration")
BAD = Verdict(False, "ReceiverNotFound", "Receiver a/b does not exist")


def test_conditions() -> None:
    assert [(c.type, c.status, c.reason) for c in conditions(OK)] == [
        ("Accepted", "True", "Valid"),
        ("Ready", "True", "Applied"),
    ]
    assert [(c.type, c.status, c.reason) for c in conditions(BAD)] == [
        ("Accepted", "False", "ReceiverNotFound"),
        ("Ready", "False", "NotAccepted"),
    ]
    ready = Condition("Ready", "False", "Pending", "the silence is pending")
    assert conditions(OK, ready)[1] == ready


def test_first_status_then_nothing_then_a_transition() -> None:
    r = make("AlertRoute", "ns", "r", {}, generation=3)
    update = status_update(r, conditions(BAD), {}, "2030-01-01T00:00:00Z")
    assert update is not None and update.accepted_changed
    status = update.patch["status"]
    assert status["observedGeneration"] == 3
    assert status["conditions"][0] == {
        "type": "Accepted",
        "status": "False",
        "reason": "ReceiverNotFound",
        "message": "Receiver a/b does not exist",
        "lastTransitionTime": "2030-01-01T00:00:00Z",
        "observedGeneration": 3,
    }
    written = make("AlertRoute", "ns", "r", {}, generation=3, status=status)
    assert status_update(written, conditions(BAD), {}, "2030-01-01T00:05:00Z") is None

    # A new generation with the same outcome: rewritten (observedGeneration), no Event.
    newer = make("AlertRoute", "ns", "r", {}, generation=4, status=status)
    update = status_update(newer, conditions(BAD), {}, "2030-01-01T00:05:00Z")
    assert update is not None and not update.accepted_changed
    assert update.patch["status"]["conditions"][0]["lastTransitionTime"] == "2030-01-01T00:00:00Z"

    # Accepted: the transition time moves, an Event is due.
    update = status_update(newer, conditions(OK), {"configName": "ns/r"}, "2030-01-01T00:06:00Z")
    assert update is not None and update.accepted_changed
    assert update.patch["status"]["conditions"][0]["lastTransitionTime"] == "2030-01-01T00:06:00Z"
    assert update.patch["status"]["configName"] == "ns/r"


def test_fields_that_no_longer_apply_are_removed() -> None:
    old = {"observedGeneration": 1, "conditions": [], "silenceID": "x", "state": "active"}
    r = make("Silence", "ns", "s", {}, status=old)
    update = status_update(r, conditions(BAD), {"silenceID": None}, "2030-01-01T00:00:00Z")
    assert update is not None
    assert update.patch["status"]["silenceID"] is None and update.patch["status"]["state"] is None
