//! `terraform-provider-ssoplane-twin`: the benchmark's same-schema peer.
//!
//! It registers, in the same `ssoplane_proto::framework` our provider uses,
//! one passthrough resource per resource type of
//! `terraform-provider-ssoplane` (same names, same schemas, same server
//! capabilities), so the gRPC surface, dispatch and state upgrade are ours.
//! A passthrough resource does the least the protocol allows: validation
//! finds nothing, `ReadResource` returns the current state and
//! `PlanResourceChange` the proposed new state without decoding them. A
//! no-change plan of the same configuration and state therefore costs
//! Terraform exactly what ours does, minus our provider's own work, which
//! is what `terraform_plan` uses it to separate.
//!
//! Like ours, it builds the schemas on the first RPC, not before the
//! handshake. It cannot create anything: the bench copies a state applied
//! by the real provider (with this provider's address) next to the same
//! configuration.

use std::sync::Arc;

use ssoplane_proto::cty::Value;
use ssoplane_proto::framework::{
    error, Applied, ApplyRequest, DataSource, Diags, Framework, PlanRequest, Planned, ProviderDef,
    Registry, Resource,
};
use ssoplane_proto::tfplugin6;
use terraform_provider_ssoplane::config::{provider_schema, Configured};
use terraform_provider_ssoplane::provider::registry;

/// Source address the bench's CLI config overrides.
const ADDRESS: &str = "registry.terraform.io/ssoplane/ssoplane-twin";

struct Twin;

#[ssoplane_proto::tonic::async_trait]
impl ProviderDef for Twin {
    type Context = ();
    fn schema(&self) -> tfplugin6::Schema {
        provider_schema()
    }
    async fn configure(&self, _: &Value) -> Result<(), Diags> {
        Ok(())
    }
}

/// One of our resource types, under its name and schema, doing nothing.
struct Echo(Arc<dyn Resource<Configured>>);

/// One of our data source types, likewise.
struct EchoData(Arc<dyn DataSource<Configured>>);

fn cannot() -> Diags {
    vec![error(
        "The twin cannot change anything",
        "terraform-provider-ssoplane-twin only plans states applied by terraform-provider-ssoplane.",
        None,
    )]
}

#[ssoplane_proto::tonic::async_trait]
impl Resource<()> for Echo {
    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }
    fn schema(&self) -> tfplugin6::Schema {
        self.0.schema()
    }
    fn passthrough(&self) -> bool {
        true
    }
    async fn plan(&self, _: Option<&()>, req: PlanRequest<'_>) -> Result<Planned, Diags> {
        Ok(Planned {
            state: req.proposed.clone(),
            requires_replace: Vec::new(),
            private: req.prior_private.to_vec(),
        })
    }
    async fn read(&self, _: &(), current: &Value) -> Result<Value, Diags> {
        Ok(current.clone())
    }
    async fn apply(&self, _: &(), _: ApplyRequest<'_>) -> Result<Applied, Diags> {
        Err(cannot())
    }
}

#[ssoplane_proto::tonic::async_trait]
impl DataSource<()> for EchoData {
    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }
    fn schema(&self) -> tfplugin6::Schema {
        self.0.schema()
    }
    async fn read(&self, _: &(), _: &Value) -> Result<Value, Diags> {
        Err(cannot())
    }
}

#[tokio::main]
async fn main() {
    let ours = registry();
    let mut twin = Registry::new();
    for r in ours.resources() {
        twin = twin.resource(Echo(r.clone()));
    }
    for d in ours.data_sources() {
        twin = twin.data_source(EchoData(d.clone()));
    }
    let opts = ssoplane_proto::ServeOptions {
        provider_address: ADDRESS.into(),
        log_module: "provider.ssoplane-twin".into(),
        ..Default::default()
    };
    if let Err(e) = ssoplane_proto::serve(Framework::new(Twin, twin), opts).await {
        eprintln!("terraform-provider-ssoplane-twin: {e}");
        std::process::exit(1);
    }
}
