data "ssoplane_sso_settings" "okta" {
  provider_name = "okta"
}

output "okta_enabled" {
  value = data.ssoplane_sso_settings.okta.saml_settings.enabled
}
