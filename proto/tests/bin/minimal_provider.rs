//! `terraform-provider-minimal`: a test provider with one resource,
//! `minimal_thing { name = string (required), id = string (computed) }`,
//! used to prove handshake, mTLS, schema, the cty codec and the
//! [`framework`](ssoplane_proto::framework) dispatch against the real
//! terraform CLI. Run with `--debug` for reattach mode.

use ssoplane_proto::cty::{Type, Value};
use ssoplane_proto::framework::{
    Applied, ApplyRequest, Diags, Framework, PlanRequest, Planned, ProviderDef, Registry, Resource,
};
use ssoplane_proto::tfplugin6;
use ssoplane_proto::{serve, ServeOptions};

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
impl ProviderDef for Minimal {
    type Context = ();
    fn schema(&self) -> tfplugin6::Schema {
        schema(vec![])
    }
    async fn configure(&self, _: &Value) -> Result<(), Diags> {
        Ok(())
    }
}

/// `minimal_thing`: the id is `thing-<name>`, known after apply.
struct Thing;

#[tonic::async_trait]
impl Resource<()> for Thing {
    fn type_name(&self) -> &'static str {
        "minimal_thing"
    }
    fn schema(&self) -> tfplugin6::Schema {
        tracing::debug!("schema requested");
        schema(vec![attr("id", false, true), attr("name", true, false)])
    }
    async fn plan(&self, _: Option<&()>, req: PlanRequest<'_>) -> Result<Planned, Diags> {
        let state = if req.prior.is_null() {
            with_attr(req.proposed.clone(), "id", Value::unknown())
        } else {
            req.proposed.clone()
        };
        Ok(Planned {
            state,
            requires_replace: Vec::new(),
            private: req.prior_private.to_vec(),
        })
    }
    async fn read(&self, _: &(), current: &Value) -> Result<Value, Diags> {
        Ok(current.clone())
    }
    async fn apply(&self, _: &(), req: ApplyRequest<'_>) -> Result<Applied, Diags> {
        let state = match req.planned.get_attr("id") {
            Some(Value::Unknown(_)) => {
                let name = req
                    .planned
                    .get_attr("name")
                    .and_then(Value::as_str)
                    .unwrap_or("unnamed")
                    .to_string();
                with_attr(
                    req.planned.clone(),
                    "id",
                    Value::string(format!("thing-{name}")),
                )
            }
            _ => req.planned.clone(),
        };
        Ok(Applied {
            state,
            private: req.planned_private.to_vec(),
        })
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
    let provider = Framework::new(Minimal, Registry::new().resource(Thing));
    if let Err(e) = serve(provider, opts).await {
        eprintln!("terraform-provider-minimal: {e}");
        std::process::exit(1);
    }
}
