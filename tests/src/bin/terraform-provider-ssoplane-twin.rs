//! `terraform-provider-ssoplane-twin`: the benchmark's same-schema peer.
//!
//! It serves exactly the schema (and server capabilities) of
//! `terraform-provider-ssoplane`, but every resource RPC does the least the
//! protocol allows: validation finds nothing, `UpgradeResourceState` hands
//! the stored state back (re-encoded as msgpack, like ours), `ReadResource`
//! returns the current state and `PlanResourceChange` the proposed new
//! state without decoding them. A no-change plan of the same configuration and state therefore
//! costs Terraform exactly what ours does, minus our provider's own work,
//! which is what `terraform_plan` uses it to separate.
//!
//! It cannot create anything: the bench copies a state applied by the real
//! provider (with this provider's address) next to the same configuration.

use ssoplane_proto::cty;
use ssoplane_proto::tfplugin6::{self, provider_server::Provider};
use ssoplane_proto::tonic::{self, Request, Response, Status};
use terraform_provider_ssoplane::provider::{metadata_response, schema_response};
use terraform_provider_ssoplane::schema::schema_type;

/// Source address the bench's CLI config overrides.
const ADDRESS: &str = "registry.terraform.io/ssoplane/ssoplane-twin";

struct Twin;

#[tonic::async_trait]
impl Provider for Twin {
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
        _: Request<tfplugin6::validate_resource_config::Request>,
    ) -> Result<Response<tfplugin6::validate_resource_config::Response>, Status> {
        Ok(Response::new(Default::default()))
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
        // Schema version 0 is current, so the stored JSON is the state. It
        // goes back as msgpack, as ours answers: Terraform decodes JSON
        // more slowly, which would bill our provider for Terraform's work.
        let req = req.into_inner();
        let ty = schema_response()
            .resource_schemas
            .get(&req.type_name)
            .map(schema_type)
            .ok_or_else(|| Status::not_found(format!("unknown resource type {}", req.type_name)))?;
        let json = req.raw_state.unwrap_or_default().json;
        let state = cty::json::decode(&json, &ty)
            .and_then(|v| cty::encode_dynamic_value(&v, &ty))
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        Ok(Response::new(tfplugin6::upgrade_resource_state::Response {
            upgraded_state: Some(state),
            diagnostics: Vec::new(),
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
        Ok(Response::new(tfplugin6::plan_resource_change::Response {
            planned_state: req.proposed_new_state,
            planned_private: req.prior_private,
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

#[tokio::main]
async fn main() {
    let opts = ssoplane_proto::ServeOptions {
        provider_address: ADDRESS.into(),
        log_module: "provider.ssoplane-twin".into(),
        ..Default::default()
    };
    if let Err(e) = ssoplane_proto::serve(Twin, opts).await {
        eprintln!("terraform-provider-ssoplane-twin: {e}");
        std::process::exit(1);
    }
}
