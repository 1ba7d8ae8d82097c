# Entra ID (Azure AD) enterprise application and ssoplane wired together in
# one apply: ssoplane's SP URLs are known at plan time, Entra's federation
# metadata URL feeds ssoplane. Not run by the tests (needs an Entra tenant).
terraform {
  required_providers {
    ssoplane = {
      source = "ssoplane/ssoplane"
    }
    azuread = {
      source  = "hashicorp/azuread"
      version = "~> 3.0"
    }
  }
}

provider "ssoplane" {}
provider "azuread" {}

data "azuread_client_config" "current" {}

data "ssoplane_sp_metadata" "entra" {
  provider_name = "entra"
}

resource "azuread_application" "ssoplane" {
  display_name    = "ssoplane"
  identifier_uris = [data.ssoplane_sp_metadata.entra.entity_id]
  owners          = [data.azuread_client_config.current.object_id]

  web {
    redirect_uris = [data.ssoplane_sp_metadata.entra.acs_url]
    logout_url    = data.ssoplane_sp_metadata.entra.slo_url
  }

  group_membership_claims = ["SecurityGroup"]
}

resource "azuread_service_principal" "ssoplane" {
  client_id                     = azuread_application.ssoplane.client_id
  preferred_single_sign_on_mode = "saml"
  login_url                     = data.ssoplane_sp_metadata.entra.login_url
}

resource "ssoplane_sso_settings" "entra" {
  provider_name = "entra"

  saml_settings {
    enabled          = true
    name             = "Microsoft Entra ID"
    idp_metadata_url = "https://login.microsoftonline.com/${data.azuread_client_config.current.tenant_id}/federationmetadata/2007-06/federationmetadata.xml?appid=${azuread_application.ssoplane.client_id}"

    assertion_attribute_email  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    assertion_attribute_name   = "http://schemas.microsoft.com/identity/claims/displayname"
    assertion_attribute_groups = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
  }

  depends_on = [azuread_service_principal.ssoplane]
}
