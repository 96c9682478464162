//! The one catalogue of what Guichet says to people, in English and in French: the labels of
//! every vocabulary, the sentences of routing, problem details and field messages.
//!
//! A sentence is a [`Msg`]: a typed key with its arguments (names, states, taxonomy values),
//! rendered in a [`Locale`] only when a response is written. The same `Msg` can be stored (a
//! routing decision keeps its reasons as messages) and rendered again, later, in the reader's
//! language. Machine-readable codes never go through here.
//!
//! Each entry is written once, with both languages side by side; the tests check that every
//! key and every problem code has its French text, with the same placeholders as the English.

use serde::{Deserialize, Serialize};

use super::taxonomy::{
    ActorKind, AuditAction, AuditObjectType, DeclineReason, EventType, InquiryType, Locale,
    Modality, OrganizationType, ReferralStatus, Role, Stage, TherapeuticArea, WithdrawalReason,
};

/// Something that goes into a sentence, rendered in the sentence's language.
pub trait Arg {
    fn render(&self, locale: Locale) -> String;
}

impl Arg for String {
    fn render(&self, _: Locale) -> String {
        self.clone()
    }
}

macro_rules! number_arg {
    ($($t:ty),+) => {
        $(impl Arg for $t {
            fn render(&self, _: Locale) -> String {
                self.to_string()
            }
        })+
    };
}
number_arg!(u8, u32, u64, usize, i64);

/// Declares the labels of a vocabulary, English and French side by side.
macro_rules! labels {
    ($name:ident { $($variant:ident => $en:literal, $fr:literal;)+ }) => {
        impl $name {
            /// What a person reads, in English.
            pub fn label(self) -> &'static str {
                self.label_in(Locale::En)
            }

            /// What a person reads, in their language.
            pub fn label_in(self, locale: Locale) -> &'static str {
                match (self, locale) {
                    $(($name::$variant, Locale::En) => $en,
                      ($name::$variant, Locale::Fr) => $fr,)+
                }
            }
        }

        impl Arg for $name {
            fn render(&self, locale: Locale) -> String {
                self.label_in(locale).to_owned()
            }
        }
    };
}

labels!(InquiryType {
    Licensing => "Licensing of an asset or technology", "Licence d'un actif ou d'une technologie";
    CoDevelopment => "Co-development partnership", "Partenariat de co-développement";
    SponsoredResearch => "Sponsored research", "Recherche sponsorisée";
    ClinicalTrial => "Clinical trial placement", "Placement d'un essai clinique";
    Investment => "Investment or spin-off funding", "Investissement ou financement d'une spin-off";
    DataAccess => "Access to data or biobanks", "Accès à des données ou à des biobanques";
    PlatformAccess => "Access to a technology platform", "Accès à une plateforme technologique";
    Other => "Other", "Autre";
});

labels!(TherapeuticArea {
    Breast => "Breast", "Sein";
    Lung => "Lung", "Poumon";
    Colorectal => "Colorectal", "Côlon et rectum";
    Prostate => "Prostate", "Prostate";
    Gynecologic => "Gynecologic", "Cancers gynécologiques";
    Hematologic => "Hematologic malignancies", "Hémopathies malignes";
    Pediatric => "Pediatric cancers", "Cancers pédiatriques";
    SkinMelanoma => "Skin and melanoma (including uveal)", "Peau et mélanome (y compris uvéal)";
    HeadAndNeck => "Head and neck", "Tête et cou";
    BrainCns => "Brain and central nervous system", "Cerveau et système nerveux central";
    Sarcoma => "Sarcoma", "Sarcomes";
    Digestive => "Digestive (pancreas, liver, gastric)", "Cancers digestifs (pancréas, foie, estomac)";
    Genitourinary => "Genitourinary", "Cancers uro-génitaux";
    ThyroidEndocrine => "Thyroid and endocrine", "Thyroïde et glandes endocrines";
    RareCancers => "Rare cancers", "Cancers rares";
    PanTumor => "Pan-tumour", "Toutes tumeurs";
});

labels!(Modality {
    SmallMolecule => "Small molecule", "Petite molécule";
    BiologicAntibody => "Biologic or antibody", "Biomédicament ou anticorps";
    Adc => "Antibody-drug conjugate", "Anticorps conjugué (ADC)";
    CellTherapy => "Cell therapy", "Thérapie cellulaire";
    GeneTherapy => "Gene therapy", "Thérapie génique";
    VaccineImmunotherapy => "Vaccine or immunotherapy", "Vaccin ou immunothérapie";
    Radiopharmaceutical => "Radiopharmaceutical", "Radiopharmaceutique";
    Radiotherapy => "Radiotherapy", "Radiothérapie";
    DiagnosticBiomarker => "Diagnostic or biomarker", "Diagnostic ou biomarqueur";
    Imaging => "Imaging", "Imagerie";
    MedicalDevice => "Medical device", "Dispositif médical";
    DigitalAi => "Digital health or AI", "Santé numérique ou IA";
    DataRwe => "Data and real-world evidence", "Données et données de vie réelle";
    Microbiome => "Microbiome", "Microbiote";
});

labels!(Stage {
    Discovery => "Discovery", "Découverte";
    Preclinical => "Preclinical", "Préclinique";
    Phase1 => "Phase 1", "Phase 1";
    Phase2 => "Phase 2", "Phase 2";
    Phase3 => "Phase 3", "Phase 3";
    Approved => "Approved", "Autorisé sur le marché";
    NotApplicable => "Not applicable", "Sans objet";
});

labels!(DeclineReason {
    OutOfScope => "Out of scope", "Hors du champ de l'établissement";
    TooEarlyStage => "Too early stage", "Stade trop précoce";
    NoCapacity => "No capacity", "Pas de capacité disponible";
    IpUnavailable => "Intellectual property unavailable", "Propriété intellectuelle indisponible";
    ConflictOfInterest => "Conflict of interest", "Conflit d'intérêts";
    TermsNotAcceptable => "Terms not acceptable", "Conditions non acceptables";
    InsufficientInformation => "Insufficient information", "Informations insuffisantes";
    Other => "Other (explained in free text)", "Autre (précisé en texte libre)";
});

labels!(WithdrawalReason {
    NoLongerNeeded => "No longer needed", "Plus nécessaire";
    FoundPartner => "Found a partner elsewhere", "Partenaire trouvé ailleurs";
    ProjectStopped => "The project was stopped or changed", "Projet arrêté ou modifié";
    NoTimelyAnswer => "No answer in time", "Pas de réponse à temps";
    SubmittedInError => "Submitted in error", "Envoyée par erreur";
    Other => "Other (explained in free text)", "Autre (précisé en texte libre)";
    NotGiven => "No reason given", "Aucun motif indiqué";
});

labels!(ActorKind {
    Submitter => "The submitter (tracking token)", "Le demandeur (jeton de suivi)";
    User => "A staff account or an operator", "Un compte d'établissement ou un opérateur";
    System => "Guichet itself (routing rules, the SLA clock, workers, the command line)", "Guichet lui-même (règles d'orientation, horloge des délais, tâches de fond, ligne de commande)";
});

labels!(AuditObjectType {
    Inquiry => "An inquiry (its own records and its referrals')", "Une demande (ses propres traces et celles de ses dossiers)";
    Referral => "A referral", "Un dossier";
    Institution => "An institution (its referrals, contacts, accounts, profile and endpoints)", "Un établissement (ses dossiers, contacts, comptes, profil et points de terminaison)";
});

labels!(AuditAction {
    InquirySubmitted => "An inquiry was submitted", "Une demande a été déposée";
    InquiryRouted => "The rules routed an inquiry", "Les règles ont orienté une demande";
    SentToDesk => "No rule could route an inquiry: it went to the desk", "Aucune règle n'a pu orienter une demande : elle est passée au guichet des opérateurs";
    InquiryRoutedByHand => "An operator routed an inquiry by hand", "Un opérateur a orienté une demande à la main";
    InquiryWithdrawn => "The submitter withdrew a whole inquiry", "Le demandeur a retiré toute sa demande";
    ReferralRouted => "A referral was created by routing", "Un dossier a été créé par l'orientation";
    ReferralForwarded => "A referral was created by a forward", "Un dossier a été créé par un transfert";
    ReferralWithdrawn => "The submitter withdrew from a referral (with the reason code)", "Le demandeur s'est retiré d'un dossier (avec le code du motif)";
    Assigned => "A referral was assigned to a contact", "Un dossier a été attribué à un contact";
    Unassigned => "A referral was left without an assignee", "Un dossier n'a plus d'attributaire";
    StatusChanged => "A referral changed status", "Un dossier a changé de statut";
    DecisionRecorded => "A decision's reason was recorded", "Le motif d'une décision a été enregistré";
    MessagePosted => "A message or a note was posted", "Un message ou une note a été publié";
    SlaDueSoon => "A first response is due today", "Une première réponse est attendue aujourd'hui";
    SlaBreached => "A first response is overdue", "Une première réponse est en retard";
    RoutingProfileReplaced => "A routing profile was replaced", "Un profil d'orientation a été remplacé";
    InstitutionCreated => "An operator added an institution", "Un opérateur a ajouté un établissement";
    InstitutionUpdated => "An operator changed an institution", "Un opérateur a modifié un établissement";
    InstitutionDeactivated => "An operator deactivated an institution", "Un opérateur a désactivé un établissement";
    InstitutionReactivated => "An operator reactivated an institution", "Un opérateur a réactivé un établissement";
    ContactCreated => "A contact was created", "Un contact a été créé";
    ContactUpdated => "A contact was changed", "Un contact a été modifié";
    ContactDeactivated => "A contact was deactivated", "Un contact a été désactivé";
    UserCreated => "An account was created", "Un compte a été créé";
    UserUpdated => "An account was changed", "Un compte a été modifié";
    LoggedIn => "Someone logged in", "Une connexion a eu lieu";
    SessionRefreshed => "A session was refreshed", "Une session a été prolongée";
    LoggedOut => "Someone logged out", "Une déconnexion a eu lieu";
    WebhookEndpointCreated => "A webhook endpoint was created", "Un point de terminaison webhook a été créé";
    WebhookEndpointUpdated => "A webhook endpoint was changed", "Un point de terminaison webhook a été modifié";
    WebhookEndpointDeleted => "A webhook endpoint was deleted", "Un point de terminaison webhook a été supprimé";
    WebhookSecretRotated => "A webhook secret was rotated", "Le secret d'un webhook a été renouvelé";
    WebhookEndpointDisabled => "A webhook endpoint was disabled", "Un point de terminaison webhook a été désactivé";
    WebhookEndpointPinged => "A test delivery was asked for", "Un envoi de test a été demandé";
    WebhookDeliveryResent => "A delivery was sent again", "Un envoi a été renvoyé";
    WebhookDeliveriesReplayed => "Failed deliveries were replayed", "Les envois en échec ont été rejoués";
    PasswordResetRequested => "A password reset link was asked for", "Un lien de réinitialisation du mot de passe a été demandé";
    MailSettingsChanged => "An institution's team address was set or cleared", "L'adresse d'équipe d'un établissement a été définie ou effacée";
    RemindersEnabled => "SLA reminders were turned on", "Les rappels de délai ont été activés";
    RemindersDisabled => "SLA reminders were turned off", "Les rappels de délai ont été désactivés";
    PasswordReset => "A password was reset through a link", "Un mot de passe a été réinitialisé par un lien";
    PasswordChanged => "A password was changed", "Un mot de passe a été modifié";
});

labels!(OrganizationType {
    Investor => "Investor", "Investisseur";
    Pharma => "Pharmaceutical company", "Laboratoire pharmaceutique";
    Biotech => "Biotech", "Biotech";
    Medtech => "Medtech", "Medtech";
    Academic => "Academic", "Organisme académique";
    Other => "Other", "Autre";
});

labels!(EventType {
    InquirySubmitted => "An inquiry was submitted", "Une demande a été déposée";
    InquiryWithdrawn => "The submitter withdrew an inquiry", "Le demandeur a retiré une demande";
    InquiryRouted => "An inquiry was routed (by the rules, to the desk, or by hand)", "Une demande a été orientée (par les règles, vers le guichet des opérateurs ou à la main)";
    ReferralCreated => "A referral arrived at an institution", "Un dossier est arrivé dans un établissement";
    ReferralAssigned => "A referral was assigned to a contact", "Un dossier a été attribué à un contact";
    ReferralUnassigned => "A referral was left without an assignee", "Un dossier n'est plus attribué à personne";
    ReferralStatusChanged => "A referral changed status", "Un dossier a changé de statut";
    ReferralMessagePosted => "A message the submitter sees was posted on a referral", "Un message visible du demandeur a été publié sur un dossier";
    ReferralNotePosted => "An internal note was posted on a referral (never shown to submitters)", "Une note interne a été publiée sur un dossier (jamais montrée aux demandeurs)";
    ReferralSlaDueSoon => "A referral's first response is due today (told at 09:00 Paris time)", "La première réponse à un dossier est attendue aujourd'hui (signalé à 9 h, heure de Paris)";
    ReferralSlaBreached => "A referral's first response is overdue", "La première réponse à un dossier est en retard";
    RoutingProfileChanged => "An institution replaced its routing profile", "Un établissement a remplacé son profil d'orientation";
    WebhookEndpointDisabled => "Guichet disabled a webhook endpoint that kept failing or answered 410", "Guichet a désactivé un point de terminaison webhook en échec répété ou qui a répondu 410";
    WebhookEndpointPing => "A test delivery asked for by hand (not in the feed)", "Un envoi de test demandé à la main (absent du flux)";
});

labels!(ReferralStatus {
    New => "New", "Nouveau";
    Acknowledged => "Acknowledged", "Réception confirmée";
    InReview => "In review", "En cours d'examen";
    InfoRequested => "Information requested", "Informations demandées";
    Accepted => "Accepted", "Accepté";
    Declined => "Declined", "Refusé";
    Forwarded => "Forwarded", "Transmis";
    Withdrawn => "Withdrawn", "Retiré";
});

labels!(Role {
    Operator => "Platform operator (all institutions)", "Opérateur de la plateforme (tous les établissements)";
    InstitutionAdmin => "Institution administrator", "Administrateur de l'établissement";
    Triager => "Triager", "Chargé de tri";
});

labels!(Locale {
    En => "English", "English";
    Fr => "Français", "Français";
});

/// A referral status inside a sentence: its wire value in English (as the API always said),
/// its lower-cased label in French.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct State(pub ReferralStatus);

impl Arg for State {
    fn render(&self, locale: Locale) -> String {
        match locale {
            Locale::En => self.0.as_str().to_owned(),
            Locale::Fr => format!("« {} »", lower_first(self.0.label_in(locale))),
        }
    }
}

/// Several referral states, listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct States(pub Vec<ReferralStatus>);

impl Arg for States {
    fn render(&self, locale: Locale) -> String {
        if self.0.is_empty() {
            return match locale {
                Locale::En => "none (it is closed)".to_owned(),
                Locale::Fr => "aucun (il est clos)".to_owned(),
            };
        }
        self.0
            .iter()
            .map(|s| State(*s).render(locale))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// "inquiries for clinical trial placement": an inquiry type as the object of a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kind(pub InquiryType);

impl Arg for Kind {
    fn render(&self, locale: Locale) -> String {
        match (locale, self.0) {
            (Locale::En, InquiryType::Other) => "inquiries of other kinds".to_owned(),
            (Locale::En, t) => format!("inquiries for {}", lower_first(t.label())),
            (Locale::Fr, InquiryType::Other) => "les demandes d'une autre nature".to_owned(),
            (Locale::Fr, t) => format!("les demandes de type « {} »", t.label_in(locale)),
        }
    }
}

/// How strong an institution is in what the inquiry asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    Strong,
    Some,
}

impl Arg for Strength {
    fn render(&self, locale: Locale) -> String {
        match (self, locale) {
            (Strength::Strong, Locale::En) => "Strong expertise",
            (Strength::Some, Locale::En) => "Expertise",
            (Strength::Strong, Locale::Fr) => "Solide expertise",
            (Strength::Some, Locale::Fr) => "Expertise",
        }
        .to_owned()
    }
}

/// What of an inquiry a contact's expertise covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Covered {
    InquiryType,
    Area(TherapeuticArea),
    Modality(Modality),
}

/// The covered items of a contact, listed ("a, b and c").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoveredList(pub Vec<Covered>);

impl Arg for CoveredList {
    fn render(&self, locale: Locale) -> String {
        let words: Vec<String> = self
            .0
            .iter()
            .map(|c| match (c, locale) {
                (Covered::InquiryType, Locale::En) => "this type of inquiry".to_owned(),
                (Covered::InquiryType, Locale::Fr) => "ce type de demande".to_owned(),
                (Covered::Area(a), Locale::En) => a.label().to_owned(),
                (Covered::Modality(m), Locale::En) => m.label().to_owned(),
                (Covered::Area(a), Locale::Fr) => format!("« {} »", a.label_in(locale)),
                (Covered::Modality(m), Locale::Fr) => format!("« {} »", m.label_in(locale)),
            })
            .collect();
        join_words(&words, locale)
    }
}

/// Why this contact rather than a colleague.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tie {
    OnlyContact,
    BestMatch,
    FewestOpen,
    Alphabetical,
}

impl Arg for Tie {
    fn render(&self, locale: Locale) -> String {
        match (self, locale) {
            (Tie::OnlyContact, Locale::En) => ", and they are the institution's only active contact.",
            (Tie::BestMatch, Locale::En) => ", the best match among the institution's active contacts.",
            (Tie::FewestOpen, Locale::En) => "; among equally matched colleagues, they have the fewest open referrals.",
            (Tie::Alphabetical, Locale::En) => "; among equally matched and equally busy colleagues, they come first in alphabetical order.",
            (Tie::OnlyContact, Locale::Fr) => " ; c'est le seul contact actif de l'établissement.",
            (Tie::BestMatch, Locale::Fr) => " ; c'est la meilleure correspondance parmi les contacts actifs de l'établissement.",
            (Tie::FewestOpen, Locale::Fr) => " ; à correspondance égale, c'est le contact qui a le moins de dossiers en cours.",
            (Tie::Alphabetical, Locale::Fr) => " ; à correspondance et charge égales, c'est le premier dans l'ordre alphabétique.",
        }
        .to_owned()
    }
}

/// The kind of object a 404 is about ("No referral with this id is visible to you").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource(pub String);

impl Arg for Resource {
    fn render(&self, locale: Locale) -> String {
        if locale == Locale::En {
            return self.0.clone();
        }
        match self.0.as_str() {
            "contact" => "Aucun contact",
            "inquiry" => "Aucune demande",
            "institution" => "Aucun établissement",
            "message" => "Aucun message",
            "referral" => "Aucun dossier",
            "user" => "Aucun compte",
            "unsubscribe link" => "Aucun lien de désinscription",
            "webhook delivery" => "Aucun envoi de webhook",
            "webhook endpoint" => "Aucun point de terminaison webhook",
            "mail message" => "Aucun e-mail",
            "api key" | "API key" => "Aucune clé d'API",
            "organization" => "Aucune organisation",
            _ => "Aucun objet",
        }
        .to_owned()
    }
}

/// A share from 0 to 1, as a percentage; "not measured" when there is none yet.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Share(pub Option<f64>);

impl Arg for Share {
    fn render(&self, locale: Locale) -> String {
        match (self.0, locale) {
            (Some(s), Locale::En) => format!("{}%", (s * 100.0).round()),
            (Some(s), Locale::Fr) => format!("{}\u{a0}%", (s * 100.0).round()),
            (None, Locale::En) => "not measured yet".to_owned(),
            (None, Locale::Fr) => "pas encore mesurée".to_owned(),
        }
    }
}

/// Hours, one decimal; "not measured" when there is none yet.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hours(pub Option<f64>);

impl Arg for Hours {
    fn render(&self, locale: Locale) -> String {
        match (self.0, locale) {
            (Some(h), Locale::En) => format!("{h:.1} hours"),
            (Some(h), Locale::Fr) => format!("{} heures", format!("{h:.1}").replace('.', ",")),
            (None, Locale::En) => "not measured yet".to_owned(),
            (None, Locale::Fr) => "pas encore mesurée".to_owned(),
        }
    }
}

/// Declares the catalogue: one variant per sentence, its arguments, English then French.
macro_rules! catalogue {
    ($(
        $(#[$meta:meta])*
        $variant:ident $({ $($field:ident : $ty:ty),* $(,)? })? => $en:literal, $fr:literal;
    )+) => {
        /// A sentence of the catalogue, with its arguments; rendered by [`Msg::render`].
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "key", rename_all = "snake_case")]
        pub enum Msg {
            $($(#[$meta])* $variant $({ $($field: $ty),* })?,)+
        }

        impl Msg {
            /// Every key: its name, its English and French templates, its argument names.
            pub const ENTRIES: &'static [(&'static str, &'static str, &'static str, &'static [&'static str])] = &[
                $((stringify!($variant), $en, $fr, &[$($(stringify!($field)),*)?]),)+
            ];

            fn template(&self, locale: Locale) -> &'static str {
                match self {
                    $(Msg::$variant $({ $($field: _),* })? => match locale {
                        Locale::En => $en,
                        Locale::Fr => $fr,
                    },)+
                }
            }

            #[allow(unused_variables)]
            fn args(&self, locale: Locale) -> Vec<(&'static str, String)> {
                match self {
                    $(Msg::$variant $({ $($field),* })? => vec![
                        $($((stringify!($field), Arg::render($field, locale))),*)?
                    ],)+
                }
            }
        }
    };
}

catalogue! {
    // Problem titles (the HTTP reason phrases).
    TitleBadRequest => "Bad Request", "Requête incorrecte";
    TitleUnauthorized => "Unauthorized", "Non authentifié";
    TitleForbidden => "Forbidden", "Interdit";
    TitleNotFound => "Not Found", "Introuvable";
    TitleMethodNotAllowed => "Method Not Allowed", "Méthode non autorisée";
    TitleRequestTimeout => "Request Timeout", "Délai de requête dépassé";
    TitleConflict => "Conflict", "Conflit";
    TitlePreconditionFailed => "Precondition Failed", "Précondition non remplie";
    TitlePayloadTooLarge => "Payload Too Large", "Corps de requête trop volumineux";
    TitleUnsupportedMediaType => "Unsupported Media Type", "Type de contenu non pris en charge";
    TitleUnprocessableEntity => "Unprocessable Entity", "Requête non traitable";
    TitlePreconditionRequired => "Precondition Required", "Précondition requise";
    TitleTooManyRequests => "Too Many Requests", "Trop de requêtes";
    TitleInternalServerError => "Internal Server Error", "Erreur interne du serveur";
    TitleServiceUnavailable => "Service Unavailable", "Service indisponible";
    TitleError => "Error", "Erreur";

    // Problem details, one per problem code (the code's usual sentence).
    ProblemMalformedJson => "The body is not valid JSON.", "Le corps de la requête n'est pas du JSON valide.";
    ProblemDuplicateKey => "The body has a key twice.", "Le corps de la requête contient deux fois la même clé.";
    ProblemMissingBody => "This operation needs a JSON body.", "Cette opération attend un corps JSON.";
    ProblemUnreadableBody => "The request body could not be read.", "Le corps de la requête n'a pas pu être lu.";
    ProblemInvalidQuery => "The query string is wrong.", "Les paramètres de la requête sont incorrects.";
    ProblemInvalidCursor => "`cursor` is not a cursor returned by this list.", "`cursor` n'est pas un curseur renvoyé par cette liste.";
    ProblemCursorFiltersChanged => "The filters changed since this cursor was returned: start again without `cursor`.", "Les filtres ont changé depuis que ce curseur a été renvoyé : recommencez sans `cursor`.";
    ProblemInvalidLimit => "`limit` must be between 1 and 100.", "`limit` doit être compris entre 1 et 100.";
    ProblemInvalidStatus => "`status` is not a referral status.", "`status` n'est pas un statut de dossier.";
    ProblemInvalidAssigned => "`assigned` is not a valid filter.", "`assigned` n'est pas un filtre valide.";
    ProblemInvalidIdempotencyKey => "Idempotency-Key must be 1 to 200 visible ASCII characters.", "Idempotency-Key doit compter de 1 à 200 caractères ASCII visibles.";
    ProblemInvalidEventType => "The event type is not in the catalogue of events.", "Ce type d'événement ne figure pas au catalogue des événements.";
    ProblemBadRequest => "The request could not be read.", "La requête n'a pas pu être lue.";
    ProblemInvalidToken => "The access token is missing, invalid, expired or revoked.", "Le jeton d'accès est absent, invalide, expiré ou révoqué.";
    ProblemInvalidCredentials => "The e-mail address or the password is wrong.", "L'adresse e-mail ou le mot de passe est incorrect.";
    ProblemInvalidRefreshToken => "The refresh token is invalid, expired, revoked or already used.", "Le jeton de rafraîchissement est invalide, expiré, révoqué ou déjà utilisé.";
    ProblemRefreshTokenReused => "This refresh token was already used; its session has been revoked.", "Ce jeton de rafraîchissement a déjà été utilisé ; sa session a été révoquée.";
    ProblemInvalidResetToken => "The reset token is invalid, expired or already used: ask for a new link.", "Le jeton de réinitialisation est invalide, expiré ou déjà utilisé : demandez un nouveau lien.";
    ProblemForbidden => "You may not do this.", "Vous n'êtes pas autorisé à effectuer cette action.";
    ProblemOriginNotAllowed => "This origin may not call the API with credentials.", "Cette origine n'est pas autorisée à appeler l'API avec des identifiants.";
    ProblemNotFound => "No resource at this address.", "Aucune ressource à cette adresse.";
    ProblemMethodNotAllowed => "This method is not allowed on this resource.", "Cette méthode n'est pas autorisée sur cette ressource.";
    ProblemBodyTimeout => "The request body did not arrive in time.", "Le corps de la requête n'est pas arrivé à temps.";
    ProblemAlreadyExists => "A record with the same unique value already exists.", "Un enregistrement avec la même valeur unique existe déjà.";
    ProblemEmailTaken => "An account with this e-mail address already exists.", "Un compte existe déjà avec cette adresse e-mail.";
    ProblemContactEmailTaken => "Another contact of this institution already uses this e-mail address.", "Un autre contact de cet établissement utilise déjà cette adresse e-mail.";
    ProblemAlreadyReferred => "This inquiry already has a referral at this institution.", "Cette demande a déjà un dossier dans cet établissement.";
    ProblemInstitutionExists => "An institution with this id already exists.", "Un établissement avec cet identifiant existe déjà.";
    ProblemInstitutionInactive => "This institution is not taking new inquiries at the moment.", "Cet établissement ne reçoit pas de nouvelles demandes pour le moment.";
    ProblemInactiveContact => "This contact is deactivated.", "Ce contact est désactivé.";
    ProblemContactLinked => "This contact is already linked to another account.", "Ce contact est déjà lié à un autre compte.";
    ProblemSameContact => "The referrals are already assigned to this contact.", "Les dossiers sont déjà attribués à ce contact.";
    ProblemCannotChangeOwnAccount => "You cannot disable your own account or change your own role.", "Vous ne pouvez ni désactiver votre propre compte ni changer votre propre rôle.";
    ProblemInquiryWithdrawn => "The submitter withdrew this inquiry.", "Le demandeur a retiré cette demande.";
    ProblemNothingToWithdraw => "Every referral of this inquiry is already closed.", "Tous les dossiers de cette demande sont déjà clos.";
    ProblemReferralClosed => "This referral is closed.", "Ce dossier est clos.";
    ProblemTransitionNotAllowed => "This change of status is not allowed.", "Ce changement de statut n'est pas autorisé.";
    ProblemIdempotencyRace => "Another request with the same Idempotency-Key is being processed: retry in a moment.", "Une autre requête avec la même Idempotency-Key est en cours de traitement : réessayez dans un instant.";
    ProblemEndpointDisabled => "This endpoint is disabled: enable it first.", "Ce point de terminaison est désactivé : réactivez-le d'abord.";
    ProblemConcurrentChange => "The object changed while this request ran; read it again.", "L'objet a changé pendant le traitement de cette requête ; relisez-le.";
    ProblemStaleVersion => "The object changed since you read it: fetch it again and retry with its new ETag.", "L'objet a changé depuis votre lecture : relisez-le et réessayez avec son nouvel ETag.";
    ProblemPayloadTooLarge => "The request body is too large.", "Le corps de la requête est trop volumineux.";
    ProblemUnsupportedMediaType => "The request body must be JSON (Content-Type: application/json).", "Le corps de la requête doit être du JSON (Content-Type: application/json).";
    ProblemValidationFailed => "Some fields are wrong: see `errors`.", "Certains champs sont incorrects : voir `errors`.";
    ProblemIfMatchRequired => "This change requires an If-Match header with the ETag you read.", "Cette modification exige un en-tête If-Match portant l'ETag que vous avez lu.";
    ProblemTooManyRequests => "Too many requests: wait for the number of seconds in Retry-After.", "Trop de requêtes : attendez le nombre de secondes indiqué par Retry-After.";
    ProblemInternalError => "An unexpected error occurred.", "Une erreur inattendue s'est produite.";
    ProblemDatabaseUnavailable => "The database is unreachable for the moment; retry after the seconds in Retry-After.", "La base de données est injoignable pour le moment ; réessayez après le nombre de secondes indiqué par Retry-After.";
    ProblemShuttingDown => "This instance is stopping: send new requests to another one.", "Cette instance s'arrête : envoyez vos nouvelles requêtes à une autre.";
    ProblemError => "The request failed.", "La requête a échoué.";

    // Problem details that carry data.
    NotFoundResource { resource: Resource } => "No {resource} with this id is visible to you.", "{resource} portant cet identifiant ne vous est visible.";
    MalformedJson { error: String } => "The body is not valid JSON: {error}.", "Le corps de la requête n'est pas du JSON valide : {error}.";
    DuplicateKey { error: String } => "The body has a key twice: {error}.", "Le corps de la requête contient deux fois la même clé : {error}.";
    UnreadableBody { error: String } => "The request body could not be read: {error}", "Le corps de la requête n'a pas pu être lu : {error}";
    InvalidQuery { error: String } => "The query string is wrong: {error}.", "Les paramètres de la requête sont incorrects : {error}.";
    QueryControlCharacter => "The query string contains a control character.", "Les paramètres de la requête contiennent un caractère de contrôle.";
    PayloadOver { limit: usize } => "The request body is larger than {limit} bytes.", "Le corps de la requête dépasse {limit} octets.";
    BodyTimeoutAfter { seconds: u64 } => "The request body did not arrive within {seconds} seconds.", "Le corps de la requête n'est pas arrivé dans les {seconds} secondes.";
    MethodNotAllowedHere { method: String, allowed: String } => "{method} is not allowed here; allowed: {allowed}.", "{method} n'est pas autorisée ici ; méthodes autorisées : {allowed}.";
    InstitutionNotTaking { institution: String } => "{institution} is not taking new inquiries at the moment.", "{institution} ne reçoit pas de nouvelles demandes pour le moment.";
    InstitutionIdTaken { id: String } => "An institution with the id `{id}` already exists.", "Un établissement avec l'identifiant `{id}` existe déjà.";
    ReferralIs { status: State } => "This referral is {status}.", "Ce dossier a le statut {status}.";
    ReferralTakesNoMessages { status: State } => "This referral is {status}; it takes no more messages.", "Ce dossier a le statut {status} : il ne reçoit plus de messages.";
    ReferralCannotBeReassigned { status: State } => "This referral is {status}; it cannot be reassigned.", "Ce dossier a le statut {status} : il ne peut plus être réattribué.";
    ReferralNothingToWithdraw { status: State } => "This referral is {status}; there is nothing to withdraw.", "Ce dossier a le statut {status} : il n'y a plus rien à retirer.";
    TransitionRefused { from: State, to: State, allowed: States } => "A referral in status {from} cannot become {to}; allowed: {allowed}.", "Un dossier au statut {from} ne peut pas passer au statut {to} ; statuts possibles : {allowed}.";
    AlreadyHasInquiry { institution: String } => "{institution} already has this inquiry.", "{institution} a déjà reçu cette demande.";
    AdminOrOperatorOnly => "Only an institution administrator or an operator may do this.", "Seul un administrateur de l'établissement ou un opérateur peut effectuer cette action.";
    OperatorOnly => "Only an operator may do this.", "Seul un opérateur peut effectuer cette action.";
    OperatorOnlyPlatformWebhooks => "Only an operator may manage platform-wide webhook endpoints.", "Seul un opérateur peut gérer les points de terminaison webhook de toute la plateforme.";
    NoInstitutionAccount => "This account belongs to no institution.", "Ce compte n'est rattaché à aucun établissement.";
    AdminOrOperatorInspectsMail => "Only an institution administrator or an operator may inspect e-mails.", "Seul un administrateur de l'établissement ou un opérateur peut consulter les e-mails.";
    WrongCurrentPassword => "The current password is wrong: the password was not changed.", "Le mot de passe actuel est incorrect : le mot de passe n'a pas été changé.";

    // Field messages (`errors[].message` of a 422).
    FieldRequired => "is required", "est obligatoire";
    FieldEmpty => "must not be empty", "ne doit pas être vide";
    FieldTooLong { max: usize } => "must be at most {max} characters", "doit compter au plus {max} caractères";
    FieldTooShort { min: usize } => "must be at least {min} characters", "doit compter au moins {min} caractères";
    FieldControlCharacters => "must not contain control characters", "ne doit pas contenir de caractères de contrôle";
    FieldEmail => "must be an e-mail address such as name@example.org", "doit être une adresse e-mail telle que nom@example.org";
    FieldAtLeastItems { min: usize } => "must hold at least {min} item(s)", "doit contenir au moins {min} élément(s)";
    FieldAtMostItems { max: usize } => "must hold at most {max} item(s)", "doit contenir au plus {max} élément(s)";
    FieldDuplicateItem => "appears twice in the list", "figure deux fois dans la liste";
    FieldInvalid => "is not valid", "n'est pas valide";
    FieldBetween { min: i64, max: i64 } => "must be between {min} and {max}", "doit être compris entre {min} et {max}";
    FieldUnknownInstitution { id: String } => "no institution has the id `{id}`", "aucun établissement n'a l'identifiant `{id}`";
    FieldCountry => "must be an ISO 3166-1 alpha-2 code in upper case, e.g. FR", "doit être un code ISO 3166-1 alpha-2 en majuscules, par exemple FR";
    FieldMustBeTrue => "Guichet only takes non-confidential inquiries: confirm with `true`", "Guichet ne reçoit que des demandes non confidentielles : confirmez avec `true`";
    FieldRequiredTrue => "is required and must be `true`", "est obligatoire et doit valoir `true`";
    FieldUrl => "must be an absolute http:// or https:// address", "doit être une adresse absolue en http:// ou https://";
    FieldSlug => "must be 2 to 40 lower-case letters, digits and inner dashes", "doit compter de 2 à 40 lettres minuscules, chiffres et tirets intérieurs";
    FieldNotObject => "the body must be a JSON object", "le corps de la requête doit être un objet JSON";
    FieldIdempotencyKeyReused => "this Idempotency-Key was used with another body; use a new key for a new inquiry", "cette Idempotency-Key a déjà servi avec un autre corps ; utilisez une nouvelle clé pour une nouvelle demande";
    FieldSerdeUnknownField { error: String } => "{error}", "champ inconnu ({error})";
    FieldSerdeUnknownVariant { error: String } => "{error}", "n'est pas une valeur admise ({error})";
    FieldSerdeInvalidType { error: String } => "{error}", "n'est pas du type attendu ({error})";
    FieldSerdeInvalidValue { error: String } => "{error}", "n'est pas une valeur valide ({error})";
    FieldNotAllowed => "is not allowed here", "n'est pas autorisé ici";
    FieldInvalidPeriod => "`from` must be before `to`", "`from` doit précéder `to`";
    FieldUnknownContact => "no contact of this institution has this id", "aucun contact de cet établissement n'a cet identifiant";
    FieldInactiveContact => "this contact is inactive", "ce contact est inactif";
    FieldSameInstitution => "a referral is forwarded to another institution", "un dossier se transmet à un autre établissement";

    // Routing: why an institution, why a contact, why the desk.
    Accepts { institution: String, kind: Kind } => "{institution} accepts {kind}.", "{institution} accepte {kind}.";
    AcrossTumourTypes { strength: Strength } => "{strength} across tumour types.", "{strength} sur l'ensemble des types de tumeurs.";
    AreaForPanTumour { strength: Strength, area: TherapeuticArea } => "{strength} in {area}, relevant to a pan-tumour inquiry.", "{strength} dans le domaine « {area} », pertinente pour une demande toutes tumeurs.";
    AcrossTumourTypesIncluding { strength: Strength, area: TherapeuticArea } => "{strength} across tumour types, including {area}.", "{strength} sur l'ensemble des types de tumeurs, y compris « {area} ».";
    InArea { strength: Strength, area: TherapeuticArea } => "{strength} in {area}.", "{strength} dans le domaine « {area} ».";
    InModality { strength: Strength, modality: Modality } => "{strength} in {modality}.", "{strength} en « {modality} ».";
    WelcomesNoStage => "Welcomes projects where a development stage does not apply.", "Accueille les projets pour lesquels un stade de développement est sans objet.";
    WelcomesStage { stage: Stage } => "Welcomes projects at the {stage} stage.", "Accueille les projets au stade « {stage} ».";
    YouAskedForIt => "You asked for this institution.", "Vous avez demandé cet établissement.";
    NotTakingInquiries { institution: String } => "{institution} is not taking new inquiries at the moment.", "{institution} ne reçoit pas de nouvelles demandes pour le moment.";
    DoesNotTake { institution: String, kind: Kind } => "{institution} does not take {kind}.", "{institution} ne prend pas en charge {kind}.";
    AskedButCannot => "You asked for it, but it cannot receive this inquiry.", "Vous l'avez demandé, mais il ne peut pas recevoir cette demande.";
    NotAmongAsked { institution: String } => "{institution} is not among the institutions you asked for.", "{institution} ne fait pas partie des établissements que vous avez demandés.";
    BelowThreshold { institution: String } => "{institution}'s profile does not match this inquiry closely enough for a referral.", "Le profil de {institution} ne correspond pas assez précisément à cette demande pour lui transmettre un dossier.";
    NoContactRegistered { institution: String } => "{institution} has no contact registered yet: the referral is unassigned and the institution's team will assign it.", "{institution} n'a encore aucun contact enregistré : le dossier n'est pas attribué et l'équipe de l'établissement l'attribuera.";
    NoActiveContact { institution: String } => "{institution} has no active contact at the moment: the referral is unassigned and the institution's team will assign it.", "{institution} n'a aucun contact actif pour le moment : le dossier n'est pas attribué et l'équipe de l'établissement l'attribuera.";
    ContactCovers { contact: String, covers: CoveredList, tie: Tie } => "{contact} was chosen because their expertise covers {covers}{tie}", "Le choix s'est porté sur {contact}, dont l'expertise couvre {covers}{tie}";
    ContactWithoutMatch { contact: String, tie: Tie } => "{contact} was chosen although no active contact's expertise matches this inquiry specifically{tie}", "Le choix s'est porté sur {contact}, bien qu'aucun contact actif n'ait une expertise propre à cette demande{tie}";
    DeskNoInstitution => "No institution is available to receive inquiries yet. Our operators will route it by hand.", "Aucun établissement n'est encore disponible pour recevoir des demandes. Nos opérateurs l'orienteront à la main.";
    DeskPreferredTypeNotAccepted { kind: Kind } => "None of the institutions you asked for takes {kind}. Our operators will route it by hand.", "Aucun des établissements que vous avez demandés ne prend en charge {kind}. Nos opérateurs l'orienteront à la main.";
    DeskPreferredUnknown => "None of the institutions you asked for is available. Our operators will route it by hand.", "Aucun des établissements que vous avez demandés n'est disponible. Nos opérateurs l'orienteront à la main.";
    DeskBelowThreshold => "No institution's profile matches this inquiry closely enough for an automatic referral. Our operators will route it by hand.", "Aucun profil d'établissement ne correspond assez précisément à cette demande pour une orientation automatique. Nos opérateurs l'orienteront à la main.";
    DeskTypeNotAccepted { kind: Kind } => "No institution takes {kind} automatically. Our operators will route it by hand.", "Aucun établissement ne prend en charge {kind} automatiquement. Nos opérateurs l'orienteront à la main.";
    AssignmentNamedContact => "A named contact will receive it.", "Un contact nommément désigné la recevra.";
    AssignmentTeam => "The institution's team will assign it.", "L'équipe de l'établissement l'attribuera.";

    // The transparency report.
    TransparencyNoReferral { institution: String } => "{institution} received no referral in this period.", "{institution} n'a reçu aucun dossier sur la période.";
    TransparencySummary { institution: String, referrals: i64, days: i64, within: Share, median: Hours } => "{institution} received {referrals} referral(s) in this period; first responses are due within {days} business days; answered in time: {within}; median time to a first response: {median}.", "{institution} a reçu {referrals} dossier(s) sur la période ; la première réponse est attendue sous {days} jours ouvrés ; réponses dans le délai : {within} ; délai médian de première réponse : {median}.";
    TransparencyAbout => "Figures per institution over the period: referrals received, statuses, time to a first response and to a decision, acceptance rate and decline reasons. No personal or deal data.", "Indicateurs par établissement sur la période : dossiers reçus, statuts, délais de première réponse et de décision, taux d'acceptation et motifs de refus. Aucune donnée personnelle ni commerciale.";
}

impl Msg {
    /// The sentence in `locale`, its arguments in place.
    pub fn render(&self, locale: Locale) -> String {
        fill(self.template(locale), &self.args(locale))
    }

    /// The usual detail of a problem code, for a problem raised with plain text.
    pub fn for_problem_code(code: &str) -> Option<Msg> {
        Some(match code {
            "malformed_json" => Msg::ProblemMalformedJson,
            "duplicate_key" => Msg::ProblemDuplicateKey,
            "missing_body" => Msg::ProblemMissingBody,
            "unreadable_body" => Msg::ProblemUnreadableBody,
            "invalid_query" => Msg::ProblemInvalidQuery,
            "invalid_cursor" => Msg::ProblemInvalidCursor,
            "cursor_filters_changed" => Msg::ProblemCursorFiltersChanged,
            "invalid_limit" => Msg::ProblemInvalidLimit,
            "invalid_status" => Msg::ProblemInvalidStatus,
            "invalid_assigned" => Msg::ProblemInvalidAssigned,
            "invalid_idempotency_key" => Msg::ProblemInvalidIdempotencyKey,
            "invalid_event_type" => Msg::ProblemInvalidEventType,
            "bad_request" => Msg::ProblemBadRequest,
            "invalid_token" => Msg::ProblemInvalidToken,
            "invalid_credentials" => Msg::ProblemInvalidCredentials,
            "invalid_refresh_token" => Msg::ProblemInvalidRefreshToken,
            "refresh_token_reused" => Msg::ProblemRefreshTokenReused,
            "invalid_reset_token" => Msg::ProblemInvalidResetToken,
            "forbidden" => Msg::ProblemForbidden,
            "origin_not_allowed" => Msg::ProblemOriginNotAllowed,
            "not_found" => Msg::ProblemNotFound,
            "method_not_allowed" => Msg::ProblemMethodNotAllowed,
            "body_timeout" => Msg::ProblemBodyTimeout,
            "already_exists" => Msg::ProblemAlreadyExists,
            "email_taken" => Msg::ProblemEmailTaken,
            "contact_email_taken" => Msg::ProblemContactEmailTaken,
            "already_referred" => Msg::ProblemAlreadyReferred,
            "institution_exists" => Msg::ProblemInstitutionExists,
            "institution_inactive" => Msg::ProblemInstitutionInactive,
            "inactive_contact" => Msg::ProblemInactiveContact,
            "contact_linked" => Msg::ProblemContactLinked,
            "same_contact" => Msg::ProblemSameContact,
            "cannot_change_own_account" => Msg::ProblemCannotChangeOwnAccount,
            "inquiry_withdrawn" => Msg::ProblemInquiryWithdrawn,
            "nothing_to_withdraw" => Msg::ProblemNothingToWithdraw,
            "referral_closed" => Msg::ProblemReferralClosed,
            "transition_not_allowed" => Msg::ProblemTransitionNotAllowed,
            "idempotency_race" => Msg::ProblemIdempotencyRace,
            "endpoint_disabled" => Msg::ProblemEndpointDisabled,
            "concurrent_change" => Msg::ProblemConcurrentChange,
            "stale_version" => Msg::ProblemStaleVersion,
            "payload_too_large" => Msg::ProblemPayloadTooLarge,
            "unsupported_media_type" => Msg::ProblemUnsupportedMediaType,
            "validation_failed" => Msg::ProblemValidationFailed,
            "if_match_required" => Msg::ProblemIfMatchRequired,
            "too_many_requests" => Msg::ProblemTooManyRequests,
            "internal_error" => Msg::ProblemInternalError,
            "database_unavailable" => Msg::ProblemDatabaseUnavailable,
            "shutting_down" => Msg::ProblemShuttingDown,
            "error" => Msg::ProblemError,
            _ => return None,
        })
    }

    /// The usual message of a field code, for a field error raised with plain text (`None`:
    /// the text stays as written).
    pub fn for_field_code(code: &str, text: &Text) -> Option<Msg> {
        let plain = match text {
            Text::Plain(s) => s.clone(),
            Text::Msg(_) => return None,
        };
        Some(match code {
            "required" => Msg::FieldRequired,
            "invalid_email" => Msg::FieldEmail,
            "invalid_characters" => Msg::FieldControlCharacters,
            "duplicate" => Msg::FieldDuplicateItem,
            "unknown_field" => Msg::FieldSerdeUnknownField { error: plain },
            "invalid_enum" => Msg::FieldSerdeUnknownVariant { error: plain },
            "invalid_type" => Msg::FieldSerdeInvalidType { error: plain },
            "invalid_value" => Msg::FieldSerdeInvalidValue { error: plain },
            "inactive_contact" => Msg::FieldInactiveContact,
            "unknown_contact" => Msg::FieldUnknownContact,
            "same_institution" => Msg::FieldSameInstitution,
            "invalid_period" => Msg::FieldInvalidPeriod,
            "not_allowed" => Msg::FieldNotAllowed,
            "idempotency_key_reused" => Msg::FieldIdempotencyKeyReused,
            _ => Msg::FieldInvalid,
        })
    }

    /// The title of a problem with this HTTP status.
    pub fn title_for_status(status: u16) -> Msg {
        match status {
            400 => Msg::TitleBadRequest,
            401 => Msg::TitleUnauthorized,
            403 => Msg::TitleForbidden,
            404 => Msg::TitleNotFound,
            405 => Msg::TitleMethodNotAllowed,
            408 => Msg::TitleRequestTimeout,
            409 => Msg::TitleConflict,
            412 => Msg::TitlePreconditionFailed,
            413 => Msg::TitlePayloadTooLarge,
            415 => Msg::TitleUnsupportedMediaType,
            422 => Msg::TitleUnprocessableEntity,
            428 => Msg::TitlePreconditionRequired,
            429 => Msg::TitleTooManyRequests,
            500 => Msg::TitleInternalServerError,
            503 => Msg::TitleServiceUnavailable,
            _ => Msg::TitleError,
        }
    }
}

/// Text for a person: a catalogue message, or plain text written elsewhere (in English).
///
/// Plain text is what older call sites pass; in another language it is replaced by a
/// fallback message (for problems, the code's usual sentence), so that nothing a client
/// reads is left half translated.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    Msg(Msg),
    Plain(String),
}

impl Text {
    /// The text in `locale`; plain text is English, else `fallback` (or, without one, as is).
    pub fn render(&self, locale: Locale, fallback: Option<Msg>) -> String {
        match (self, locale, fallback) {
            (Text::Msg(m), _, _) => m.render(locale),
            (Text::Plain(s), Locale::En, _) => s.clone(),
            (Text::Plain(_), _, Some(f)) => f.render(locale),
            (Text::Plain(s), _, None) => s.clone(),
        }
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Locale::En, None))
    }
}

impl From<Msg> for Text {
    fn from(m: Msg) -> Self {
        Text::Msg(m)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::Plain(s)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::Plain(s.to_owned())
    }
}

thread_local! {
    static RENDERING: std::cell::Cell<Locale> = const { std::cell::Cell::new(Locale::En) };
}

/// Runs `f` (a serialization) with `locale` as the language of the text it writes: what
/// serializes a [`Text`] field reads [`current_locale`].
pub fn with_locale<T>(locale: Locale, f: impl FnOnce() -> T) -> T {
    let before = RENDERING.with(|r| r.replace(locale));
    let out = f();
    RENDERING.with(|r| r.set(before));
    out
}

/// The language of the serialization under way (English outside [`with_locale`]).
pub fn current_locale() -> Locale {
    RENDERING.with(std::cell::Cell::get)
}

/// Sentences, each rendered and joined by a space.
pub fn render_all(msgs: &[Msg], locale: Locale) -> String {
    msgs.iter()
        .map(|m| m.render(locale))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "a", "a and b", "a, b and c" (French: "a, b et c").
pub fn join_words(words: &[String], locale: Locale) -> String {
    let and = match locale {
        Locale::En => "and",
        Locale::Fr => "et",
    };
    match words {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Replaces each `{name}` of `template` by its argument, in one pass (an argument that itself
/// holds braces is never read as a placeholder).
fn fill(template: &str, args: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders of a template, sorted.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        names.push(after[..end].to_owned());
        rest = &after[end + 1..];
    }
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_french_text_with_the_same_placeholders() {
        for (key, en, fr, fields) in Msg::ENTRIES {
            assert!(!en.trim().is_empty(), "{key}: no English text");
            assert!(!fr.trim().is_empty(), "{key}: no French text");
            assert_ne!(en, fr, "{key}: the French text is the English one");
            assert_eq!(placeholders(en), placeholders(fr), "{key}");
            let mut declared: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
            declared.sort();
            assert_eq!(
                placeholders(en),
                declared,
                "{key}: placeholders and arguments"
            );
        }
    }

    #[test]
    fn every_label_has_a_french_text() {
        fn check<T: Copy + std::fmt::Debug>(all: &[T], label: impl Fn(T, Locale) -> &'static str) {
            for v in all {
                assert!(!label(*v, Locale::Fr).trim().is_empty(), "{v:?}");
                assert!(!label(*v, Locale::En).trim().is_empty(), "{v:?}");
            }
        }
        check(InquiryType::ALL, InquiryType::label_in);
        check(TherapeuticArea::ALL, TherapeuticArea::label_in);
        check(Modality::ALL, Modality::label_in);
        check(Stage::ALL, Stage::label_in);
        check(DeclineReason::ALL, DeclineReason::label_in);
        check(WithdrawalReason::ALL, WithdrawalReason::label_in);
        check(ActorKind::ALL, ActorKind::label_in);
        check(AuditObjectType::ALL, AuditObjectType::label_in);
        check(AuditAction::ALL, AuditAction::label_in);
        check(OrganizationType::ALL, OrganizationType::label_in);
        check(EventType::ALL, EventType::label_in);
        check(ReferralStatus::ALL, ReferralStatus::label_in);
        check(Role::ALL, Role::label_in);
    }

    #[test]
    fn arguments_are_rendered_in_the_sentence_language() {
        let m = Msg::TransitionRefused {
            from: State(ReferralStatus::New),
            to: State(ReferralStatus::Accepted),
            allowed: States(vec![ReferralStatus::Acknowledged, ReferralStatus::Declined]),
        };
        assert_eq!(
            m.render(Locale::En),
            "A referral in status new cannot become accepted; allowed: acknowledged, declined."
        );
        assert_eq!(
            m.render(Locale::Fr),
            "Un dossier au statut « nouveau » ne peut pas passer au statut « accepté » ; statuts possibles : « réception confirmée », « refusé »."
        );
        let accepts = Msg::Accepts {
            institution: "Institut Curie".into(),
            kind: Kind(InquiryType::ClinicalTrial),
        };
        assert_eq!(
            accepts.render(Locale::En),
            "Institut Curie accepts inquiries for clinical trial placement."
        );
        assert_eq!(
            accepts.render(Locale::Fr),
            "Institut Curie accepte les demandes de type « Placement d'un essai clinique »."
        );
    }

    #[test]
    fn an_argument_holding_braces_is_not_read_as_a_placeholder() {
        let m = Msg::AlreadyHasInquiry {
            institution: "{institution} & co".into(),
        };
        assert_eq!(
            m.render(Locale::En),
            "{institution} & co already has this inquiry."
        );
    }

    #[test]
    fn messages_survive_storage() {
        let m = Msg::ContactCovers {
            contact: "Dr Claire Martin".into(),
            covers: CoveredList(vec![
                Covered::InquiryType,
                Covered::Area(TherapeuticArea::Prostate),
            ]),
            tie: Tie::OnlyContact,
        };
        let stored = serde_json::to_string(&m).unwrap_or_default();
        let back: Option<Msg> = serde_json::from_str(&stored).ok();
        assert_eq!(back, Some(m));
    }

    #[test]
    fn plain_text_falls_back_to_the_codes_sentence_in_french() {
        let text = Text::from("Every referral of this inquiry is already closed.");
        let fallback = Msg::for_problem_code("nothing_to_withdraw");
        assert_eq!(
            text.render(Locale::En, fallback.clone()),
            "Every referral of this inquiry is already closed."
        );
        assert_eq!(
            text.render(Locale::Fr, fallback),
            "Tous les dossiers de cette demande sont déjà clos."
        );
    }
}
