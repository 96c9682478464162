//! The queue: the API's filters, search, sort and keyset pages, with counts per status and
//! overdue and due-soon work highlighted.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::api::referrals::{QueueQuery, encode_queue_cursor};
use crate::api::views::{InstitutionView, ReferralQueueItem};
use crate::console::render::page;
use crate::console::session::{Console, query};
use crate::domain::taxonomy::{InquiryType, Modality, ReferralStatus, TherapeuticArea};
use crate::error::Error;
use crate::service::{self, Guichet};

/// A referral is due soon when its first response is due within this many hours.
pub const DUE_SOON_HOURS: i64 = 24;

/// The query string without its cursor: what the next page link keeps.
fn without_cursor(raw: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).unwrap_or_default();
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| k != "cursor" && !v.trim().is_empty())
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

pub async fn queue(
    req: HttpRequest,
    g: web::Data<Guichet>,
    console: Console,
) -> Result<HttpResponse, Error> {
    let q: QueueQuery = query(req.query_string())?;
    let request = q.resolve()?;
    let selected: Vec<String> = request
        .filter
        .statuses
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    let result =
        service::triage::referral_list(&g, &console.staff, q.institution.clone(), request).await?;
    let (counts, overdue, decision_overdue) =
        service::triage::referral_summary(&g, &console.staff, q.institution.clone()).await?;
    let now = chrono::Utc::now();
    let soon = now + chrono::Duration::hours(DUE_SOON_HOURS);
    let items: Vec<serde_json::Value> = result
        .items
        .into_iter()
        .map(|i| {
            let view = ReferralQueueItem::new(i, now.naive_utc());
            let due_soon =
                !view.overdue && view.status.is_open() && view.first_response_due_at <= soon;
            let mut v = serde_json::to_value(&view).unwrap_or_default();
            v["due_soon"] = json!(due_soon);
            v
        })
        .collect();
    let next = result.next_after.as_ref().map(|c| {
        let base = without_cursor(req.query_string());
        let cursor = encode_queue_cursor(c, &q.filters_digest());
        let cursor = serde_urlencoded::to_string([("cursor", cursor)]).unwrap_or_default();
        if base.is_empty() {
            format!("/console/queue?{cursor}")
        } else {
            format!("/console/queue?{base}&{cursor}")
        }
    });
    let institutions: Vec<InstitutionView> = if console.staff.institution_id.is_none() {
        service::institutions::institution_list(&g)
            .await?
            .into_iter()
            .map(Into::into)
            .collect()
    } else {
        Vec::new()
    };
    let counts: Vec<serde_json::Value> = ReferralStatus::ALL
        .iter()
        .map(|s| json!({"status": s, "count": counts.get(s).copied().unwrap_or(0)}))
        .collect();
    page(
        &console,
        "queue.html",
        json!({
            "nav": "queue",
            "items": items,
            "next": next,
            "counts": counts,
            "overdue": overdue,
            "decision_overdue": decision_overdue,
            "due_soon_hours": DUE_SOON_HOURS,
            "filters": {
                "status": selected,
                "q": q.q,
                "reference": q.reference,
                "inquiry_type": q.inquiry_type,
                "therapeutic_area": q.therapeutic_area,
                "modality": q.modality,
                "assigned": q.assigned,
                "unassigned": q.unassigned,
                "overdue": q.overdue,
                "decision_overdue": q.decision_overdue,
                "sort": match q.sort { Some(crate::api::referrals::QueueSortParam::Newest) => "newest", _ => "due" },
                "institution": q.institution,
                "limit": q.limit,
            },
            "vocab": {
                "status": ReferralStatus::ALL,
                "inquiry_type": InquiryType::ALL,
                "therapeutic_area": TherapeuticArea::ALL,
                "modality": Modality::ALL,
            },
            "institutions": institutions,
        }),
    )
}
