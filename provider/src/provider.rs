//! The tfplugin6 `Provider` service: decodes requests, dispatches to the
//! resource and data source modules, encodes responses. Failures that are
//! the user's business become diagnostics; only malformed protocol input
//! becomes a gRPC error.

use std::sync::{Arc, OnceLock, RwLock};

use ssoplane_proto::cty::{self, Type, Value};
use ssoplane_proto::tfplugin6::{self, provider_server::Provider};
use ssoplane_proto::tonic::{self, Request, Response, Status};

use crate::config::{self, Configured};
use crate::data_sources::{sp_metadata, sso_settings as ds_settings};
use crate::resources::{group, sso_settings};
use crate::values::{decode, encode, error, Diags};

#[derive(Default)]
pub struct SsoPlaneProvider {
    configured: RwLock<Option<Arc<Configured>>>,
}

/// Every schema the provider serves, for the RPC and the docs generator.
pub struct Schemas {
    pub provider: tfplugin6::Schema,
    pub resources: Vec<(&'static str, tfplugin6::Schema)>,
    pub data_sources: Vec<(&'static str, tfplugin6::Schema)>,
}

pub fn schemas() -> Schemas {
    Schemas {
        provider: config::provider_schema(),
        resources: vec![
            (sso_settings::TYPE_NAME, sso_settings::schema()),
            (group::TYPE_NAME, group::schema()),
        ],
        data_sources: vec![
            (ds_settings::TYPE_NAME, ds_settings::schema()),
            (sp_metadata::TYPE_NAME, sp_metadata::schema()),
        ],
    }
}

/// What the schema RPCs serve, built once per process: the settings block
/// alone has ~60 attributes with generated descriptions, and Terraform asks
/// for it from every provider process it starts.
struct Cached {
    schemas: Schemas,
    schema_response: tfplugin6::get_provider_schema::Response,
    provider_type: Type,
}

fn cached() -> &'static Cached {
    static C: OnceLock<Cached> = OnceLock::new();
    C.get_or_init(|| {
        let schemas = schemas();
        let schema_response = tfplugin6::get_provider_schema::Response {
            provider: Some(schemas.provider.clone()),
            resource_schemas: schemas
                .resources
                .iter()
                .map(|(n, s)| (n.to_string(), s.clone()))
                .collect(),
            data_source_schemas: schemas
                .data_sources
                .iter()
                .map(|(n, s)| (n.to_string(), s.clone()))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        };
        let provider_type = crate::schema::schema_type(&schemas.provider);
        Cached {
            schemas,
            schema_response,
            provider_type,
        }
    })
}

/// The `GetProviderSchema` answer (every schema plus the server
/// capabilities), built once per process.
pub fn schema_response() -> &'static tfplugin6::get_provider_schema::Response {
    &cached().schema_response
}

/// `GetMetadata`: our resource and data source names and capabilities
/// (also served by the benchmark's same-schema twin).
pub fn metadata_response() -> tfplugin6::get_metadata::Response {
    let s = &cached().schemas;
    tfplugin6::get_metadata::Response {
        server_capabilities: Some(capabilities()),
        resources: s
            .resources
            .iter()
            .map(|(n, _)| tfplugin6::get_metadata::ResourceMetadata {
                type_name: n.to_string(),
            })
            .collect(),
        data_sources: s
            .data_sources
            .iter()
            .map(|(n, _)| tfplugin6::get_metadata::DataSourceMetadata {
                type_name: n.to_string(),
            })
            .collect(),
        ..Default::default()
    }
}

/// `get_provider_schema_optional`: our schema never depends on provider
/// configuration, so Terraform may reuse the one it cached from the first
/// process instead of fetching it again from each one it starts (it
/// starts one per graph walk).
fn capabilities() -> tfplugin6::ServerCapabilities {
    tfplugin6::ServerCapabilities {
        get_provider_schema_optional: true,
        ..Default::default()
    }
}

fn resource_type(name: &str) -> Result<&'static Type, Status> {
    match name {
        sso_settings::TYPE_NAME => Ok(sso_settings::ty()),
        group::TYPE_NAME => Ok(group::ty()),
        _ => Err(Status::not_found(format!("unknown resource type {name}"))),
    }
}

fn data_source_type(name: &str) -> Result<&'static Type, Status> {
    match name {
        ds_settings::TYPE_NAME => Ok(ds_settings::ty()),
        sp_metadata::TYPE_NAME => Ok(sp_metadata::ty()),
        _ => Err(Status::not_found(format!("unknown data source {name}"))),
    }
}

impl SsoPlaneProvider {
    fn configured(&self) -> Result<Arc<Configured>, Diags> {
        let guard = self.configured.read().unwrap_or_else(|p| p.into_inner());
        guard.clone().ok_or_else(|| {
            vec![error(
                "Provider not configured",
                "The ssoplane provider was not configured (see earlier errors about url/token).",
                None,
            )]
        })
    }

    /// Root URL when configured; plans still work (with unknown SP URLs)
    /// when Terraform plans before configuring, e.g. during validation.
    fn root_url(&self) -> Option<String> {
        let guard = self.configured.read().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(|c| c.info.root_url.clone())
    }
}

#[tonic::async_trait]
impl Provider for SsoPlaneProvider {
    async fn get_metadata(
        &self,
        _: Request<tfplugin6::get_metadata::Request>,
    ) -> Result<Response<tfplugin6::get_metadata::Response>, Status> {
        Ok(Response::new(metadata_response()))
    }

    async fn get_provider_schema(
        &self,
        _: Request<tfplugin6::get_provider_schema::Request>,
    ) -> Result<Response<tfplugin6::get_provider_schema::Response>, Status> {
        Ok(Response::new(schema_response().clone()))
    }

    async fn validate_provider_config(
        &self,
        _: Request<tfplugin6::validate_provider_config::Request>,
    ) -> Result<Response<tfplugin6::validate_provider_config::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn validate_resource_config(
        &self,
        req: Request<tfplugin6::validate_resource_config::Request>,
    ) -> Result<Response<tfplugin6::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        let config = decode(req.config.as_ref(), resource_type(&req.type_name)?)?;
        let diagnostics = match req.type_name.as_str() {
            sso_settings::TYPE_NAME => sso_settings::validate_config(&config),
            _ => group::validate_config(&config),
        };
        Ok(Response::new(
            tfplugin6::validate_resource_config::Response { diagnostics },
        ))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<tfplugin6::validate_data_resource_config::Request>,
    ) -> Result<Response<tfplugin6::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        let config = decode(req.config.as_ref(), data_source_type(&req.type_name)?)?;
        Ok(Response::new(
            tfplugin6::validate_data_resource_config::Response {
                diagnostics: ds_settings::validate_config(&config),
            },
        ))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<tfplugin6::upgrade_resource_state::Request>,
    ) -> Result<Response<tfplugin6::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let ty = resource_type(&req.type_name)?;
        let raw = req.raw_state.unwrap_or_default();
        // Schema version 0 is the only one so far: the stored JSON is current.
        let (state, diagnostics) = match cty::json::decode(&raw.json, ty) {
            Ok(v) => (v, vec![]),
            Err(e) => (
                Value::Null,
                vec![error("Cannot read stored state", e.to_string(), None)],
            ),
        };
        Ok(Response::new(tfplugin6::upgrade_resource_state::Response {
            upgraded_state: encode(&state, ty)?,
            diagnostics,
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<tfplugin6::configure_provider::Request>,
    ) -> Result<Response<tfplugin6::configure_provider::Response>, Status> {
        let req = req.into_inner();
        let config = decode(req.config.as_ref(), &cached().provider_type)?;
        let diagnostics = match config::configure(&config).await {
            Ok(c) => {
                *self.configured.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(c));
                vec![]
            }
            Err(d) => d,
        };
        Ok(Response::new(tfplugin6::configure_provider::Response {
            diagnostics,
        }))
    }

    async fn read_resource(
        &self,
        req: Request<tfplugin6::read_resource::Request>,
    ) -> Result<Response<tfplugin6::read_resource::Response>, Status> {
        let req = req.into_inner();
        let ty = resource_type(&req.type_name)?;
        let current = decode(req.current_state.as_ref(), ty)?;
        let result = match self.configured() {
            Err(d) => Err(d),
            Ok(c) => match req.type_name.as_str() {
                sso_settings::TYPE_NAME => sso_settings::read(&c, &current).await,
                _ => group::read(&c, &current).await,
            },
        };
        let (state, diagnostics) = match result {
            Ok(v) => (v, vec![]),
            Err(d) => (current, d),
        };
        Ok(Response::new(tfplugin6::read_resource::Response {
            new_state: encode(&state, ty)?,
            diagnostics,
            private: req.private,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<tfplugin6::plan_resource_change::Request>,
    ) -> Result<Response<tfplugin6::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ty = resource_type(&req.type_name)?;
        let prior = decode(req.prior_state.as_ref(), ty)?;
        let proposed = decode(req.proposed_new_state.as_ref(), ty)?;
        let config = decode(req.config.as_ref(), ty)?;
        let (planned, replace) = if proposed.is_null() {
            (Value::Null, vec![])
        } else {
            match req.type_name.as_str() {
                sso_settings::TYPE_NAME => sso_settings::plan(
                    self.root_url().as_deref(),
                    &prior,
                    &config,
                    &req.prior_private,
                ),
                _ => group::plan(&prior, &config),
            }
        };
        Ok(Response::new(tfplugin6::plan_resource_change::Response {
            planned_state: encode(&planned, ty)?,
            requires_replace: replace.into_iter().map(Into::into).collect(),
            planned_private: req.prior_private,
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<tfplugin6::apply_resource_change::Request>,
    ) -> Result<Response<tfplugin6::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let ty = resource_type(&req.type_name)?;
        let prior = decode(req.prior_state.as_ref(), ty)?;
        let planned = decode(req.planned_state.as_ref(), ty)?;
        let config = decode(req.config.as_ref(), ty)?;
        let result = match self.configured() {
            Err(d) => Err(d),
            Ok(c) => match req.type_name.as_str() {
                sso_settings::TYPE_NAME => {
                    sso_settings::apply(&c, &prior, &planned, &config, &req.planned_private).await
                }
                _ => group::apply(&c, &prior, &planned)
                    .await
                    .map(|v| (v, Vec::new())),
            },
        };
        // On failure the prior state stays (nothing changed on the server
        // for a refused PUT/DELETE).
        let (state, private, diagnostics) = match result {
            Ok((v, p)) => (v, p, vec![]),
            Err(d) => (prior, req.planned_private, d),
        };
        Ok(Response::new(tfplugin6::apply_resource_change::Response {
            new_state: encode(&state, ty)?,
            private,
            diagnostics,
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<tfplugin6::import_resource_state::Request>,
    ) -> Result<Response<tfplugin6::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        let ty = resource_type(&req.type_name)?;
        let result = match self.configured() {
            Err(d) => Err(d),
            Ok(c) => match req.type_name.as_str() {
                sso_settings::TYPE_NAME => sso_settings::import(&c, &req.id).await,
                _ => group::import(&c, &req.id).await,
            },
        };
        let (imported_resources, diagnostics) = match result {
            Ok(state) => (
                vec![tfplugin6::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: encode(&state, ty)?,
                    private: Vec::new(),
                }],
                vec![],
            ),
            Err(d) => (vec![], d),
        };
        Ok(Response::new(tfplugin6::import_resource_state::Response {
            imported_resources,
            diagnostics,
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<tfplugin6::read_data_source::Request>,
    ) -> Result<Response<tfplugin6::read_data_source::Response>, Status> {
        let req = req.into_inner();
        let ty = data_source_type(&req.type_name)?;
        let config = decode(req.config.as_ref(), ty)?;
        let result = match self.configured() {
            Err(d) => Err(d),
            Ok(c) => match req.type_name.as_str() {
                ds_settings::TYPE_NAME => ds_settings::read(&c, &config).await,
                _ => sp_metadata::read(&c, &config).await,
            },
        };
        let (state, diagnostics) = match result {
            Ok(v) => (v, vec![]),
            Err(d) => (config, d),
        };
        Ok(Response::new(tfplugin6::read_data_source::Response {
            state: encode(&state, ty)?,
            diagnostics,
            ..Default::default()
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<tfplugin6::stop_provider::Request>,
    ) -> Result<Response<tfplugin6::stop_provider::Response>, Status> {
        Ok(Response::new(Default::default()))
    }
}
