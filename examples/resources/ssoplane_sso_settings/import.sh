# Import by provider name; the plan afterwards is empty when secrets use the
# write-only attributes (see the docs for the sensitive-attribute caveat).
terraform import ssoplane_sso_settings.okta okta
