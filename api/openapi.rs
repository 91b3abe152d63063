//! The OpenAPI document. Paths come from the `#[utoipa::path]` handlers as they are registered
//! (see `startup::routes`); this module adds the parts every operation shares: the bearer
//! security scheme and the problem+json responses the framework produces for any route.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::{Modify, OpenApi as _, ToResponse};

use crate::auth::scopes::Scope;
use crate::error::{FieldError, Problem};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Roundtable API",
        description = "Peer-learning cohorts: charters, sessions, rotating duties, experiments, skill shares and reminders.\n\n\
            Errors are RFC 9457 `application/problem+json` with a stable `code`. Lists take `limit` and `cursor` and \
            answer `{items, next_cursor}`. Times are RFC 3339 in UTC.",
        license(name = "AGPL-3.0-or-later")
    ),
    components(
        schemas(Problem, FieldError),
        responses(RateLimited, InvalidLink, NotFound, Conflict, NotReady)
    ),
    tags(
        (name = "auth", description = "Sign up, sign in, tokens, links by mail"),
        (name = "me", description = "The signed-in user"),
        (name = "tokens", description = "Personal access tokens for third parties"),
        (name = "cohorts", description = "Cohorts you belong to"),
        (name = "members", description = "Who is in a cohort, with which role"),
        (name = "invitations", description = "Invitations by mail and invite links"),
        (name = "charter", description = "The living charter: versions, adoption, acceptance, review"),
        (name = "sessions", description = "Series, sessions, agenda, RSVP, attendance, notes"),
        (name = "rota", description = "Duty roles, absences, the rota, swaps and cover, fairness, coaching pairs"),
        (name = "experiments", description = "Experiments between sessions: check-ins, outcomes, peers"),
        (name = "skill-shares", description = "Skill shares: slots on a session, sign-ups with capacity, a fair waitlist"),
        (name = "webhooks", description = "Signed webhooks: a cohort's events sent to other programs (Standard Webhooks)"),
        (name = "feeds", description = "Calendar feeds (iCalendar): your sessions, duties and due dates in any calendar app"),
        (name = "health", description = "Liveness and readiness"),
        (name = "app", description = "The phone app, served by the binary at /app/ (a PWA; HEAD is answered too)"),
    )
)]
pub struct ApiDoc;

// Problem responses that several operations share, referenced by name from the handlers.

/// `rate_limited`: too many attempts from this address or for this account; retry after the
/// number of seconds in `Retry-After`.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct RateLimited(pub Problem);

/// `invalid_link`: the link is unknown, has expired or was already used.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct InvalidLink(pub Problem);

/// `not_found`: no such object, or it is not visible to the caller.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(pub Problem);

/// The request conflicts with the current state; `code` says how (e.g. `email_taken`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(pub Problem);

/// `not_ready`: the database is unreachable or not migrated.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotReady(pub Problem);

/// The base document, before the routes add their paths.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

const STANDARD_PROBLEMS: [(&str, &str, &str); 8] = [
    ("400", "BadRequest", "`malformed_json`: the body is not JSON"),
    ("401", "Unauthorized", "`missing_token`, `invalid_token` or `token_expired` (see `WWW-Authenticate`)"),
    (
        "403",
        "Forbidden",
        "`forbidden` (role too low), `insufficient_scope` (token), `sign_in_required` or `membership_paused`",
    ),
    ("413", "PayloadTooLarge", "`payload_too_large`: the body is over the limit"),
    ("415", "UnsupportedMediaType", "`unsupported_media_type`: send `Content-Type: application/json`"),
    ("422", "ValidationFailed", "`validation_failed`: `errors` names every invalid field"),
    ("500", "Internal", "`internal`: an unexpected error; quote `request_id`"),
    ("503", "Unavailable", "`database_unavailable`: try again shortly"),
];

/// How personal access tokens work, with every scope, for the security scheme's description.
static PERSONAL_TOKEN_HELP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let scopes: Vec<String> = Scope::ALL.iter().map(|s| format!("`{}`", s.as_str())).collect();
    format!(
        "A personal access token from POST /api/v1/me/tokens, sent as `Authorization: Bearer rt_pat_…`. \
         It acts for its user, limited to its scopes (403 `insufficient_scope` otherwise); it can never manage \
         tokens, sign-ins or the account. Each operation lists the scope it needs. Scopes: {}.",
        scopes.join(", ")
    )
});

/// Adds the security schemes and, to every operation, the problem responses that apply to it.
pub struct SharedParts;

impl Modify for SharedParts {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        // The event stream's types: `Event`, every kind and the payload of each (no route
        // serves them yet; consumers of the stream read them).
        for (name, schema) in crate::events::kind::schemas() {
            components.schemas.insert(name, schema);
        }
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from /api/v1/auth/login, /refresh or a magic link."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "personal_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rt_pat_…")
                    .description(Some(PERSONAL_TOKEN_HELP.as_str()))
                    .build(),
            ),
        );
        for (_, name, description) in STANDARD_PROBLEMS {
            let problem = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
            components.responses.insert(
                name.to_string(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(crate::error::PROBLEM_JSON, problem)
                        .build(),
                ),
            );
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
            {
                add_problems(operation);
            }
        }
    }
}

fn add_problems(operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let has_query =
        operation.parameters.as_ref().is_some_and(|params| params.iter().any(|p| p.parameter_in == ParameterIn::Query));
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    for (status, name, _) in STANDARD_PROBLEMS {
        let applies = match status {
            "400" | "413" | "415" => has_body,
            "422" => has_body || has_query,
            "401" | "403" => secured,
            // Health answers its own 503; the app's files come from the binary, not the database.
            "503" => operation.tags.as_ref().is_none_or(|tags| !tags.iter().any(|t| t == "health" || t == "app")),
            _ => true,
        };
        if applies {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
        }
    }
}
