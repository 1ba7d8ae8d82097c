data "ssoplane_sp_metadata" "entra" {
  provider_name = "entra"
}

output "reply_url" {
  value = data.ssoplane_sp_metadata.entra.acs_url
}
