#!/usr/bin/env python3
"""The whole Guichet journey, through the Python client generated from openapi/openapi.json.

    sdk/python/generate.sh
    sdk/python/.venv/bin/python sdk/python/journey.py BASE_URL TRIAGER_EMAIL TRIAGER_PASSWORD

The triager must belong to Institut Curie (`curie`): the inquiry asks for curie only, so its
referral lands there. Prints one line per step; exits 1 with the reason on the first failed
check (2 on bad arguments).

Only the generated client talks to the server: no raw HTTP here. The submitter follows the
inquiry with an `AuthenticatedClient` whose header is `X-Tracking-Token` (no prefix); staff use
the usual `Authorization: Bearer`.
"""

from __future__ import annotations

import argparse
import sys
import typing
import uuid
from typing import Any

import guichet_client
from guichet_client import AuthenticatedClient, Client
from guichet_client.api.accounts import auth_login, auth_logout, me_get
from guichet_client.api.inquiries import (
    inquiry_create,
    inquiry_get,
    inquiry_message_create,
    routing_preview,
)
from guichet_client.api.institutions import institution_list, taxonomy_get
from guichet_client.api.referrals import (
    referral_get,
    referral_list,
    referral_message_create,
    referral_transition,
)
from guichet_client.models import (
    InquiryCreate,
    LoginRequest,
    LogoutRequest,
    MessageCreate,
    RoutingPreviewRequest,
    StaffMessageCreate,
    TransitionRequest,
)
from guichet_client.types import Response

INSTITUTION = "curie"
INTERNAL_NOTE = "INTERNAL-ONLY: PI conflict to check with legal before any reply (journey note)"
INFO_REQUEST = "Could you share the dosimetry data and the planned number of patients?"
SUBMITTER_REPLY = "Dosimetry data are in our data room; we plan 30 patients over two sites."


class JourneyFailed(Exception):
    pass


_step_no = 0


def step(text: str) -> None:
    global _step_no
    _step_no += 1
    print(f"[ok] {_step_no:2d}. {text}", flush=True)


def fail(text: str) -> typing.NoReturn:
    raise JourneyFailed(text)


def check(condition: bool, text: str) -> None:
    if not condition:
        fail(text)


def describe(resp: Response[Any]) -> str:
    body = resp.content.decode("utf-8", "replace")
    if len(body) > 800:
        body = body[:800] + "…"
    return f"HTTP {int(resp.status_code)} {body}"


def expect(resp: Response[Any], status: int, what: str) -> Any:
    """Checks the status and that the generated client parsed the documented body."""
    if int(resp.status_code) != status:
        fail(f"{what}: expected HTTP {status}, got {describe(resp)}")
    if status != 204 and resp.parsed is None:
        fail(f"{what}: the generated client could not parse the {status} response: {describe(resp)}")
    return resp.parsed


def header(resp: Response[Any], name: str) -> str | None:
    return resp.headers.get(name)


def value(x: Any) -> Any:
    """An enum member's value, or the thing itself."""
    return getattr(x, "value", x)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base_url", help="for example http://127.0.0.1:8080")
    parser.add_argument("triager_email", help="a triager of Institut Curie")
    parser.add_argument("triager_password")
    args = parser.parse_args(argv)
    base_url = args.base_url.rstrip("/")

    public = Client(base_url=base_url, timeout=30.0)

    # 1. Institutions (every page) and taxonomy.
    # Note: the contract marks these public operations `security: [{}]`, which the generator
    # types as `client: AuthenticatedClient`; a plain `Client` works at run time.
    institution_ids: list[str] = []
    cursor: Any = guichet_client.types.UNSET
    while True:
        page = expect(
            institution_list.sync_detailed(client=public, limit=100, cursor=cursor),  # type: ignore[arg-type]
            200,
            "GET /v1/institutions",
        )
        institution_ids += [i.id for i in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    check(INSTITUTION in institution_ids, f"institution `{INSTITUTION}` is not listed: {institution_ids}")
    step(f"institutions: {len(institution_ids)} listed ({', '.join(institution_ids)})")

    taxonomy = expect(taxonomy_get.sync_detailed(client=public), 200, "GET /v1/taxonomy")  # type: ignore[arg-type]
    for field, wanted in (
        ("inquiry_types", "clinical_trial"),
        ("therapeutic_areas", "prostate"),
        ("modalities", "radiopharmaceutical"),
        ("stages", "phase_1"),
    ):
        values = [value(e.value) for e in getattr(taxonomy, field)]
        check(wanted in values, f"taxonomy.{field} lacks `{wanted}`: {values}")
    step(
        f"taxonomy: {len(taxonomy.inquiry_types)} inquiry types, "
        f"{len(taxonomy.therapeutic_areas)} therapeutic areas, {len(taxonomy.modalities)} modalities"
    )

    # 2. Routing preview.
    routing_fields = {
        "inquiry_type": "clinical_trial",
        "therapeutic_areas": ["prostate"],
        "modalities": ["radiopharmaceutical"],
        "stage": "phase_1",
        "preferred_institutions": [INSTITUTION],
    }
    preview = expect(
        routing_preview.sync_detailed(
            client=public,  # type: ignore[arg-type]
            body=RoutingPreviewRequest.from_dict(routing_fields),
        ),
        200,
        "POST /v1/routing/preview",
    )
    selected = [s.institution.id for s in preview.selected]
    check(not preview.to_desk, f"the preview sends the inquiry to the desk: {preview.desk_reason}")
    check(selected == [INSTITUTION], f"the preview should select only {INSTITUTION}, got {selected}")
    step(f"routing preview: selected {selected}, {len(preview.not_selected)} not selected")

    # 3. Submission with an idempotency key, then the same again.
    inquiry = InquiryCreate.from_dict(
        {
            **routing_fields,
            "title": "Phase 1 trial sites for a PSMA-targeted radioligand",
            "summary": "We are looking for two French sites for a first-in-human trial of a "
            "lutetium-177 PSMA radioligand in metastatic castration-resistant prostate cancer.",
            "keywords": ["PSMA", "lutetium-177"],
            "non_confidential": True,
            "submitter": {
                "organization": "Helios Therapeutics",
                "organization_type": "biotech",
                "name": "Dr Anna Keller",
                "email": "anna.keller@helios-tx.example",
                "country": "DE",
            },
        }
    )
    idempotency_key = str(uuid.uuid4())
    first = inquiry_create.sync_detailed(client=public, body=inquiry, idempotency_key=idempotency_key)  # type: ignore[arg-type]
    submission = expect(first, 201, "POST /v1/inquiries")
    check(bool(submission.tracking_token), "the submission returned no tracking token")
    referrals = [r for r in submission.referrals if r.institution.id == INSTITUTION]
    check(
        len(referrals) == 1 and len(submission.referrals) == 1,
        f"expected one referral, at {INSTITUTION}: {[r.institution.id for r in submission.referrals]}",
    )
    inquiry_id, referral_id, tracking_token = submission.id, referrals[0].id, submission.tracking_token
    check(value(referrals[0].status) == "new", f"a new referral should be `new`, got {value(referrals[0].status)}")
    step(
        f"submitted {submission.reference} (inquiry {inquiry_id}, referral {referral_id} at "
        f"{INSTITUTION}, Location {header(first, 'location')})"
    )

    replay = expect(
        inquiry_create.sync_detailed(client=public, body=inquiry, idempotency_key=idempotency_key),  # type: ignore[arg-type]
        201,
        "POST /v1/inquiries (replay with the same Idempotency-Key)",
    )
    check(replay.id == inquiry_id, f"the replay returned another inquiry: {replay.id} != {inquiry_id}")
    check(replay.reference == submission.reference, "the replay returned another reference")
    step(f"replayed with the same Idempotency-Key: same inquiry {replay.id}")

    # 4. The submitter follows the inquiry with the tracking token.
    submitter = AuthenticatedClient(
        base_url=base_url, token=tracking_token, prefix="", auth_header_name="X-Tracking-Token", timeout=30.0
    )
    tracked = expect(inquiry_get.sync_detailed(inquiry_id, client=submitter), 200, "GET /v1/inquiries/{id}")
    check(tracked.id == inquiry_id and tracked.reference == submission.reference, "the tracked inquiry differs")
    check([r.id for r in tracked.referrals] == [referral_id], f"tracked referrals: {[r.id for r in tracked.referrals]}")
    step(f"followed with X-Tracking-Token: status {value(tracked.status)}, referral {value(tracked.referrals[0].status)}")

    # 5. The curie triager logs in.
    tokens = expect(
        auth_login.sync_detailed(
            client=public,
            body=LoginRequest.from_dict({"email": args.triager_email, "password": args.triager_password}),
        ),
        200,
        "POST /v1/auth/token",
    )
    staff = AuthenticatedClient(base_url=base_url, token=tokens.access_token, timeout=30.0)
    me = expect(me_get.sync_detailed(client=staff), 200, "GET /v1/me")
    check(value(me.role) == "triager", f"{args.triager_email} is a {value(me.role)}, not a triager")
    check(me.institution_id == INSTITUTION, f"{args.triager_email} belongs to {me.institution_id}, not {INSTITUTION}")
    step(f"logged in as {me.email} ({value(me.role)} at {me.institution_id})")

    # 6. The queue.
    found = None
    seen = 0
    cursor = guichet_client.types.UNSET
    while found is None:
        page = expect(
            referral_list.sync_detailed(client=staff, limit=100, cursor=cursor), 200, "GET /v1/referrals"
        )
        seen += len(page.items)
        found = next((item for item in page.items if item.id == referral_id), None)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    check(found is not None, f"referral {referral_id} is not in the triager's queue ({seen} items seen)")
    check(found.inquiry_id == inquiry_id, f"queue item inquiry_id {found.inquiry_id} != {inquiry_id}")
    check(found.institution.id == INSTITUTION, f"queue item institution {found.institution.id}")
    check(value(found.status) == "new", f"queue item status {value(found.status)} != new")
    step(f"queue: referral {found.reference} found among {seen} ({value(found.status)}, due {found.first_response_due_at})")

    # 7. The referral and its ETag.
    got = referral_get.sync_detailed(referral_id, client=staff)
    detail = expect(got, 200, "GET /v1/referrals/{id}")
    etag = header(got, "etag")
    check(bool(etag), "GET /v1/referrals/{id} has no ETag header")
    check(value(detail.status) == "new", f"referral status {value(detail.status)} != new")
    allowed = [value(t) for t in detail.allowed_transitions]
    check("acknowledged" in allowed, f"`acknowledged` is not among the allowed transitions {allowed}")
    step(f"referral {detail.id}: status new, ETag {etag}, allowed transitions {allowed}")

    # 8. Transitions with If-Match.
    def transition(to: str, if_match: str, message: str | None = None) -> tuple[Any, str]:
        fields: dict[str, Any] = {"to": to}
        if message is not None:
            fields["message"] = message
        resp = referral_transition.sync_detailed(
            referral_id, client=staff, body=TransitionRequest.from_dict(fields), if_match=if_match
        )
        result = expect(resp, 200, f"POST /v1/referrals/{{id}}/transitions to `{to}`")
        check(value(result.status) == to, f"after the transition to `{to}` the status is {value(result.status)}")
        new_etag = header(resp, "etag")
        check(bool(new_etag) and new_etag != if_match, f"the transition to `{to}` gave no new ETag ({new_etag})")
        return result, new_etag

    old_etag = etag
    _, etag = transition("acknowledged", etag)
    step(f"transitioned to acknowledged with If-Match {old_etag}: new ETag {etag}")

    stale = referral_transition.sync_detailed(
        referral_id, client=staff, body=TransitionRequest.from_dict({"to": "in_review"}), if_match=old_etag
    )
    check(int(stale.status_code) == 412, f"a stale If-Match should be 412, got {describe(stale)}")
    step("a stale If-Match is refused: 412")

    _, etag = transition("in_review", etag)
    step(f"transitioned to in_review: ETag {etag}")
    _, etag = transition("info_requested", etag, message=INFO_REQUEST)
    step(f"transitioned to info_requested with a message to the submitter: ETag {etag}")

    # 9. An internal note.
    note = expect(
        referral_message_create.sync_detailed(
            referral_id,
            client=staff,
            body=StaffMessageCreate.from_dict({"body": INTERNAL_NOTE, "visibility": "internal"}),
        ),
        201,
        "POST /v1/referrals/{id}/messages (internal)",
    )
    check(value(note.visibility) == "internal", f"the note is {value(note.visibility)}, not internal")
    step(f"internal note posted ({note.id})")

    # 10. The submitter replies: the referral goes back to in_review.
    reply = expect(
        inquiry_message_create.sync_detailed(
            inquiry_id, referral_id, client=submitter, body=MessageCreate.from_dict({"body": SUBMITTER_REPLY})
        ),
        201,
        "POST /v1/inquiries/{id}/referrals/{rid}/messages",
    )
    check(value(reply.author) == "submitter" and value(reply.visibility) == "external", "the reply is not an external submitter message")
    after = expect(referral_get.sync_detailed(referral_id, client=staff), 200, "GET /v1/referrals/{id}")
    check(value(after.status) == "in_review", f"after the submitter's reply the referral is {value(after.status)}, not in_review")
    staff_bodies = [m.body for m in after.messages]
    for text in (INFO_REQUEST, INTERNAL_NOTE, SUBMITTER_REPLY):
        check(text in staff_bodies, f"the staff view lacks the message {text!r}: {staff_bodies}")
    step(f"submitter replied: referral back to in_review; staff see {len(after.messages)} messages")

    # 11. The submitter's view: external messages, never the internal note.
    view_resp = inquiry_get.sync_detailed(inquiry_id, client=submitter)
    view = expect(view_resp, 200, "GET /v1/inquiries/{id}")
    referral_view = next(r for r in view.referrals if r.id == referral_id)
    bodies = [m.body for m in referral_view.messages]
    check(INFO_REQUEST in bodies, f"the submitter does not see the information request: {bodies}")
    check(SUBMITTER_REPLY in bodies, f"the submitter does not see their reply: {bodies}")
    check(INTERNAL_NOTE not in bodies, "LEAK: the submitter's view lists the internal note")
    check(
        INTERNAL_NOTE.encode() not in view_resp.content and b"INTERNAL-ONLY" not in view_resp.content,
        "LEAK: the internal note's text appears in the submitter's response",
    )
    check(value(referral_view.status) == "in_review", f"the submitter sees {value(referral_view.status)}")
    step(f"submitter's view: {len(bodies)} external messages, no internal note")

    # 12. Log out; the token stops working.
    expect(
        auth_logout.sync_detailed(client=staff, body=LogoutRequest.from_dict({"refresh_token": tokens.refresh_token})),
        204,
        "POST /v1/auth/logout",
    )
    denied = me_get.sync_detailed(client=staff)
    check(int(denied.status_code) == 401, f"after logout GET /v1/me should be 401, got {describe(denied)}")
    step("logged out: the access token is refused (401)")

    print(f"journey passed: {_step_no} steps against {base_url}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except JourneyFailed as exc:
        print(f"[FAILED] step {_step_no + 1}: {exc}", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # a transport error or a client bug: still a clear one-line reason
        print(f"[FAILED] step {_step_no + 1}: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
