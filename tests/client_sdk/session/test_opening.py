from __future__ import annotations

from client_sdk.session.opening import Opening, step1_cost
from sync.protocol import Authenticated, PermissionDenied, Sync, SyncStep

VECTOR = b"\x01\x8f\xc4\xa7\x9b\x04\x03"


def names(count: int) -> list[str]:
    return [f"work_order:WO-{number:05d}" for number in range(count)]


def test_before_any_answer_step1s_stay_within_the_budget() -> None:
    queued = names(100)
    cost = step1_cost(queued[0], VECTOR)
    opening = Opening(budget=10 * cost + 5)
    chosen = opening.choose(queued, dict.fromkeys(queued, VECTOR))
    assert chosen == queued[:10]
    assert opening.choose(queued[10:], dict.fromkeys(queued, VECTOR)) == [], "nothing was answered: no room"


def test_a_denied_auth_frees_its_room_and_the_first_authenticated_opens_the_rest() -> None:
    queued = names(100)
    vectors = dict.fromkeys(queued, VECTOR)
    opening = Opening(budget=10 * step1_cost(queued[0], VECTOR))
    opening.choose(queued, vectors)
    assert not opening.answered(Sync(queued[0], SyncStep.STEP2, b"")), "only Auth answers count"
    assert opening.answered(PermissionDenied(queued[0], "forbidden: no"))
    assert opening.choose(queued[10:], vectors) == queued[10:11]
    assert opening.answered(Authenticated(queued[1], "read-write"))
    assert opening.choose(queued[11:], vectors) == queued[11:], "authenticated: everything opens at once"


def test_one_document_opens_whatever_its_size() -> None:
    opening = Opening(budget=10)
    assert opening.choose(["work_order:WO-1", "work_order:WO-2"], {"work_order:WO-1": VECTOR, "work_order:WO-2": VECTOR}) == [
        "work_order:WO-1"]
