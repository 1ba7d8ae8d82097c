resource "ssoplane_group" "sso_admins" {
  name        = "sso-admins"
  description = "May administer ssoplane"
}
