locals {
  # The entity ID the settings will use; the IdP must know it on the first apply.
  entra_entity_id = "urn:ssoplane:entra"
}

data "ssoplane_sp_metadata" "entra" {
  provider_name = "entra"
  entity_id     = local.entra_entity_id
}

resource "ssoplane_sso_settings" "entra" {
  provider_name = "entra"
  saml_settings {
    entity_id = local.entra_entity_id
  }
}

output "identifier" {
  value = data.ssoplane_sp_metadata.entra.entity_id
}

output "reply_url" {
  value = data.ssoplane_sp_metadata.entra.acs_url
}
