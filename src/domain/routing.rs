// TEMPORARY placeholder until the routing module lands (replaced by the real module).
use std::collections::BTreeMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use crate::domain::taxonomy::*;
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingProfile {
    pub accepted_inquiry_types: Vec<InquiryType>,
    pub therapeutic_area_weights: BTreeMap<TherapeuticArea, u8>,
    pub modality_weights: BTreeMap<Modality, u8>,
    #[serde(default)]
    pub stage_preferences: BTreeMap<Stage, u8>,
    pub threshold: u8,
}
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct Expertise {
    #[serde(default)]
    pub inquiry_types: Vec<InquiryType>,
    #[serde(default)]
    pub therapeutic_areas: Vec<TherapeuticArea>,
    #[serde(default)]
    pub modalities: Vec<Modality>,
}
