"""Id tag verdicts: Accepted / Blocked / Expired / Invalid, expiry dates, partner scope.

The rule is written once (core.domain.charging.evaluate_id_tag); both versions must map it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain.enums import IdTagStatus
from tests.integration.csms.support import Csms, iso, raw_client, seed_station

FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
PAST = datetime(2020, 1, 1, tzinfo=UTC)

TAGS: dict[str, dict[str, Any]] = {
    "OK": {},
    "OK-UNTIL": {"expires_at": FUTURE, "parent_id_tag": "FLEET-7"},
    "BLOCKED": {"status": IdTagStatus.BLOCKED.value},
    "EXPIRED": {"status": IdTagStatus.EXPIRED.value},
    "LAPSED": {"expires_at": PAST},
    "INVALID": {"status": IdTagStatus.INVALID.value},
}


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("OK", {"status": "Accepted"}),
        (
            "OK-UNTIL",
            {
                "status": "Accepted",
                "expiryDate": "2099-01-01T00:00:00.000Z",
                "parentIdTag": "FLEET-7",
            },
        ),
        ("BLOCKED", {"status": "Blocked"}),
        ("EXPIRED", {"status": "Expired"}),
        ("LAPSED", {"status": "Expired", "expiryDate": "2020-01-01T00:00:00.000Z"}),
        ("INVALID", {"status": "Invalid"}),
        ("UNKNOWN", {"status": "Invalid"}),
        ("FOREIGN", {"status": "Invalid"}),
    ],
)
async def test_v16_authorize(csms: Csms, tag: str, expected: dict[str, str]) -> None:
    seeded = await seed_station(csms.resources, id_tags=TAGS)
    # A tag of another partner is unknown here, whatever its status there.
    await seed_station(csms.resources, id_tags={"FOREIGN": {}})
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        answer = await client.call("Authorize", {"idTag": tag})
    assert answer[2] == {"idTagInfo": expected}


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("OK", {"status": "Accepted"}),
        (
            "OK-UNTIL",
            {
                "status": "Accepted",
                "cacheExpiryDateTime": "2099-01-01T00:00:00.000Z",
                "groupIdToken": {"idToken": "FLEET-7", "type": "Central"},
            },
        ),
        ("BLOCKED", {"status": "Blocked"}),
        ("LAPSED", {"status": "Expired", "cacheExpiryDateTime": "2020-01-01T00:00:00.000Z"}),
        ("UNKNOWN", {"status": "Invalid"}),
    ],
)
async def test_v201_authorize(csms: Csms, tag: str, expected: dict[str, object]) -> None:
    seeded = await seed_station(csms.resources, id_tags=TAGS)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp2.0.1") as client:
        answer = await client.call("Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}})
    assert answer[2] == {"idTokenInfo": expected}


async def test_start_with_a_blocked_tag_is_recorded_and_answered_blocked(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags=TAGS)
    at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        answer = await client.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "BLOCKED", "meterStart": 0, "timestamp": iso(at)},
        )
    assert answer[2]["idTagInfo"] == {"status": "Blocked"}
    rows = await csms.fetch(
        "SELECT id_tag, id_tag_status FROM transaction WHERE station_id = :id",
        id=seeded.station_id,
    )
    # The charger may already be charging: the session is kept, with the verdict it got.
    assert [dict(r) for r in rows] == [{"id_tag": "BLOCKED", "id_tag_status": "Blocked"}]


async def test_v201_transaction_event_answers_the_token_verdict(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags=TAGS)
    at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    event = {
        "eventType": "Started",
        "timestamp": iso(at),
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "T-EXP"},
        "evse": {"id": 1},
        "idToken": {"idToken": "EXPIRED", "type": "ISO14443"},
    }
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp2.0.1") as client:
        answer = await client.call("TransactionEvent", event)
        # "No authorization" is not a token to look up: no verdict in the answer.
        free = await client.call(
            "TransactionEvent",
            {
                **event,
                "transactionInfo": {"transactionId": "T-FREE"},
                "timestamp": iso(at + timedelta(minutes=1)),
                "idToken": {"idToken": "", "type": "NoAuthorization"},
            },
        )
    assert answer[2] == {"idTokenInfo": {"status": "Expired"}}
    assert free[2] == {}
    rows = await csms.fetch(
        "SELECT transaction_id, id_tag, id_tag_status FROM transaction WHERE station_id = :id "
        "ORDER BY transaction_id",
        id=seeded.station_id,
    )
    assert [dict(r) for r in rows] == [
        {"transaction_id": "T-EXP", "id_tag": "EXPIRED", "id_tag_status": "Expired"},
        {"transaction_id": "T-FREE", "id_tag": None, "id_tag_status": None},
    ]
