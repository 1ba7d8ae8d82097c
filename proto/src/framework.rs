//! A typed provider framework over the tfplugin6 `Provider` service, in the
//! manner of terraform-plugin-framework. A provider is a [`ProviderDef`] (its
//! block, and the context configuring it yields) plus a [`Registry`] of
//! [`Resource`]s and [`DataSource`]s. [`Framework`] serves the gRPC surface
//! once for all of them: it decodes and encodes values against each type's
//! schema (types computed once), dispatches by type name (an unknown name is
//! an error, never a default), and answers protocol-level mistakes with gRPC
//! errors while everything that is the user's business travels as
//! diagnostics. Adding a resource is one type implementing [`Resource`] and
//! one [`Registry::resource`] line.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use tonic::{Request, Response, Status};

use crate::cty::{self, AttrPath, Type, Value};
use crate::tfplugin6::{self, provider_server::Provider, DynamicValue};

/// Diagnostics returned to Terraform.
pub type Diags = Vec<tfplugin6::Diagnostic>;

/// An error diagnostic, optionally pointing at an attribute.
pub fn error(
    summary: impl Into<String>,
    detail: impl Into<String>,
    at: Option<AttrPath>,
) -> tfplugin6::Diagnostic {
    cty::path::error_diagnostic(summary, detail, at)
}

/// What `PlanResourceChange` hands a resource (create or update; a destroy
/// is planned as null without asking the resource).
pub struct PlanRequest<'a> {
    pub prior: &'a Value,
    pub proposed: &'a Value,
    pub config: &'a Value,
    pub prior_private: &'a [u8],
}

/// A planned create or update.
pub struct Planned {
    pub state: Value,
    pub requires_replace: Vec<AttrPath>,
    /// Private state handed to the apply (Terraform keeps it in saved plans).
    pub private: Vec<u8>,
}

/// What `ApplyResourceChange` hands a resource; `planned` is null for a delete.
pub struct ApplyRequest<'a> {
    pub prior: &'a Value,
    pub planned: &'a Value,
    pub config: &'a Value,
    pub planned_private: &'a [u8],
}

/// The state (null after a delete) and private state an apply leaves.
pub struct Applied {
    pub state: Value,
    pub private: Vec<u8>,
}

/// A managed resource type. `C` is the provider's configured context.
#[tonic::async_trait]
pub trait Resource<C>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> tfplugin6::Schema;
    /// Plan-time checks of the configuration (values may be unknown).
    fn validate(&self, _config: &Value) -> Diags {
        Vec::new()
    }
    /// `ctx` is None while the provider is not configured yet (Terraform
    /// may plan before configuring, e.g. during validation). An error fails
    /// the plan.
    async fn plan(&self, ctx: Option<&C>, req: PlanRequest<'_>) -> Result<Planned, Diags>;
    /// Refresh: the remote object as it is now, or null when it is gone.
    async fn read(&self, ctx: &C, current: &Value) -> Result<Value, Diags>;
    /// Create or update (`planned` non-null) or delete (`planned` null). On
    /// error the prior state stays.
    async fn apply(&self, ctx: &C, req: ApplyRequest<'_>) -> Result<Applied, Diags>;
    async fn import(&self, _ctx: &C, _id: &str) -> Result<Value, Diags> {
        Err(vec![error(
            "Import not supported",
            format!("{} cannot be imported.", self.type_name()),
            None,
        )])
    }
    /// A passthrough resource is served without decoding anything:
    /// validation finds nothing, Read returns the current state and Plan the
    /// proposed one. Only a benchmark peer wants this (so that the codec's
    /// work is billed to the provider it is compared with, not to itself).
    fn passthrough(&self) -> bool {
        false
    }
}

/// A data source type. `C` is the provider's configured context.
#[tonic::async_trait]
pub trait DataSource<C>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> tfplugin6::Schema;
    fn validate(&self, _config: &Value) -> Diags {
        Vec::new()
    }
    async fn read(&self, ctx: &C, config: &Value) -> Result<Value, Diags>;
}

/// The provider itself: its configuration block and what configuring yields.
#[tonic::async_trait]
pub trait ProviderDef: Send + Sync + 'static {
    /// What resources and data sources get once configured (a client, ...).
    type Context: Send + Sync + 'static;
    fn schema(&self) -> tfplugin6::Schema;
    async fn configure(&self, config: &Value) -> Result<Self::Context, Diags>;
}

/// The resource and data source types a provider serves.
pub struct Registry<C> {
    resources: Vec<Arc<dyn Resource<C>>>,
    data_sources: Vec<Arc<dyn DataSource<C>>>,
}

impl<C> Default for Registry<C> {
    fn default() -> Self {
        Registry {
            resources: Vec::new(),
            data_sources: Vec::new(),
        }
    }
}

impl<C: Send + Sync + 'static> Registry<C> {
    pub fn new() -> Self {
        Self::default()
    }

    /// # Panics
    /// When a resource type of that name is registered already: a
    /// programming error, caught by the provider's first test.
    pub fn resource(mut self, r: impl Resource<C>) -> Self {
        let name = r.type_name();
        assert!(
            self.resources.iter().all(|x| x.type_name() != name),
            "resource type {name} registered twice"
        );
        self.resources.push(Arc::new(r));
        self
    }

    /// # Panics
    /// When a data source type of that name is registered already.
    pub fn data_source(mut self, d: impl DataSource<C>) -> Self {
        let name = d.type_name();
        assert!(
            self.data_sources.iter().all(|x| x.type_name() != name),
            "data source type {name} registered twice"
        );
        self.data_sources.push(Arc::new(d));
        self
    }

    pub fn resources(&self) -> impl Iterator<Item = &Arc<dyn Resource<C>>> {
        self.resources.iter()
    }

    pub fn data_sources(&self) -> impl Iterator<Item = &Arc<dyn DataSource<C>>> {
        self.data_sources.iter()
    }
}

/// The object type of values conforming to `block`.
pub fn block_type(block: &tfplugin6::schema::Block) -> Type {
    let mut attrs: Vec<(String, Type)> = block
        .attributes
        .iter()
        .map(|a| {
            // An attribute type that is not valid JSON is a bug in the
            // schema's author; string keeps the value readable.
            let ty = Type::from_json_bytes(&a.r#type).unwrap_or(Type::String);
            (a.name.clone(), ty)
        })
        .collect();
    for nb in &block.block_types {
        let inner = nb
            .block
            .as_ref()
            .map(block_type)
            .unwrap_or(Type::object(Vec::<(String, Type)>::new()));
        attrs.push((nb.type_name.clone(), inner));
    }
    Type::object(attrs)
}

/// The object type of a schema's values.
pub fn schema_type(s: &tfplugin6::Schema) -> Type {
    s.block
        .as_ref()
        .map(block_type)
        .unwrap_or(Type::object(Vec::<(String, Type)>::new()))
}

struct Entry<T: ?Sized> {
    imp: Arc<T>,
    ty: Type,
}

/// Serves a [`ProviderDef`] and its [`Registry`] as a tfplugin6 provider.
pub struct Framework<P: ProviderDef> {
    def: P,
    registry: Registry<P::Context>,
    configured: RwLock<Option<Arc<P::Context>>>,
    built: OnceLock<Built<P::Context>>,
}

/// Schemas, types and the schema answers, built on the first RPC rather
/// than before the handshake: building them costs milliseconds Terraform
/// would otherwise wait for at every provider start.
struct Built<C> {
    provider_type: Type,
    resources: HashMap<&'static str, Entry<dyn Resource<C>>>,
    data_sources: HashMap<&'static str, Entry<dyn DataSource<C>>>,
    schema_response: tfplugin6::get_provider_schema::Response,
    metadata_response: tfplugin6::get_metadata::Response,
}

/// `get_provider_schema_optional`: framework schemas never depend on
/// provider configuration, so Terraform may reuse the one it cached from the
/// first process instead of fetching it again from each one it starts.
fn capabilities() -> tfplugin6::ServerCapabilities {
    tfplugin6::ServerCapabilities {
        get_provider_schema_optional: true,
        ..Default::default()
    }
}

fn decode(dv: Option<&DynamicValue>, ty: &Type) -> Result<Value, Status> {
    cty::decode_optional_dynamic_value(dv, ty)
        .map_err(|e| Status::invalid_argument(format!("cannot decode value: {e}")))
}

fn encode(v: &Value, ty: &Type) -> Result<Option<DynamicValue>, Status> {
    cty::encode_dynamic_value(v, ty)
        .map(Some)
        .map_err(|e| Status::internal(format!("cannot encode value: {e}")))
}

impl<P: ProviderDef> Framework<P> {
    pub fn new(def: P, registry: Registry<P::Context>) -> Self {
        Framework {
            def,
            registry,
            configured: RwLock::new(None),
            built: OnceLock::new(),
        }
    }

    fn built(&self) -> &Built<P::Context> {
        self.built.get_or_init(|| {
            let provider_schema = self.def.schema();
            let mut resources = HashMap::new();
            let mut data_sources = HashMap::new();
            let mut schema_response = tfplugin6::get_provider_schema::Response {
                provider: Some(provider_schema.clone()),
                server_capabilities: Some(capabilities()),
                ..Default::default()
            };
            let mut metadata_response = tfplugin6::get_metadata::Response {
                server_capabilities: Some(capabilities()),
                ..Default::default()
            };
            for r in &self.registry.resources {
                let name = r.type_name();
                let schema = r.schema();
                let ty = schema_type(&schema);
                schema_response
                    .resource_schemas
                    .insert(name.to_string(), schema);
                metadata_response
                    .resources
                    .push(tfplugin6::get_metadata::ResourceMetadata {
                        type_name: name.to_string(),
                    });
                resources.insert(name, Entry { imp: r.clone(), ty });
            }
            for d in &self.registry.data_sources {
                let name = d.type_name();
                let schema = d.schema();
                let ty = schema_type(&schema);
                schema_response
                    .data_source_schemas
                    .insert(name.to_string(), schema);
                metadata_response
                    .data_sources
                    .push(tfplugin6::get_metadata::DataSourceMetadata {
                        type_name: name.to_string(),
                    });
                data_sources.insert(name, Entry { imp: d.clone(), ty });
            }
            Built {
                provider_type: schema_type(&provider_schema),
                resources,
                data_sources,
                schema_response,
                metadata_response,
            }
        })
    }

    /// The `GetProviderSchema` answer.
    pub fn schema_response(&self) -> &tfplugin6::get_provider_schema::Response {
        &self.built().schema_response
    }

    /// The `GetMetadata` answer.
    pub fn metadata_response(&self) -> &tfplugin6::get_metadata::Response {
        &self.built().metadata_response
    }

    /// The value type of resource `name`, if registered.
    pub fn resource_type(&self, name: &str) -> Option<&Type> {
        self.built().resources.get(name).map(|e| &e.ty)
    }

    fn resource(&self, name: &str) -> Result<&Entry<dyn Resource<P::Context>>, Status> {
        self.built()
            .resources
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown resource type {name}")))
    }

    fn data_source(&self, name: &str) -> Result<&Entry<dyn DataSource<P::Context>>, Status> {
        self.built()
            .data_sources
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown data source {name}")))
    }

    fn context(&self) -> Option<Arc<P::Context>> {
        self.configured
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn configured(&self) -> Result<Arc<P::Context>, Diags> {
        self.context().ok_or_else(|| {
            vec![error(
                "Provider not configured",
                "The provider was not configured (see earlier errors about its configuration).",
                None,
            )]
        })
    }
}

#[tonic::async_trait]
impl<P: ProviderDef> Provider for Framework<P> {
    async fn get_metadata(
        &self,
        _: Request<tfplugin6::get_metadata::Request>,
    ) -> Result<Response<tfplugin6::get_metadata::Response>, Status> {
        Ok(Response::new(self.built().metadata_response.clone()))
    }

    async fn get_provider_schema(
        &self,
        _: Request<tfplugin6::get_provider_schema::Request>,
    ) -> Result<Response<tfplugin6::get_provider_schema::Response>, Status> {
        Ok(Response::new(self.built().schema_response.clone()))
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
        let e = self.resource(&req.type_name)?;
        let diagnostics = if e.imp.passthrough() {
            Vec::new()
        } else {
            e.imp.validate(&decode(req.config.as_ref(), &e.ty)?)
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
        let e = self.data_source(&req.type_name)?;
        let config = decode(req.config.as_ref(), &e.ty)?;
        Ok(Response::new(
            tfplugin6::validate_data_resource_config::Response {
                diagnostics: e.imp.validate(&config),
            },
        ))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<tfplugin6::upgrade_resource_state::Request>,
    ) -> Result<Response<tfplugin6::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let e = self.resource(&req.type_name)?;
        let raw = req.raw_state.unwrap_or_default();
        // Schema version 0 is the only one so far: the stored JSON is
        // current. It goes back as msgpack, which Terraform decodes faster.
        let (state, diagnostics) = match cty::json::decode(&raw.json, &e.ty) {
            Ok(v) => (v, vec![]),
            Err(err) => (
                Value::Null,
                vec![error("Cannot read stored state", err.to_string(), None)],
            ),
        };
        Ok(Response::new(tfplugin6::upgrade_resource_state::Response {
            upgraded_state: encode(&state, &e.ty)?,
            diagnostics,
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<tfplugin6::configure_provider::Request>,
    ) -> Result<Response<tfplugin6::configure_provider::Response>, Status> {
        let req = req.into_inner();
        let config = decode(req.config.as_ref(), &self.built().provider_type)?;
        let diagnostics = match self.def.configure(&config).await {
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
        let e = self.resource(&req.type_name)?;
        if e.imp.passthrough() {
            return Ok(Response::new(tfplugin6::read_resource::Response {
                new_state: req.current_state,
                private: req.private,
                ..Default::default()
            }));
        }
        let current = decode(req.current_state.as_ref(), &e.ty)?;
        let result = match self.configured() {
            Ok(c) => e.imp.read(&c, &current).await,
            Err(d) => Err(d),
        };
        let (state, diagnostics) = match result {
            Ok(v) => (v, vec![]),
            Err(d) => (current, d),
        };
        Ok(Response::new(tfplugin6::read_resource::Response {
            new_state: encode(&state, &e.ty)?,
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
        let e = self.resource(&req.type_name)?;
        if e.imp.passthrough() {
            return Ok(Response::new(tfplugin6::plan_resource_change::Response {
                planned_state: req.proposed_new_state,
                planned_private: req.prior_private,
                ..Default::default()
            }));
        }
        let prior = decode(req.prior_state.as_ref(), &e.ty)?;
        let proposed = decode(req.proposed_new_state.as_ref(), &e.ty)?;
        let config = decode(req.config.as_ref(), &e.ty)?;
        let planned = if proposed.is_null() {
            Ok(Planned {
                state: Value::Null,
                requires_replace: Vec::new(),
                private: req.prior_private.clone(),
            })
        } else {
            let ctx = self.context();
            e.imp
                .plan(
                    ctx.as_deref(),
                    PlanRequest {
                        prior: &prior,
                        proposed: &proposed,
                        config: &config,
                        prior_private: &req.prior_private,
                    },
                )
                .await
        };
        let resp = match planned {
            Ok(p) => tfplugin6::plan_resource_change::Response {
                planned_state: encode(&p.state, &e.ty)?,
                requires_replace: p.requires_replace.into_iter().map(Into::into).collect(),
                planned_private: p.private,
                ..Default::default()
            },
            Err(diagnostics) => tfplugin6::plan_resource_change::Response {
                planned_state: encode(&proposed, &e.ty)?,
                planned_private: req.prior_private,
                diagnostics,
                ..Default::default()
            },
        };
        Ok(Response::new(resp))
    }

    async fn apply_resource_change(
        &self,
        req: Request<tfplugin6::apply_resource_change::Request>,
    ) -> Result<Response<tfplugin6::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let e = self.resource(&req.type_name)?;
        let prior = decode(req.prior_state.as_ref(), &e.ty)?;
        let planned = decode(req.planned_state.as_ref(), &e.ty)?;
        let config = decode(req.config.as_ref(), &e.ty)?;
        let result = match self.configured() {
            Ok(c) => {
                e.imp
                    .apply(
                        &c,
                        ApplyRequest {
                            prior: &prior,
                            planned: &planned,
                            config: &config,
                            planned_private: &req.planned_private,
                        },
                    )
                    .await
            }
            Err(d) => Err(d),
        };
        // On failure the prior state stays: a refused write changed nothing.
        let (state, private, diagnostics) = match result {
            Ok(a) => (a.state, a.private, vec![]),
            Err(d) => (prior, req.planned_private, d),
        };
        Ok(Response::new(tfplugin6::apply_resource_change::Response {
            new_state: encode(&state, &e.ty)?,
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
        let e = self.resource(&req.type_name)?;
        let result = match self.configured() {
            Ok(c) => e.imp.import(&c, &req.id).await,
            Err(d) => Err(d),
        };
        let (imported_resources, diagnostics) = match result {
            Ok(state) => (
                vec![tfplugin6::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: encode(&state, &e.ty)?,
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
        let e = self.data_source(&req.type_name)?;
        let config = decode(req.config.as_ref(), &e.ty)?;
        let result = match self.configured() {
            Ok(c) => e.imp.read(&c, &config).await,
            Err(d) => Err(d),
        };
        let (state, diagnostics) = match result {
            Ok(v) => (v, vec![]),
            Err(d) => (config, d),
        };
        Ok(Response::new(tfplugin6::read_data_source::Response {
            state: encode(&state, &e.ty)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Def;

    #[tonic::async_trait]
    impl ProviderDef for Def {
        type Context = ();
        fn schema(&self) -> tfplugin6::Schema {
            tfplugin6::Schema::default()
        }
        async fn configure(&self, _: &Value) -> Result<(), Diags> {
            Ok(())
        }
    }

    fn schema() -> tfplugin6::Schema {
        tfplugin6::Schema {
            version: 0,
            block: Some(tfplugin6::schema::Block {
                attributes: vec![tfplugin6::schema::Attribute {
                    name: "name".into(),
                    r#type: Type::String.to_json_bytes(),
                    required: true,
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    }

    /// Counts the typed calls that reach it; refuses plans named "bad".
    struct Counted {
        name: &'static str,
        passthrough: bool,
        calls: Arc<AtomicU32>,
    }

    #[tonic::async_trait]
    impl Resource<()> for Counted {
        fn type_name(&self) -> &'static str {
            self.name
        }
        fn schema(&self) -> tfplugin6::Schema {
            schema()
        }
        fn passthrough(&self) -> bool {
            self.passthrough
        }
        async fn plan(&self, _: Option<&()>, req: PlanRequest<'_>) -> Result<Planned, Diags> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if req.config.get_attr("name").and_then(Value::as_str) == Some("bad") {
                return Err(vec![error("Bad name", "refused", None)]);
            }
            Ok(Planned {
                state: req.proposed.clone(),
                requires_replace: Vec::new(),
                private: b"p".to_vec(),
            })
        }
        async fn read(&self, _: &(), current: &Value) -> Result<Value, Diags> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(current.clone())
        }
        async fn apply(&self, _: &(), req: ApplyRequest<'_>) -> Result<Applied, Diags> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(Applied {
                state: req.planned.clone(),
                private: Vec::new(),
            })
        }
    }

    fn framework(passthrough: bool) -> (Framework<Def>, Arc<AtomicU32>) {
        let calls = Arc::new(AtomicU32::new(0));
        let f = Framework::new(
            Def,
            Registry::new().resource(Counted {
                name: "t_thing",
                passthrough,
                calls: calls.clone(),
            }),
        );
        (f, calls)
    }

    fn dv(name: &str) -> Option<DynamicValue> {
        let ty = schema_type(&schema());
        Some(
            cty::encode_dynamic_value(&Value::object([("name", Value::string(name))]), &ty)
                .unwrap(),
        )
    }

    fn plan_req(name: &str, type_name: &str) -> Request<tfplugin6::plan_resource_change::Request> {
        Request::new(tfplugin6::plan_resource_change::Request {
            type_name: type_name.into(),
            prior_state: dv(name),
            proposed_new_state: dv(name),
            config: dv(name),
            ..Default::default()
        })
    }

    #[tokio::test]
    async fn unknown_type_names_are_errors_never_a_default() {
        let (f, calls) = framework(false);
        let err = f
            .plan_resource_change(plan_req("a", "t_other"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
        assert!(err.message().contains("t_other"));
        let err = f
            .read_data_source(Request::new(tfplugin6::read_data_source::Request {
                type_name: "t_thing".into(),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            tonic::Code::NotFound,
            "a resource is not a data source"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn malformed_values_are_refused_before_the_resource() {
        let (f, calls) = framework(false);
        let mut req = plan_req("a", "t_thing");
        req.get_mut().config = Some(DynamicValue {
            msgpack: vec![0xc1],
            json: vec![],
        });
        let err = f.plan_resource_change(req).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn plans_carry_private_state_and_diagnostics() {
        let (f, _) = framework(false);
        let ok = f
            .plan_resource_change(plan_req("a", "t_thing"))
            .await
            .unwrap()
            .into_inner();
        assert!(ok.diagnostics.is_empty());
        assert_eq!(ok.planned_private, b"p");
        let bad = f
            .plan_resource_change(plan_req("bad", "t_thing"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(bad.diagnostics.len(), 1);
        assert_eq!(bad.diagnostics[0].summary, "Bad name");
        // Read before ConfigureProvider: a diagnostic, the state kept
        let read = f
            .read_resource(Request::new(tfplugin6::read_resource::Request {
                type_name: "t_thing".into(),
                current_state: dv("a"),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.diagnostics[0].summary, "Provider not configured");
        assert_eq!(read.new_state, dv("a"));
    }

    #[tokio::test]
    async fn passthrough_serves_read_and_plan_without_decoding() {
        let (f, calls) = framework(true);
        // bytes that do not even decode come back untouched
        let junk = Some(DynamicValue {
            msgpack: vec![0xc1],
            json: vec![],
        });
        let plan = f
            .plan_resource_change(Request::new(tfplugin6::plan_resource_change::Request {
                type_name: "t_thing".into(),
                proposed_new_state: junk.clone(),
                prior_private: b"x".to_vec(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(plan.planned_state, junk);
        assert_eq!(plan.planned_private, b"x");
        let read = f
            .read_resource(Request::new(tfplugin6::read_resource::Request {
                type_name: "t_thing".into(),
                current_state: junk.clone(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.new_state, junk);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_type_registered_twice_is_refused() {
        let calls = Arc::new(AtomicU32::new(0));
        let thing = |calls: &Arc<AtomicU32>| Counted {
            name: "t_thing",
            passthrough: false,
            calls: calls.clone(),
        };
        let _ = Framework::new(
            Def,
            Registry::new()
                .resource(thing(&calls))
                .resource(thing(&calls)),
        );
    }
}
