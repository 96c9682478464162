// Command journey does the whole Guichet journey through the Go client generated from
// openapi/openapi.json by openapi-generator (sdk/go/generate.sh):
//
//	sdk/go/generate.sh
//	sdk/go/.bin/journey BASE_URL TRIAGER_EMAIL TRIAGER_PASSWORD
//
// The same steps as sdk/python/journey.py and sdk/typescript/journey.ts, plus the typed errors:
// a 404, a 412, a 422 and a 401 must each decode into the generated Problem model. The triager
// must belong to Institut Curie (`curie`): the inquiry asks for curie only, so its referral lands
// there. Prints one line per step; exits 1 with the reason on the first failed check (2 on bad
// arguments).
//
// Only the generated client talks to the server: no hand-written HTTP here. The submitter's
// context carries the tracking token as the `tracking_token` API key (header X-Tracking-Token,
// no prefix); the staff's context carries the access token (Authorization: Bearer).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	guichet "guichet.local/sdk/guichet"
)

const (
	institution    = "curie"
	internalNote   = "INTERNAL-ONLY: PI conflict to check with legal before any reply (journey note)"
	infoRequest    = "Could you share the dosimetry data and the planned number of patients?"
	submitterReply = "Dosimetry data are in our data room; we plan 30 patients over two sites."
)

type journeyFailed struct{ msg string }

func (e journeyFailed) Error() string { return e.msg }

var stepNo int

func step(format string, args ...any) {
	stepNo++
	fmt.Printf("[ok] %2d. %s\n", stepNo, fmt.Sprintf(format, args...))
}

func fail(format string, args ...any) {
	panic(journeyFailed{fmt.Sprintf(format, args...)})
}

func check(cond bool, format string, args ...any) {
	if !cond {
		fail(format, args...)
	}
}

// body returns the response body: the generated client reads it and puts it back.
func body(resp *http.Response) string {
	if resp == nil || resp.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return string(b)
}

func describe(resp *http.Response, err error) string {
	if resp == nil {
		return fmt.Sprintf("no response (%v)", err)
	}
	text := body(resp)
	if len(text) > 800 {
		text = text[:800] + "…"
	}
	s := fmt.Sprintf("HTTP %d %s", resp.StatusCode, text)
	if err != nil {
		s += fmt.Sprintf(" [client error: %v]", err)
	}
	return s
}

// expect checks the status, and that the generated client decoded the documented body
// (err is nil: a body that does not match the model is an error too).
func expect(resp *http.Response, err error, status int, what string) {
	if resp == nil || resp.StatusCode != status {
		fail("%s: expected HTTP %d, got %s", what, status, describe(resp, err))
	}
	if err != nil {
		fail("%s: the generated client could not decode the %d response: %v: %s", what, status, err, describe(resp, nil))
	}
}

// expectProblem checks that a call failed with the status, and that the error carries the
// generated Problem model, decoded from application/problem+json, with the code.
func expectProblem(resp *http.Response, err error, status int, code string, what string) guichet.Problem {
	if resp == nil || resp.StatusCode != status {
		fail("%s: expected HTTP %d, got %s", what, status, describe(resp, err))
	}
	var apiErr *guichet.GenericOpenAPIError
	if !errors.As(err, &apiErr) {
		fail("%s: HTTP %d did not give a *GenericOpenAPIError but %T (%v)", what, status, err, err)
	}
	problem, ok := apiErr.Model().(guichet.Problem)
	if !ok {
		fail("%s: the error's model is %T, not guichet.Problem (%v): %s", what, apiErr.Model(), apiErr, describe(resp, nil))
	}
	ct := resp.Header.Get("Content-Type")
	check(strings.HasPrefix(ct, "application/problem+json"), "%s: Content-Type %q, not application/problem+json", what, ct)
	check(int(problem.Status) == status, "%s: problem.status %d != %d", what, problem.Status, status)
	check(problem.Code == code, "%s: problem.code %q, expected %q (%s)", what, problem.Code, code, problem.Detail)
	check(problem.Type == "urn:guichet:problem:"+problem.Code, "%s: problem.type %q does not name the code %q", what, problem.Type, problem.Code)
	check(problem.RequestId != "" && problem.RequestId == resp.Header.Get("X-Request-Id"),
		"%s: problem.request_id %q != X-Request-Id %q", what, problem.RequestId, resp.Header.Get("X-Request-Id"))
	return problem
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func taxonomyValues(entries []guichet.TaxonomyEntry) []string {
	values := make([]string, 0, len(entries))
	for _, e := range entries {
		values = append(values, e.Value)
	}
	return values
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func run(baseURL, triagerEmail, triagerPassword string) {
	cfg := guichet.NewConfiguration()
	cfg.Servers = guichet.ServerConfigurations{{URL: baseURL}}
	cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	api := guichet.NewAPIClient(cfg)
	public := context.Background()

	// 1. Institutions (every page) and taxonomy.
	var institutionIDs []string
	listInstitutions := api.InstitutionsAPI.InstitutionList(public).Limit(100)
	for {
		page, resp, err := listInstitutions.Execute()
		expect(resp, err, 200, "GET /v1/institutions")
		for _, i := range page.Items {
			institutionIDs = append(institutionIDs, i.Id)
		}
		next := page.GetNextCursor()
		if next == "" {
			break
		}
		listInstitutions = listInstitutions.Cursor(next)
	}
	check(contains(institutionIDs, institution), "institution `%s` is not listed: %v", institution, institutionIDs)
	step("institutions: %d listed (%s)", len(institutionIDs), strings.Join(institutionIDs, ", "))

	taxonomy, resp, err := api.InstitutionsAPI.TaxonomyGet(public).Execute()
	expect(resp, err, 200, "GET /v1/taxonomy")
	for _, want := range []struct {
		field   string
		entries []guichet.TaxonomyEntry
		value   string
	}{
		{"inquiry_types", taxonomy.InquiryTypes, string(guichet.INQUIRYTYPE_CLINICAL_TRIAL)},
		{"therapeutic_areas", taxonomy.TherapeuticAreas, string(guichet.THERAPEUTICAREA_PROSTATE)},
		{"modalities", taxonomy.Modalities, string(guichet.MODALITY_RADIOPHARMACEUTICAL)},
		{"stages", taxonomy.Stages, string(guichet.STAGE_PHASE_1)},
	} {
		values := taxonomyValues(want.entries)
		check(contains(values, want.value), "taxonomy.%s lacks `%s`: %v", want.field, want.value, values)
	}
	step("taxonomy: %d inquiry types, %d therapeutic areas, %d modalities",
		len(taxonomy.InquiryTypes), len(taxonomy.TherapeuticAreas), len(taxonomy.Modalities))

	// 2. Routing preview.
	preview, resp, err := api.InquiriesAPI.RoutingPreview(public).RoutingPreviewRequest(guichet.RoutingPreviewRequest{
		InquiryType:           guichet.INQUIRYTYPE_CLINICAL_TRIAL,
		TherapeuticAreas:      []guichet.TherapeuticArea{guichet.THERAPEUTICAREA_PROSTATE},
		Modalities:            []guichet.Modality{guichet.MODALITY_RADIOPHARMACEUTICAL},
		Stage:                 guichet.STAGE_PHASE_1,
		PreferredInstitutions: []string{institution},
	}).Execute()
	expect(resp, err, 200, "POST /v1/routing/preview")
	var selected []string
	for _, s := range preview.Selected {
		selected = append(selected, s.Institution.Id)
	}
	check(!preview.ToDesk, "the preview sends the inquiry to the desk: %s", preview.GetDeskReason())
	check(len(selected) == 1 && selected[0] == institution, "the preview should select only %s, got %v", institution, selected)
	step("routing preview: selected %v, %d not selected", selected, len(preview.NotSelected))

	// 3. Submission with an idempotency key, then the same again.
	inquiry := guichet.InquiryCreate{
		InquiryType:           guichet.INQUIRYTYPE_CLINICAL_TRIAL,
		TherapeuticAreas:      []guichet.TherapeuticArea{guichet.THERAPEUTICAREA_PROSTATE},
		Modalities:            []guichet.Modality{guichet.MODALITY_RADIOPHARMACEUTICAL},
		Stage:                 guichet.STAGE_PHASE_1,
		PreferredInstitutions: []string{institution},
		Title:                 "Phase 1 trial sites for a PSMA-targeted radioligand",
		Summary: "We are looking for two French sites for a first-in-human trial of a " +
			"lutetium-177 PSMA radioligand in metastatic castration-resistant prostate cancer.",
		Keywords:        []string{"PSMA", "lutetium-177"},
		NonConfidential: true,
		Submitter: guichet.SubmitterInput{
			Organization:     "Helios Therapeutics",
			OrganizationType: guichet.ORGANIZATIONTYPE_BIOTECH,
			Name:             "Dr Anna Keller",
			Email:            "anna.keller@helios-tx.example",
			Country:          "DE",
		},
	}
	idempotencyKey := newUUID()
	submission, resp, err := api.InquiriesAPI.InquiryCreate(public).InquiryCreate(inquiry).IdempotencyKey(idempotencyKey).Execute()
	expect(resp, err, 201, "POST /v1/inquiries")
	location := resp.Header.Get("Location")
	check(submission.TrackingToken != "", "the submission returned no tracking token")
	check(len(submission.Referrals) == 1 && submission.Referrals[0].Institution.Id == institution,
		"expected one referral, at %s: %+v", institution, submission.Referrals)
	inquiryID, referralID, trackingToken := submission.Id, submission.Referrals[0].Id, submission.TrackingToken
	check(submission.Referrals[0].Status == guichet.REFERRALSTATUS_NEW, "a new referral should be `new`, got %s", submission.Referrals[0].Status)
	step("submitted %s (inquiry %s, referral %s at %s, Location %s)", submission.Reference, inquiryID, referralID, institution, location)

	replay, resp, err := api.InquiriesAPI.InquiryCreate(public).InquiryCreate(inquiry).IdempotencyKey(idempotencyKey).Execute()
	expect(resp, err, 201, "POST /v1/inquiries (replay with the same Idempotency-Key)")
	check(replay.Id == inquiryID, "the replay returned another inquiry: %s != %s", replay.Id, inquiryID)
	check(replay.Reference == submission.Reference, "the replay returned another reference")
	step("replayed with the same Idempotency-Key: same inquiry %s", replay.Id)

	// 4. The submitter follows the inquiry with the tracking token.
	submitter := context.WithValue(public, guichet.ContextAPIKeys, map[string]guichet.APIKey{
		"tracking_token": {Key: trackingToken},
	})
	tracked, resp, err := api.InquiriesAPI.InquiryGet(submitter, inquiryID).Execute()
	expect(resp, err, 200, "GET /v1/inquiries/{id}")
	check(tracked.Id == inquiryID && tracked.Reference == submission.Reference, "the tracked inquiry differs")
	check(len(tracked.Referrals) == 1 && tracked.Referrals[0].Id == referralID, "tracked referrals: %+v", tracked.Referrals)
	step("followed with X-Tracking-Token: status %s, referral %s", tracked.Status, tracked.Referrals[0].Status)

	// 5. The curie triager logs in.
	tokens, resp, err := api.AccountsAPI.AuthLogin(public).LoginRequest(guichet.LoginRequest{
		Email: triagerEmail, Password: triagerPassword,
	}).Execute()
	expect(resp, err, 200, "POST /v1/auth/token")
	staff := context.WithValue(public, guichet.ContextAccessToken, tokens.AccessToken)
	me, resp, err := api.AccountsAPI.MeGet(staff).Execute()
	expect(resp, err, 200, "GET /v1/me")
	check(me.Role == guichet.ROLE_TRIAGER, "%s is a %s, not a triager", triagerEmail, me.Role)
	check(me.GetInstitutionId() == institution, "%s belongs to %q, not %s", triagerEmail, me.GetInstitutionId(), institution)
	step("logged in as %s (%s at %s)", me.Email, me.Role, me.GetInstitutionId())

	// 6. The queue.
	var found *guichet.ReferralQueueItem
	seen := 0
	listReferrals := api.ReferralsAPI.ReferralList(staff).Limit(100)
	for found == nil {
		page, resp, err := listReferrals.Execute()
		expect(resp, err, 200, "GET /v1/referrals")
		seen += len(page.Items)
		for i := range page.Items {
			if page.Items[i].Id == referralID {
				found = &page.Items[i]
			}
		}
		next := page.GetNextCursor()
		if next == "" {
			break
		}
		listReferrals = listReferrals.Cursor(next)
	}
	check(found != nil, "referral %s is not in the triager's queue (%d items seen)", referralID, seen)
	check(found.InquiryId == inquiryID, "queue item inquiry_id %s != %s", found.InquiryId, inquiryID)
	check(found.Institution.Id == institution, "queue item institution %s", found.Institution.Id)
	check(found.Status == guichet.REFERRALSTATUS_NEW, "queue item status %s != new", found.Status)
	step("queue: referral %s found among %d (%s, due %s)", found.Reference, seen, found.Status, found.FirstResponseDueAt.Format(time.RFC3339))

	// 7. The referral and its ETag (a response header: read from the *http.Response).
	detail, resp, err := api.ReferralsAPI.ReferralGet(staff, referralID).Execute()
	expect(resp, err, 200, "GET /v1/referrals/{id}")
	etag := resp.Header.Get("ETag")
	check(etag != "", "GET /v1/referrals/{id} has no ETag header")
	check(etag == fmt.Sprintf("%q", fmt.Sprint(detail.Version)), "the ETag %s is not the quoted version %d", etag, detail.Version)
	check(detail.Status == guichet.REFERRALSTATUS_NEW, "referral status %s != new", detail.Status)
	check(contains(detail.AllowedTransitions, guichet.REFERRALSTATUS_ACKNOWLEDGED),
		"`acknowledged` is not among the allowed transitions %v", detail.AllowedTransitions)
	step("referral %s: status new, ETag %s, allowed transitions %v", detail.Id, etag, detail.AllowedTransitions)

	// 8. Transitions with If-Match.
	transition := func(to guichet.ReferralStatus, ifMatch string, message string) string {
		request := guichet.TransitionRequest{To: to}
		if message != "" {
			request.SetMessage(message)
		}
		result, resp, err := api.ReferralsAPI.ReferralTransition(staff, referralID).
			IfMatch(ifMatch).TransitionRequest(request).Execute()
		expect(resp, err, 200, fmt.Sprintf("POST /v1/referrals/{id}/transitions to `%s`", to))
		check(result.Status == to, "after the transition to `%s` the status is %s", to, result.Status)
		newETag := resp.Header.Get("ETag")
		check(newETag != "" && newETag != ifMatch, "the transition to `%s` gave no new ETag (%q)", to, newETag)
		return newETag
	}
	oldETag := etag
	etag = transition(guichet.REFERRALSTATUS_ACKNOWLEDGED, etag, "")
	step("transitioned to acknowledged with If-Match %s: new ETag %s", oldETag, etag)

	_, resp, err = api.ReferralsAPI.ReferralTransition(staff, referralID).IfMatch(oldETag).
		TransitionRequest(guichet.TransitionRequest{To: guichet.REFERRALSTATUS_IN_REVIEW}).Execute()
	stale := expectProblem(resp, err, 412, "stale_version", "a stale If-Match")
	step("a stale If-Match is refused: 412, decoded as a Problem (%s: %s)", stale.Code, stale.Detail)

	etag = transition(guichet.REFERRALSTATUS_IN_REVIEW, etag, "")
	step("transitioned to in_review: ETag %s", etag)
	etag = transition(guichet.REFERRALSTATUS_INFO_REQUESTED, etag, infoRequest)
	step("transitioned to info_requested with a message to the submitter: ETag %s", etag)

	// 9. An internal note.
	note, resp, err := api.ReferralsAPI.ReferralMessageCreate(staff, referralID).StaffMessageCreate(guichet.StaffMessageCreate{
		Body: internalNote, Visibility: guichet.VISIBILITY_INTERNAL,
	}).Execute()
	expect(resp, err, 201, "POST /v1/referrals/{id}/messages (internal)")
	check(note.Visibility == guichet.VISIBILITY_INTERNAL, "the note is %s, not internal", note.Visibility)
	step("internal note posted (%s)", note.Id)

	// 10. The submitter replies: the referral goes back to in_review.
	reply, resp, err := api.InquiriesAPI.InquiryMessageCreate(submitter, inquiryID, referralID).
		MessageCreate(guichet.MessageCreate{Body: submitterReply}).Execute()
	expect(resp, err, 201, "POST /v1/inquiries/{id}/referrals/{rid}/messages")
	check(reply.Author == guichet.AUTHOR_SUBMITTER && reply.Visibility == guichet.VISIBILITY_EXTERNAL,
		"the reply is not an external submitter message: %s/%s", reply.Author, reply.Visibility)
	after, resp, err := api.ReferralsAPI.ReferralGet(staff, referralID).Execute()
	expect(resp, err, 200, "GET /v1/referrals/{id}")
	check(after.Status == guichet.REFERRALSTATUS_IN_REVIEW, "after the submitter's reply the referral is %s, not in_review", after.Status)
	var staffBodies []string
	for _, m := range after.Messages {
		staffBodies = append(staffBodies, m.Body)
	}
	for _, text := range []string{infoRequest, internalNote, submitterReply} {
		check(contains(staffBodies, text), "the staff view lacks the message %q: %q", text, staffBodies)
	}
	step("submitter replied: referral back to in_review; staff see %d messages", len(after.Messages))

	// 11. The submitter's view: external messages, never the internal note.
	view, resp, err := api.InquiriesAPI.InquiryGet(submitter, inquiryID).Execute()
	expect(resp, err, 200, "GET /v1/inquiries/{id}")
	raw := body(resp)
	var referralView *guichet.TrackedReferralView
	for i := range view.Referrals {
		if view.Referrals[i].Id == referralID {
			referralView = &view.Referrals[i]
		}
	}
	check(referralView != nil, "the submitter's view lacks referral %s", referralID)
	var bodies []string
	for _, m := range referralView.Messages {
		bodies = append(bodies, m.Body)
	}
	check(contains(bodies, infoRequest), "the submitter does not see the information request: %q", bodies)
	check(contains(bodies, submitterReply), "the submitter does not see their reply: %q", bodies)
	check(!contains(bodies, internalNote), "LEAK: the submitter's view lists the internal note")
	check(!strings.Contains(raw, internalNote) && !strings.Contains(raw, "INTERNAL-ONLY"),
		"LEAK: the internal note's text appears in the submitter's response")
	check(referralView.Status == guichet.REFERRALSTATUS_IN_REVIEW, "the submitter sees %s", referralView.Status)
	step("submitter's view: %d external messages, no internal note", len(bodies))

	// 12. Typed errors: problem+json bodies decode into guichet.Problem.
	_, resp, err = api.ReferralsAPI.ReferralGet(staff, newUUID()).Execute()
	notFound := expectProblem(resp, err, 404, "not_found", "GET /v1/referrals/{unknown id}")
	_, resp, err = api.InquiriesAPI.InquiryGet(submitter, newUUID()).Execute()
	expectProblem(resp, err, 404, "not_found", "GET /v1/inquiries/{unknown id} with a tracking token")
	step("unknown referral and inquiry: 404 decoded as a Problem (%s, request %s)", notFound.Code, notFound.RequestId)

	invalid := inquiry
	invalid.NonConfidential = false
	invalid.Submitter.Email = "not an email"
	_, resp, err = api.InquiriesAPI.InquiryCreate(public).InquiryCreate(invalid).IdempotencyKey(newUUID()).Execute()
	validation := expectProblem(resp, err, 422, "validation_failed", "POST /v1/inquiries (invalid)")
	var pointers []string
	for _, fe := range validation.Errors {
		check(fe.Code != "" && fe.Message != "", "a field error without code or message: %+v", fe)
		pointers = append(pointers, fe.Pointer)
	}
	check(contains(pointers, "/non_confidential") && contains(pointers, "/submitter/email"),
		"the 422 should point at /non_confidential and /submitter/email, got %v", pointers)
	step("an invalid inquiry: 422 decoded as a Problem with field errors %v", pointers)

	// 13. The contract itself, through the generated client.
	document, resp, err := api.OperationsAPI.OpenapiGet(public).Execute()
	expect(resp, err, 200, "GET /openapi.json")
	check(strings.HasPrefix(document.Openapi, "3.1"), "GET /openapi.json: openapi %q", document.Openapi)
	_, hasComponents := document.AdditionalProperties["components"]
	check(len(document.Paths) > 0 && hasComponents, "GET /openapi.json: %d paths, components present: %v", len(document.Paths), hasComponents)
	step("GET /openapi.json decodes: OpenAPI %s, %d paths", document.Openapi, len(document.Paths))

	// 14. Log out; the token stops working.
	logout := guichet.LogoutRequest{}
	logout.SetRefreshToken(tokens.RefreshToken)
	resp, err = api.AccountsAPI.AuthLogout(staff).LogoutRequest(logout).Execute()
	if resp == nil || resp.StatusCode != 204 || err != nil {
		fail("POST /v1/auth/logout: expected HTTP 204, got %s", describe(resp, err))
	}
	_, resp, err = api.AccountsAPI.MeGet(staff).Execute()
	expectProblem(resp, err, 401, "invalid_token", "GET /v1/me after logout")
	step("logged out: the access token is refused (401, decoded as a Problem)")

	fmt.Printf("journey passed: %d steps against %s\n", stepNo, baseURL)
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintf(os.Stderr, "usage: %s BASE_URL TRIAGER_EMAIL TRIAGER_PASSWORD\n", os.Args[0])
		os.Exit(2)
	}
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(journeyFailed); ok {
				fmt.Fprintf(os.Stderr, "[FAILED] step %d: %s\n", stepNo+1, f.msg)
			} else {
				fmt.Fprintf(os.Stderr, "[FAILED] step %d: %v\n", stepNo+1, r)
			}
			os.Exit(1)
		}
	}()
	run(strings.TrimRight(os.Args[1], "/"), os.Args[2], os.Args[3])
}
