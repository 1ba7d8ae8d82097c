terraform {
  required_providers {
    ssoplane = {
      source  = "ssoplane/ssoplane"
      version = "~> 0.1"
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
