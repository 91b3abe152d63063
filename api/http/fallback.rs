//! Requests no route takes: 405 with `Allow` when the path exists under another method, 404
//! otherwise. The known paths come from the OpenAPI document, which lists every route.

use actix_web::dev::ResourceDef;
use actix_web::{HttpRequest, web};
use utoipa::openapi::OpenApi;

use crate::error::ApiError;

pub struct KnownRoutes(Vec<(ResourceDef, Vec<&'static str>)>);

impl KnownRoutes {
    pub fn from_spec(spec: &OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                // The app's one route takes every path under /app/, slashes included
                // (`/app/sessions/{id}`); OpenAPI can only write it as one segment.
                let def = match path.as_str() {
                    "/app/{path}" => ResourceDef::new("/app/{path:.*}"),
                    other => ResourceDef::new(other),
                };
                (def, methods)
            })
            .collect();
        Self(routes)
    }

    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let methods: Vec<String> = self
            .0
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().map(|m| m.to_string()))
            .collect();
        (!methods.is_empty()).then_some(methods)
    }
}

pub async fn handler(req: HttpRequest, known: web::Data<KnownRoutes>) -> Result<actix_web::HttpResponse, ApiError> {
    match known.allowed(req.path()) {
        Some(allow) => Err(ApiError::MethodNotAllowed { allow }),
        None => Err(ApiError::NotFound),
    }
}
