terraform import ssoplane_group.sso_admins sso-admins
