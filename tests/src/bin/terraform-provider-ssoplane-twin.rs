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
//! It cannot create anything: the bench copies a state applied by the real
//! provider (with this provider's address) next to the same configuration.

use ssoplane_proto::cty::Value;
use ssoplane_proto::framework::{
    error, Applied, ApplyRequest, DataSource, Diags, Framework, PlanRequest, Planned, ProviderDef,
    Registry, Resource,
};
use ssoplane_proto::tfplugin6;
use terraform_provider_ssoplane::provider::schemas;

/// Source address the bench's CLI config overrides.
const ADDRESS: &str = "registry.terraform.io/ssoplane/ssoplane-twin";

struct Twin(tfplugin6::Schema);

#[ssoplane_proto::tonic::async_trait]
impl ProviderDef for Twin {
    type Context = ();
    fn schema(&self) -> tfplugin6::Schema {
        self.0.clone()
    }
    async fn configure(&self, _: &Value) -> Result<(), Diags> {
        Ok(())
    }
}

/// One of our types, under its name and schema, doing nothing.
struct Echo(&'static str, tfplugin6::Schema);

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
        self.0
    }
    fn schema(&self) -> tfplugin6::Schema {
        self.1.clone()
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
impl DataSource<()> for Echo {
    fn type_name(&self) -> &'static str {
        self.0
    }
    fn schema(&self) -> tfplugin6::Schema {
        self.1.clone()
    }
    async fn read(&self, _: &(), _: &Value) -> Result<Value, Diags> {
        Err(cannot())
    }
}

#[tokio::main]
async fn main() {
    let ours = schemas();
    let mut registry = Registry::new();
    for (name, schema) in ours.resources {
        registry = registry.resource(Echo(name, schema));
    }
    for (name, schema) in ours.data_sources {
        registry = registry.data_source(Echo(name, schema));
    }
    let opts = ssoplane_proto::ServeOptions {
        provider_address: ADDRESS.into(),
        log_module: "provider.ssoplane-twin".into(),
        ..Default::default()
    };
    if let Err(e) = ssoplane_proto::serve(Framework::new(Twin(ours.provider), registry), opts).await
    {
        eprintln!("terraform-provider-ssoplane-twin: {e}");
        std::process::exit(1);
    }
}
