//! `terraform-provider-minimal`: a test provider with one resource,
//! `minimal_thing { name = string (required), id = string (computed) }`,
//! used to prove handshake, mTLS, schema and the cty codec against the real
//! terraform CLI. Run with `--debug` for reattach mode.

use ssoplane_proto::cty::{self, Type, Value};
use ssoplane_proto::tfplugin6::{self, provider_server::Provider, DynamicValue};
use ssoplane_proto::{serve, ServeOptions};
use tonic::{Request, Response, Status};

const RESOURCE: &str = "minimal_thing";

fn thing_type() -> Type {
    Type::object([("id", Type::String), ("name", Type::String)])
}

fn attr(name: &str, required: bool, computed: bool) -> tfplugin6::schema::Attribute {
    tfplugin6::schema::Attribute {
        name: name.to_string(),
        r#type: Type::String.to_json_bytes(),
        required,
        optional: false,
        computed,
        description: format!("The {name}."),
        ..Default::default()
    }
}

fn schema(attributes: Vec<tfplugin6::schema::Attribute>) -> tfplugin6::Schema {
    tfplugin6::Schema {
        version: 0,
        block: Some(tfplugin6::schema::Block {
            attributes,
            ..Default::default()
        }),
    }
}

fn diag(e: impl std::fmt::Display) -> Vec<tfplugin6::Diagnostic> {
    vec![cty::path::error_diagnostic(
        "Invalid value",
        e.to_string(),
        None,
    )]
}

fn decode(dv: Option<&DynamicValue>) -> Result<Value, Status> {
    cty::decode_optional_dynamic_value(dv, &thing_type())
        .map_err(|e| Status::invalid_argument(e.to_string()))
}

fn encode(v: &Value) -> Result<Option<DynamicValue>, Status> {
    cty::encode_dynamic_value(v, &thing_type())
        .map(Some)
        .map_err(|e| Status::internal(e.to_string()))
}

fn with_attr(v: Value, name: &str, new: Value) -> Value {
    match v {
        Value::Object(mut m) => {
            m.insert(name.to_string(), new);
            Value::Object(m)
        }
        other => other,
    }
}

struct Minimal;

#[tonic::async_trait]
impl Provider for Minimal {
    async fn get_metadata(
        &self,
        _: Request<tfplugin6::get_metadata::Request>,
    ) -> Result<Response<tfplugin6::get_metadata::Response>, Status> {
        Ok(Response::new(tfplugin6::get_metadata::Response {
            resources: vec![tfplugin6::get_metadata::ResourceMetadata {
                type_name: RESOURCE.into(),
            }],
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<tfplugin6::get_provider_schema::Request>,
    ) -> Result<Response<tfplugin6::get_provider_schema::Response>, Status> {
        tracing::debug!("schema requested");
        Ok(Response::new(tfplugin6::get_provider_schema::Response {
            provider: Some(schema(vec![])),
            resource_schemas: [(
                RESOURCE.to_string(),
                schema(vec![attr("id", false, true), attr("name", true, false)]),
            )]
            .into(),
            ..Default::default()
        }))
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
        let diagnostics =
            match cty::decode_optional_dynamic_value(req.config.as_ref(), &thing_type()) {
                Ok(_) => vec![],
                Err(e) => diag(e),
            };
        Ok(Response::new(
            tfplugin6::validate_resource_config::Response { diagnostics },
        ))
    }

    async fn configure_provider(
        &self,
        _: Request<tfplugin6::configure_provider::Request>,
    ) -> Result<Response<tfplugin6::configure_provider::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<tfplugin6::upgrade_resource_state::Request>,
    ) -> Result<Response<tfplugin6::upgrade_resource_state::Response>, Status> {
        let raw = req.into_inner().raw_state.unwrap_or_default();
        let (state, diagnostics) = match cty::json::decode(&raw.json, &thing_type()) {
            Ok(v) => (v, vec![]),
            Err(e) => (Value::Null, diag(e)),
        };
        Ok(Response::new(tfplugin6::upgrade_resource_state::Response {
            upgraded_state: encode(&state)?,
            diagnostics,
        }))
    }

    async fn read_resource(
        &self,
        req: Request<tfplugin6::read_resource::Request>,
    ) -> Result<Response<tfplugin6::read_resource::Response>, Status> {
        let req = req.into_inner();
        Ok(Response::new(tfplugin6::read_resource::Response {
            new_state: req.current_state,
            private: req.private,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<tfplugin6::plan_resource_change::Request>,
    ) -> Result<Response<tfplugin6::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let prior = decode(req.prior_state.as_ref())?;
        let proposed = decode(req.proposed_new_state.as_ref())?;
        let planned = if prior.is_null() && !proposed.is_null() {
            with_attr(proposed, "id", Value::unknown())
        } else {
            proposed
        };
        Ok(Response::new(tfplugin6::plan_resource_change::Response {
            planned_state: encode(&planned)?,
            planned_private: req.prior_private,
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<tfplugin6::apply_resource_change::Request>,
    ) -> Result<Response<tfplugin6::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let planned = decode(req.planned_state.as_ref())?;
        let new_state = match planned.get_attr("id") {
            Some(Value::Unknown(_)) => {
                let name = planned
                    .get_attr("name")
                    .and_then(Value::as_str)
                    .unwrap_or("unnamed")
                    .to_string();
                with_attr(planned, "id", Value::string(format!("thing-{name}")))
            }
            _ => planned,
        };
        Ok(Response::new(tfplugin6::apply_resource_change::Response {
            new_state: encode(&new_state)?,
            private: req.planned_private,
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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let opts = ServeOptions {
        debug: std::env::args().any(|a| a == "--debug"),
        provider_address: "registry.terraform.io/ssoplane/minimal".into(),
        log_module: "provider.minimal".into(),
        ..Default::default()
    };
    if let Err(e) = serve(Minimal, opts).await {
        eprintln!("terraform-provider-minimal: {e}");
        std::process::exit(1);
    }
}
