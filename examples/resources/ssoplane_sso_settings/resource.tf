# Okta: everything about the IdP comes from its metadata URL.
resource "ssoplane_sso_settings" "okta" {
  provider_name = "okta"

  saml_settings {
    enabled                    = true
    name                       = "Okta"
    idp_metadata_url           = "https://example.okta.com/app/abc123/sso/saml/metadata"
    assertion_attribute_email  = "email"
    assertion_attribute_groups = "groups"
    allowed_groups             = ["engineering", "support"]
    admin_groups               = ["sso-admins"]
  }
}

# ADFS / generic SAML IdP without metadata: endpoints and certificates by hand,
# signed requests with a key that never reaches the state (Terraform >= 1.11).
resource "ssoplane_sso_settings" "adfs" {
  provider_name = "adfs"

  saml_settings {
    enabled          = true
    name             = "Corporate ADFS"
    idp_entity_id    = "http://adfs.example.com/adfs/services/trust"
    idp_sso_url      = "https://adfs.example.com/adfs/ls/"
    idp_certificates = [file("${path.module}/adfs-signing.pem")]
    binding          = "HTTP-POST"

    sign_requests          = true
    certificate            = file("${path.module}/sp.crt")
    private_key_wo         = file("${path.module}/sp.key")
    private_key_wo_version = 1 # bump to send a rotated key

    assertion_attribute_login = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
    assertion_attribute_email = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
  }
}
