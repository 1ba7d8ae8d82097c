terraform {
  required_providers {
    ssoplane = {
      source = "ssoplane/ssoplane"
    }
  }
}

# url and token may also come from SSOPLANE_URL / SSOPLANE_TOKEN.
# CI that only plans (drift detection) can use a reader token.
provider "ssoplane" {
  url   = "https://sso.example.com"
  token = var.ssoplane_token
}

variable "ssoplane_token" {
  type      = string
  sensitive = true
}
